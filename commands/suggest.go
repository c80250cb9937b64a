package commands

import (
	"slices"
	"strings"
)

// closest returns up to n of names nearest to query by edit distance,
// nearest first, leaving out names too far off to be a typo.
func closest(query string, names []string, n int) []string {
	q := strings.ToLower(query)
	type candidate struct {
		name string
		dist int
	}
	var cands []candidate
	for _, name := range names {
		lower := strings.ToLower(name)
		dist := editDistance(q, lower)
		if strings.Contains(lower, q) {
			dist = min(dist, 1) // a longer name that contains the query is a good guess
		}
		if dist <= max(2, len([]rune(q))/3) && !slices.ContainsFunc(cands, func(c candidate) bool { return c.name == name }) {
			cands = append(cands, candidate{name, dist})
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return a.dist - b.dist })
	out := make([]string, 0, min(n, len(cands)))
	for _, c := range cands[:min(n, len(cands))] {
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// suggestionPrefix is what candidate names for a suggestion are searched by:
// the first two letters, so a typo after them still finds its name.
func suggestionPrefix(query string) string {
	r := []rune(query)
	return string(r[:min(len(r), 2)])
}
