package shrink

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/mscli/mscli/plan"
)

// Candidate is a fault timeline to try: some of the original plan's faults (their
// indexes in its timeline, ascending), each at its own start, and the windows the
// window pass shortened.
type Candidate struct {
	Keep  []int
	Short map[int]plan.Duration // index → its shortened For
}

// key names a candidate for the cache: the same faults and windows are one candidate.
func (c Candidate) key() string {
	var b strings.Builder
	for _, i := range c.Keep {
		fmt.Fprintf(&b, "%d", i)
		if d, ok := c.Short[i]; ok {
			fmt.Fprintf(&b, "/%d", int64(d))
		}
		b.WriteByte(',')
	}
	return b.String()
}

// Faults are the candidate's faults, taken from the original timeline.
func (c Candidate) Faults(all []plan.Fault) []plan.Fault {
	out := make([]plan.Fault, 0, len(c.Keep))
	for _, i := range c.Keep {
		f := all[i]
		if d, ok := c.Short[i]; ok {
			f.For = d
		}
		out = append(out, f)
	}
	return out
}

// errBudget stops the search: the time is up (Options.Budget).
var errBudget = errors.New("out of budget")

// oracle says whether a candidate still fails: the judge's runs, or a test's fake.
type oracle func(ctx context.Context, c Candidate) (bool, error)

// search is delta debugging over a fault timeline: ddmin (Zeller and Hildebrandt,
// "Simplifying and Isolating Failure-Inducing Input", 2002), then the window pass. The
// state it keeps is for the estimate of what is left (left).
type search struct {
	n       int    // faults in the original timeline
	windows []bool // which of them last a while
	closeFn func([]int) []int
	test    oracle
	minFor  plan.Duration
	cur     []int  // the smallest failing set so far
	gran    int    // ddmin's granularity
	roundOn int    // candidates tried in this round
	phase   string // "ddmin", "window"
	winLeft int    // windows the window pass has still to try
}

// ddmin returns the smallest failing subset of the whole timeline it finds, every
// subset of which, split at its granularity, passes (1-minimal when the oracle is
// not noisy): the empty timeline first (a bug that fails without faults shrinks to
// none), then subsets and their complements at doubling granularity. The whole
// timeline is taken to fail (the original run did). Out of budget, it returns the
// smallest failing set found so far with errBudget.
func (s *search) ddmin(ctx context.Context) ([]int, error) {
	s.phase = "ddmin"
	s.cur = make([]int, s.n)
	for i := range s.n {
		s.cur[i] = i
	}
	s.gran = 2
	if fails, err := s.test(ctx, Candidate{Keep: s.closeSet(nil)}); err != nil {
		return s.cur, err
	} else if fails {
		s.cur = s.closeSet(nil)
		return s.cur, nil
	}
	for len(s.cur) >= 2 {
		parts := split(s.cur, s.gran)
		s.roundOn = 0
		// Subsets first, the biggest cut (granularity back to 2); then complements, each
		// subset's removal alone (granularity one less).
		reduced, err := s.tryEach(ctx, parts, func(p []int) []int { return p }, 2)
		if err == nil && !reduced && s.gran > 2 { // at 2, the complements are the subsets
			reduced, err = s.tryEach(ctx, parts, func(p []int) []int { return minus(s.cur, p) }, max(s.gran-1, 2))
		}
		if err != nil {
			return s.cur, err
		}
		if reduced {
			continue
		}
		if s.gran >= len(s.cur) {
			break
		}
		s.gran = min(2*s.gran, len(s.cur))
	}
	return s.cur, nil
}

// tryEach tests the candidate made of each part (closed under what faults require);
// the first that fails becomes the current set, at granularity gran.
func (s *search) tryEach(ctx context.Context, parts [][]int, of func([]int) []int, gran int) (bool, error) {
	for _, p := range parts {
		c := s.closeSet(of(p))
		if len(c) >= len(s.cur) {
			continue // no smaller than what fails already
		}
		s.roundOn++
		fails, err := s.test(ctx, Candidate{Keep: c})
		if err != nil {
			return false, err
		}
		if fails {
			s.cur, s.gran = c, gran
			return true, nil
		}
	}
	return false, nil
}

// shorten is the window pass: each kept fault that lasts a while has its window
// halved, keeping its start, while the timeline still fails and the window stays at
// least minFor. It returns the windows it shortened (with errBudget when the time ran
// out: those it had shortened by then).
func (s *search) shorten(ctx context.Context, keep []int, all []plan.Fault) (map[int]plan.Duration, error) {
	s.phase = "window"
	short := map[int]plan.Duration{}
	s.winLeft = 0
	for _, i := range keep {
		if all[i].For > 0 {
			s.winLeft++
		}
	}
	for _, i := range keep {
		if all[i].For <= 0 {
			continue
		}
		for d := all[i].For; ; {
			half := plan.Duration(time.Duration(d / 2).Round(10 * time.Millisecond))
			if half < s.minFor || half <= 0 {
				break
			}
			try := maps.Clone(short)
			try[i] = half
			fails, err := s.test(ctx, Candidate{Keep: keep, Short: try})
			if err != nil {
				return short, err
			}
			if !fails {
				break
			}
			short, d = try, half
		}
		s.winLeft--
	}
	return short, nil
}

// left estimates how many candidates the search has still to try after the one just
// judged (c; fails says how it went): the rest of ddmin's round, about two per
// halving of what is left, and two per window of it for the window pass.
func (s *search) left(c Candidate, fails bool) int {
	cur, gran, on := s.cur, s.gran, s.roundOn
	if fails && s.phase == "ddmin" {
		cur, gran, on = c.Keep, 2, 0
	}
	windows := 0
	for _, i := range cur {
		if s.windows[i] {
			windows++
		}
	}
	switch s.phase {
	case "window":
		return 2 * s.winLeft
	case "ddmin":
		if len(cur) <= 1 {
			return 2 * windows
		}
		round := gran
		if gran > 2 {
			round *= 2 // complements too
		}
		return max(round-on, 0) + 2*(bits.Len(uint(len(cur)-1))-1) + 2*windows
	}
	return s.n + 2*windows
}

func (s *search) closeSet(set []int) []int {
	if s.closeFn == nil {
		return slices.Clone(set)
	}
	return s.closeFn(set)
}

// split cuts c into n parts of (nearly) equal size, in order.
func split(c []int, n int) [][]int {
	out := make([][]int, 0, n)
	start := 0
	for i := range n {
		end := start + (len(c)-start)/(n-i)
		out = append(out, c[start:end])
		start = end
	}
	return out
}

// minus is c without the elements of p.
func minus(c, p []int) []int {
	out := make([]int, 0, len(c))
	for _, x := range c {
		if !slices.Contains(p, x) {
			out = append(out, x)
		}
	}
	return out
}
