package shrink

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mscli/mscli/plan"
)

// culprits is a deterministic oracle: a candidate fails when it keeps every fault of
// one of the sets.
func culprits(tests *int, sets ...[]int) oracle {
	return func(_ context.Context, c Candidate) (bool, error) {
		*tests++
		for _, set := range sets {
			all := true
			for _, x := range set {
				all = all && slices.Contains(c.Keep, x)
			}
			if all {
				return true, nil
			}
		}
		return false, nil
	}
}

func TestDDMin(t *testing.T) {
	cases := []struct {
		name     string
		n        int
		sets     [][]int
		want     []int
		maxTests int
	}{
		{"one culprit of ten", 10, [][]int{{6}}, []int{6}, 8},
		{"a pair far apart", 10, [][]int{{2, 7}}, []int{2, 7}, 30},
		{"fails without faults", 10, [][]int{{}}, []int{}, 1},
		{"one of two alternatives", 8, [][]int{{1}, {5}}, []int{1}, 6},
		{"all needed", 4, [][]int{{0, 1, 2, 3}}, []int{0, 1, 2, 3}, 14},
		{"one fault", 1, [][]int{{0}}, []int{0}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tests := 0
			s := &search{n: c.n, windows: make([]bool, c.n), test: culprits(&tests, c.sets...)}
			got, err := s.ddmin(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
				t.Fatalf("ddmin = %v, want %v", got, c.want)
			}
			t.Logf("%d tests", tests)
			if tests > c.maxTests {
				t.Errorf("%d tests, want at most %d", tests, c.maxTests)
			}
		})
	}
}

// A fault that needs another (a wipe and the snapshot it restores) is never tried
// without it.
func TestDDMinKeepsWhatAFaultRequires(t *testing.T) {
	tests := 0
	base := culprits(&tests, []int{5})
	s := &search{n: 8, windows: make([]bool, 8), closeFn: func(set []int) []int {
		if slices.Contains(set, 5) && !slices.Contains(set, 3) {
			set = append(slices.Clone(set), 3)
			slices.Sort(set)
		}
		return set
	}}
	s.test = func(ctx context.Context, c Candidate) (bool, error) {
		if slices.Contains(c.Keep, 5) && !slices.Contains(c.Keep, 3) {
			t.Fatalf("tried %v: 5 without 3", c.Keep)
		}
		return base(ctx, c)
	}
	got, err := s.ddmin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []int{3, 5}) {
		t.Fatalf("ddmin = %v, want [3 5]", got)
	}
}

func TestShortenWindows(t *testing.T) {
	all := []plan.Fault{
		{At: plan.Duration(3 * time.Second), For: plan.Duration(4 * time.Second), Kind: "latency"},
		{At: plan.Duration(5 * time.Second), Kind: "kill"},
		{At: plan.Duration(9 * time.Second), For: plan.Duration(3 * time.Second), Kind: "partition"},
	}
	var tried []map[int]plan.Duration
	s := &search{n: 3, windows: []bool{true, false, true}, minFor: plan.Duration(500 * time.Millisecond)}
	s.test = func(_ context.Context, c Candidate) (bool, error) {
		tried = append(tried, c.Short)
		f := c.Faults(all)
		// Fails while the latency lasts 1s or more; the partition does not matter.
		return f[0].For >= plan.Duration(time.Second), nil
	}
	short, err := s.shorten(context.Background(), []int{0, 1, 2}, all)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]plan.Duration{0: plan.Duration(time.Second), 2: plan.Duration(750 * time.Millisecond)}
	if !reflect.DeepEqual(short, want) {
		t.Fatalf("shortened %v, want %v", short, want)
	}
	// 4s→2s→1s→500ms (passes: stop); 3s→1.5s→750ms→380ms is below the floor.
	if len(tried) != 5 {
		t.Errorf("%d candidates tried, want 5: %v", len(tried), tried)
	}
	for _, c := range tried {
		for _, d := range c {
			if d < s.minFor {
				t.Errorf("tried a window of %s, under the floor", d)
			}
		}
	}
}

func TestSplit(t *testing.T) {
	got := split([]int{0, 1, 2, 3, 4}, 2)
	if !reflect.DeepEqual(got, [][]int{{0, 1}, {2, 3, 4}}) {
		t.Errorf("split = %v", got)
	}
	if got := split([]int{0, 1, 2}, 3); len(got) != 3 || len(got[0]) != 1 {
		t.Errorf("split = %v", got)
	}
}

func TestNeed(t *testing.T) {
	for _, c := range []struct {
		rate float64
		n    int
		want int
	}{{0.8, 3, 3}, {0.8, 5, 4}, {0.5, 4, 2}, {1, 1, 1}, {0.01, 3, 1}, {0.6, 5, 3}} {
		if got := need(c.rate, c.n); got != c.want {
			t.Errorf("need(%v, %d) = %d, want %d", c.rate, c.n, got, c.want)
		}
	}
}
