// Package stats holds the one latency percentile every summary of a run uses: the
// workload's, the result's, the timeline's and the live dashboard's. It imports nothing
// of the module.
package stats

import (
	"cmp"
	"math"
)

// NearestRank is the nearest-rank p-percentile (p in [0, 1]) of sorted, an ascending
// slice: its ⌈p·n⌉-th smallest element, the smallest for p = 0 and the largest for
// p = 1 (p is clamped to that range). It is the zero value for an empty slice.
func NearestRank[T cmp.Ordered](sorted []T, p float64) T {
	if len(sorted) == 0 {
		var zero T
		return zero
	}
	r := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(r, 0), len(sorted)-1)]
}
