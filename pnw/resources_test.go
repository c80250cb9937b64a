package pnw_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/pnw"
)

// TestBankrecAmounts: what SetAmounts writes on a bank record, Amounts
// reads back, resource by resource.
func TestBankrecAmounts(t *testing.T) {
	t.Parallel()
	var a pnw.Amounts
	for i, r := range pnw.Resources {
		a[r] = float64(i + 1)
	}
	var rec pnw.Bankrec
	rec.SetAmounts(a)
	require.Equal(t, a, rec.Amounts())
	require.Equal(t, 9.0, rec.Munitions, "each in its own field")
}
