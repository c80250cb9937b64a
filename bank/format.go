package bank

import (
	"math"
	"strconv"
	"strings"

	"pnwbot/pnw"
)

// Format writes an amount as the bank's messages show it: thousands
// grouped, cents only when there are any ("1,000", "12.50").
func Format(f float64) string {
	s := strconv.FormatInt(int64(f), 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if f != float64(int64(f)) {
		s += strconv.FormatFloat(f-float64(int64(f)), 'f', 2, 64)[1:]
	}
	return s
}

// Text lists the non-zero amounts: "$1,000 · 50 food", each signed when
// signed (a net total).
func Text(a pnw.Amounts, signed bool) string {
	var parts []string
	for r, v := range a {
		if v == 0 {
			continue
		}
		sign := ""
		if v < 0 {
			sign = "−"
		} else if signed {
			sign = "+"
		}
		if pnw.Resource(r) == pnw.Money {
			parts = append(parts, sign+"$"+Format(math.Abs(v)))
		} else {
			parts = append(parts, sign+Format(math.Abs(v))+" "+pnw.Resource(r).String())
		}
	}
	return strings.Join(parts, " · ")
}
