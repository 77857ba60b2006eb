package suite

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxSeeds bounds a sweep, so a typo ("1-10000") does not start a day of runs.
const MaxSeeds = 1000

// ParseSeeds reads a list of seeds and ranges, "1-5,8,10-12", in the order written,
// each seed once.
func ParseSeeds(s string) ([]int64, error) {
	var out []int64
	seen := map[int64]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("seeds %q: an empty item; write seeds and ranges such as 1-5,8", s)
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseInt(strings.TrimSpace(lo), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("seeds %q: %q is no seed; write seeds and ranges such as 1-5,8", s, part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseInt(strings.TrimSpace(hi), 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("seeds %q: %q is no range; write low-high, such as 1-20", s, part)
			}
		}
		if b-a >= MaxSeeds {
			return nil, fmt.Errorf("seeds %q: more than %d seeds", s, MaxSeeds)
		}
		for x := a; ; x++ { // to b included, with no overflow past the largest seed
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
			if x == b {
				break
			}
		}
		if len(out) > MaxSeeds {
			return nil, fmt.Errorf("seeds %q: more than %d seeds", s, MaxSeeds)
		}
	}
	return out, nil
}

// DrawSeeds draws n distinct seeds in [1, 1e6) from r (a sweep of --runs N, whose seeds
// are then printed so that any one can be run again).
func DrawSeeds(r *rand.Rand, n int) ([]int64, error) {
	if n < 1 || n > MaxSeeds {
		return nil, fmt.Errorf("runs %d: want 1 to %d", n, MaxSeeds)
	}
	seen := map[int64]bool{}
	out := make([]int64, 0, n)
	for len(out) < n {
		s := 1 + r.Int64N(999_999)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out, nil
}

// NewDir creates a suite directory, <root>/<time>-suite-<tag>/, or the exact dir when
// one is given (it may exist: a CI job's fixed path).
func NewDir(root, exact string, now time.Time) (string, error) {
	if exact != "" {
		return exact, os.MkdirAll(exact, 0o755)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("create suite directory: %w", err)
	}
	for {
		dir := filepath.Join(root, fmt.Sprintf("%s-suite-%04x", now.UTC().Format("20060102T150405Z"), rand.IntN(0x10000)))
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("create suite directory: %w", err)
		}
	}
}
