package reports

import (
	"testing"
	"time"

	"github.com/mscli/mscli/invariants"
)

func TestMedian(t *testing.T) {
	run := func(seed int64, p99 time.Duration, v invariants.Verdict, violations int, converged bool) SuiteRun {
		r := &Run{Scenario: "s", Seed: seed, Ops: OpCounts{Rate: float64(100 + seed), P99: p99},
			Converge: &Converge{Converged: converged, After: time.Duration(seed) * time.Second},
			Results:  []invariants.Result{{Name: "durable", Verdict: v, Violations: violations}}}
		r.Verdict = Verdict(r.Results, nil)
		return SuiteRun{Scenario: "s", Seed: seed, Run: r}
	}
	s := &Suite{Runs: []SuiteRun{
		run(1, 10*time.Millisecond, invariants.Pass, 0, true),
		run(2, 30*time.Millisecond, invariants.Fail, 2, true),
		run(3, 20*time.Millisecond, invariants.Fail, 3, true),
		{Scenario: "s", Seed: 4, Skipped: "interrupted before it started"},
	}}
	m := Median(s, "s")
	if m.Ops.P99 != 20*time.Millisecond || m.Ops.Rate != 102 || m.Converge.After != 2*time.Second || !m.Converge.Converged {
		t.Errorf("median figures: %+v, converge %+v", m.Ops, m.Converge)
	}
	if m.Verdict != invariants.Fail || m.Results[0].Verdict != invariants.Fail || m.Results[0].Violations != 5 {
		t.Errorf("checks: verdict %s, %+v", m.Verdict, m.Results)
	}
	if m.Partial() != "" {
		t.Errorf("a skipped run made the median partial: %s", m.Partial())
	}
	s.Runs = append(s.Runs, run(5, time.Millisecond, invariants.Pass, 0, false), SuiteRun{Scenario: "s", Seed: 6, Error: "testbed: no docker"})
	m = Median(s, "s")
	if m.Converge.Converged || m.Partial() == "" || RunVerdict(m) == invariants.Pass {
		t.Errorf("a run that did not converge or complete: converge %+v, partial %q, verdict %s", m.Converge, m.Partial(), RunVerdict(m))
	}
}
