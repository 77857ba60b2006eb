package reports

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/mscli/mscli/internal/stats"
	"github.com/mscli/mscli/invariants"
)

// CompareSuites compares two suites scenario by scenario, each as the median of its
// runs over their seeds (Median): one run against another varies too much for a gate
// on latency (docs/ci.md), the median of a sweep much less. A scenario of the baseline
// that the current suite did not run is a regression: the gate would pass on nothing.
func CompareSuites(baseline, current *Suite, tolerance float64) []*Comparison {
	var out []*Comparison
	for _, name := range baseline.Scenarios() {
		b := Median(baseline, name)
		if slices.Contains(current.Scenarios(), name) {
			c := Compare(b, Median(current, name), tolerance)
			c.Baseline.Seeds, c.Current.Seeds = seedsOf(baseline, name), seedsOf(current, name)
			out = append(out, c)
			continue
		}
		c := &Comparison{Baseline: idOf(b), Current: RunID{Scenario: name}, Tolerance: tolerance}
		c.Baseline.Seeds = seedsOf(baseline, name)
		c.Breaches = append(c.Breaches, name+": not in the current suite")
		out = append(out, c)
	}
	for _, name := range current.Scenarios() {
		if !slices.Contains(baseline.Scenarios(), name) {
			c := &Comparison{Baseline: RunID{Scenario: name}, Current: idOf(Median(current, name)), Tolerance: tolerance,
				Warnings: []string{name + ": not in the baseline suite, nothing to compare it with"}}
			c.Current.Seeds = seedsOf(current, name)
			out = append(out, c)
		}
	}
	return out
}

func seedsOf(s *Suite, scenario string) int {
	n := 0
	for _, r := range s.of(scenario) {
		if r.Run != nil {
			n++
		}
	}
	return n
}

// Median is a scenario's runs in a suite as one: the median of their ops/s, p50, p99
// and time to converge (nearest rank), their counts and faults summed, each check's
// worst verdict with its violations summed, and the worst verdict. A run that did not
// converge makes the whole not converged; a run that could not start or complete makes
// the whole partial, so it is never a pass.
func Median(s *Suite, scenario string) *Run {
	out := &Run{Scenario: scenario, Testbed: s.Testbed, Bugs: s.Bugs, Dir: s.Dir, Verdict: invariants.Pass}
	var rates []float64
	var p50s, p99s, afters []time.Duration
	converged, observed := true, false
	partial := 0
	for _, sr := range s.of(scenario) {
		r := sr.Run
		if r == nil {
			if sr.Skipped == "" {
				partial++
			}
			continue
		}
		if r.Partial() != "" {
			partial++
		}
		rates, p50s, p99s = append(rates, r.Ops.Rate), append(p50s, r.Ops.P50), append(p99s, r.Ops.P99)
		out.Ops.Invoked += r.Ops.Invoked
		out.Ops.Ok += r.Ops.Ok
		out.Ops.Fail += r.Ops.Fail
		out.Ops.Info += r.Ops.Info
		out.Faults.Planned += r.Faults.Planned
		out.Faults.Applied += r.Faults.Applied
		out.Faults.Healed += r.Faults.Healed
		out.Faults.Errors += r.Faults.Errors
		out.FaultFailures = append(out.FaultFailures, r.FaultFailures...)
		if c := r.Converge; c != nil {
			observed = true
			converged = converged && c.Converged
			if c.Converged {
				afters = append(afters, c.After)
			}
		}
		for _, res := range r.Results {
			i := slices.IndexFunc(out.Results, func(x invariants.Result) bool { return x.Name == res.Name })
			if i < 0 {
				out.Results = append(out.Results, invariants.Result{Name: res.Name, Verdict: invariants.Pass})
				i = len(out.Results) - 1
			}
			m := &out.Results[i]
			m.Verdict = invariants.Worst([]invariants.Result{*m, res})
			m.Violations += res.Violations
			m.Checked += res.Checked
		}
		out.Verdict = invariants.Worst([]invariants.Result{{Verdict: out.Verdict}, {Verdict: RunVerdict(r)}})
	}
	out.Ops.Rate, out.Ops.P50, out.Ops.P99 = median(rates), median(p50s), median(p99s)
	if observed {
		out.Converge = &Converge{Converged: converged, After: median(afters)}
	}
	if partial > 0 {
		out.Incomplete = fmt.Sprintf("%d of the scenario's runs could not complete", partial)
	}
	return out
}

func median[T cmp.Ordered](xs []T) T {
	var zero T
	if len(xs) == 0 {
		return zero
	}
	slices.Sort(xs)
	return stats.NearestRank(xs, 0.5)
}
