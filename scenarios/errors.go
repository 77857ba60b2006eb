package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a scenario, at a position in its file.
type Error struct {
	File string
	Line int // 1-based; 0 when the scenario was built in Go rather than loaded
	Col  int // 1-based; 0 when Line is
	// Path locates the problem in the scenario's structure ("faults[2].link"); it is what
	// Error prints when there is no position.
	Path string
	Msg  string
	// named: the problem is in a file the scenario names (its compose file), listed
	// after the scenario's own.
	named bool
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	file := e.File
	if file == "" {
		file = "scenario"
	}
	if e.Path != "" {
		return fmt.Sprintf("%s: %s: %s", file, e.Path, e.Msg)
	}
	return fmt.Sprintf("%s: %s", file, e.Msg)
}

// ErrorList is every problem found in one scenario. Loading reports them all at once
// rather than stopping at the first, so one edit can fix them all.
type ErrorList []*Error

// Error prints one problem per line, in file order.
func (l ErrorList) Error() string {
	s := slices.Clone(l)
	s.sort()
	lines := make([]string, len(s))
	for i, e := range s {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives errors.Is and errors.As access to each problem.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// err returns the list as an error, nil when it is empty, sorted by position.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	l.sort()
	return l
}

func (l ErrorList) sort() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		// The scenario's problems, then those of a file it names (its compose file).
		return cmp.Or(cmpBool(a.named, b.named), cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// suggest returns the candidate closest to word, or "" when none is close enough to be
// what the author meant: one edit for short words, two for longer ones (a swap of two
// neighbouring letters counts as one edit), so that "base" does not suggest "name".
func suggest(word string, candidates []string) string {
	limit := 2
	if len([]rune(word)) <= 4 {
		limit = 1
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(word), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// didYouMean formats a suggestion as a sentence tail, or "".
func didYouMean(word string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}

// oneOf lists candidates for a message, shortened when there are many.
func oneOf(candidates []string) string {
	const most = 10
	if len(candidates) > most {
		return strings.Join(candidates[:most], ", ") + fmt.Sprintf(", … (%d in all)", len(candidates))
	}
	return strings.Join(candidates, ", ")
}

// editDistance is the Levenshtein distance between two strings, by runes, with the swap
// of two neighbouring runes counted as one edit (optimal string alignment), the commonest
// typo.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
