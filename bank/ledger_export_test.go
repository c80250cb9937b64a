package bank_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/stretchr/testify/require"

	"pnwbot/bank"
)

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	records := []bank.Record{
		in(1, 0, money(5_000_000), `=HYPERLINK("http://evil","click"), "quoted" #deposit`),
		out(2, 1, steel(20), "+cmd|' /C calc'!A0"),
		out(3, 2, money(10), "-2+3 #grant"),
		adjust(4, 3, money(-40), "@SUM(A1:A9)"),
		in(5, 4, money(1), "plain, with a comma"),
	}
	acc := bank.Fold(bank.Rules{AllianceID: rose}, records)[alice]
	var buf bytes.Buffer
	require.NoError(t, bank.WriteCSV(&buf, acc.Entries))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err, "valid CSV whatever the notes hold")
	require.Len(t, rows, 6)
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	note := func(i int) string { return rows[i][col["note"]] }
	require.Equal(t, `'=HYPERLINK("http://evil","click"), "quoted" #deposit`, note(1), "a formula is text, commas and quotes survive")
	require.Equal(t, "'+cmd|' /C calc'!A0", note(2))
	require.Equal(t, "'-2+3 #grant", note(3))
	require.Equal(t, "'@SUM(A1:A9)", note(4))
	require.Equal(t, "plain, with a comma", note(5))
	require.Equal(t, "deposit", rows[1][col["effect"]])
	require.Equal(t, "#deposit", rows[1][col["tags"]])
	require.Equal(t, "5000000", rows[1][col["money"]])
	require.Equal(t, "grant", rows[3][col["effect"]])
	require.Equal(t, "0", rows[3][col["credit_money"]], "a grant is not debited")
	require.Equal(t, "-40", rows[4][col["credit_money"]], "numbers stay numbers")
	require.Equal(t, "adjustment", rows[4][col["kind"]])
	require.Empty(t, rows[4][col["game_id"]])
	require.Equal(t, "20", rows[2][col["steel"]])
	require.Equal(t, "-20", rows[2][col["credit_steel"]])
}
