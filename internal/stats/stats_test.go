package stats

import (
	"testing"
	"time"
)

func TestNearestRank(t *testing.T) {
	ten := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		name   string
		sorted []int
		p      float64
		want   int
	}{
		{"empty", nil, 0.5, 0},
		{"empty p=1", []int{}, 1, 0},
		{"one element p=0", []int{7}, 0, 7},
		{"one element p=0.5", []int{7}, 0.5, 7},
		{"one element p=1", []int{7}, 1, 7},
		{"p=0 is the smallest", ten, 0, 1},
		{"p=1 is the largest", ten, 1, 10},
		{"median of ten", ten, 0.5, 5},
		{"rank rounds up", ten, 0.51, 6},
		{"p99 of ten", ten, 0.99, 10},
		{"median of three", []int{1, 2, 3}, 0.5, 2},
		{"below 0 clamps", ten, -1, 1},
		{"above 1 clamps", ten, 2, 10},
	} {
		if got := NearestRank(tc.sorted, tc.p); got != tc.want {
			t.Errorf("%s: NearestRank(%v, %v) = %d, want %d", tc.name, tc.sorted, tc.p, got, tc.want)
		}
	}
}

// p99 of 100 values is the 99th, of 1000 the 990th: p·n that is a whole number picks
// that rank exactly, with no float rounding pushing it one further.
func TestNearestRankWholeRanks(t *testing.T) {
	for _, n := range []int{100, 200, 300, 1000, 12345, 1_000_000} {
		s := make([]time.Duration, n)
		for i := range s {
			s[i] = time.Duration(i + 1)
		}
		if got, want := NearestRank(s, 0.50), time.Duration((n+1)/2); got != want {
			t.Errorf("p50 of 1..%d = %d, want %d", n, got, want)
		}
		if n%100 == 0 {
			if got, want := NearestRank(s, 0.99), time.Duration(n*99/100); got != want {
				t.Errorf("p99 of 1..%d = %d, want %d", n, got, want)
			}
		}
	}
	u := []uint32{10, 20, 30}
	if got := NearestRank(u, 0.99); got != 30 {
		t.Errorf("p99 of %v = %d, want 30", u, got)
	}
}
