package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/invariants"
)

// baselineRun is a clean run: every invariant holds, every fault applied and healed.
func baselineRun() *Run {
	return &Run{
		Scenario: "bank-idempotency", Seed: 1, Testbed: "local", Dir: "runs/base",
		Ops:      OpCounts{Rate: 200, P50: 4 * time.Millisecond, P99: 40 * time.Millisecond},
		Faults:   FaultCounts{Planned: 4, Applied: 4, Healed: 4},
		Converge: &Converge{Converged: true, After: time.Second, Polls: 10},
		Results: []invariants.Result{
			{Name: "idempotent", Verdict: invariants.Pass, Summary: "400 operations checked", Checked: 400},
			{Name: "durable", Verdict: invariants.Pass, Summary: "400 operations checked", Checked: 400},
			{Name: "converges", Verdict: invariants.Pass, Summary: "converged"},
		},
		Verdict: invariants.Pass,
	}
}

// currentRun is the baseline again, changed by edit.
func currentRun(edit func(r *Run)) *Run {
	r := baselineRun()
	r.Seed, r.Dir = 2, "runs/now"
	r.Results = append([]invariants.Result(nil), r.Results...)
	c := *r.Converge
	r.Converge = &c
	edit(r)
	return r
}

func figure(t *testing.T, c *Comparison, name string) Figure {
	t.Helper()
	for _, f := range c.Figures {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no figure %q in %+v", name, c.Figures)
	return Figure{}
}

func TestCompareWithinTolerancePasses(t *testing.T) {
	cur := currentRun(func(r *Run) {
		r.Ops.Rate = 170                          // -15%
		r.Ops.P50 = 4600 * time.Microsecond       // +15%
		r.Ops.P99 = 48 * time.Millisecond         // +20%: at the tolerance, not beyond
		r.Converge.After = 900 * time.Millisecond // better
		r.Ops.Fail = 7                            // worse, ungated
	})
	c := Compare(baselineRun(), cur, DefaultTolerance)
	if c.Regressed() {
		t.Fatalf("within 20%%: breaches %v", c.Breaches)
	}
	if f := figure(t, c, "ops/s"); f.Change != "-15.0%" || f.Trend != TrendWorse || f.Breach {
		t.Errorf("ops/s: %+v", f)
	}
	if f := figure(t, c, "p99"); f.Change != "+20.0%" || f.Trend != TrendWorse || f.Breach || f.CurrentText != "48ms" {
		t.Errorf("p99: %+v", f)
	}
	if f := figure(t, c, "time to converge"); f.Trend != TrendBetter || f.Change != "-10.0%" {
		t.Errorf("converge: %+v", f)
	}
	if f := figure(t, c, "fail"); f.Change != "+7" || f.Trend != TrendWorse || f.Gated || f.Breach {
		t.Errorf("fail count from zero: %+v", f)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("same scenario and testbed: warnings %v", c.Warnings)
	}
	var b bytes.Buffer
	if err := WriteComparison(&b, c, "text"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "no regression beyond the tolerance of 20%") {
		t.Errorf("text:\n%s", b.String())
	}
}

func TestCompareDetectsRegressions(t *testing.T) {
	cur := currentRun(func(r *Run) {
		r.Ops.Rate = 150                  // -25%
		r.Ops.P99 = 60 * time.Millisecond // +50%
		r.Converge.After = 1500 * time.Millisecond
		r.Testbed = "docker"
	})
	c := Compare(baselineRun(), cur, DefaultTolerance)
	want := []string{"ops/s -25.0% (200.0 → 150.0)", "p99 +50.0% (40ms → 60ms)", "time to converge +50.0% (1s → 1.5s)"}
	if strings.Join(c.Breaches, "\n") != strings.Join(want, "\n") {
		t.Errorf("breaches:\n%s\nwant:\n%s", strings.Join(c.Breaches, "\n"), strings.Join(want, "\n"))
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "different testbeds (local, docker)") {
		t.Errorf("warnings: %v", c.Warnings)
	}
	// A looser tolerance lets the same runs through.
	if c := Compare(baselineRun(), cur, 0.6); c.Regressed() {
		t.Errorf("tolerance 60%%: %v", c.Breaches)
	}

	// Never converging where the baseline did is a regression, whatever the tolerance.
	cur = currentRun(func(r *Run) { r.Converge.Converged = false })
	c = Compare(baselineRun(), cur, 10)
	if f := figure(t, c, "time to converge"); !f.Breach || f.CurrentText != "did not converge" || len(c.Breaches) != 1 {
		t.Errorf("not converged: %+v, breaches %v", f, c.Breaches)
	}
}

func TestCompareInvariantFlippingFails(t *testing.T) {
	cur := currentRun(func(r *Run) {
		r.Results[1] = invariants.Result{Name: "durable", Verdict: invariants.Fail, Summary: "3 of 400 operations violate it", Violations: 3}
		r.Results[2] = invariants.Result{Name: "converges", Verdict: invariants.Unknown, Summary: "no read model observed"}
		r.Verdict = invariants.Fail
	})
	c := Compare(baselineRun(), cur, DefaultTolerance)
	want := []string{"durable: pass → fail (3 violations)", "converges: pass → unknown", "verdict pass → fail"}
	if strings.Join(c.Breaches, "\n") != strings.Join(want, "\n") {
		t.Errorf("breaches:\n%s\nwant:\n%s", strings.Join(c.Breaches, "\n"), strings.Join(want, "\n"))
	}
	if ch := c.Checks[0]; ch.Name != "idempotent" || ch.Trend != "" || ch.Breach != "" {
		t.Errorf("idempotent held in both: %+v", ch)
	}

	var b bytes.Buffer
	if err := WriteComparison(&b, c, "text"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"baseline  bank-idempotency seed 1 on local  runs/base",
		"  durable           pass              fail (3)                    REGRESSED",
		"  verdict           pass              fail                        REGRESSED",
		"REGRESSED beyond the tolerance of 20%: durable: pass → fail (3 violations); converges: pass → unknown; verdict pass → fail",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}

	b.Reset()
	if err := WriteComparison(&b, c, "markdown"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## ❌ regressed · bank-idempotency seed 2 on local vs baseline (tolerance 20%)",
		"- durable: pass → fail (3 violations)", "| durable | pass | fail (3) | ❌ regressed | 3 of 400 operations violate it |",
		"| p50 | 4ms | 4ms |  |  |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}

	b.Reset()
	if err := WriteComparison(&b, c, "json"); err != nil {
		t.Fatal(err)
	}
	var back Comparison
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Breaches) != 3 || back.Checks[1].CurrentVerdict != invariants.Fail || back.Verdict.Current != invariants.Fail {
		t.Errorf("json: %s", b.String())
	}
	if err := WriteComparison(&b, c, "yaml"); err == nil {
		t.Error("an unknown format must be refused")
	}
}

// More violations than the baseline is a regression even when both fail; a check
// the baseline passed and the current run lacks is one too; one checked only now is
// shown and not gated on its own.
func TestCompareViolationsAndMissingChecks(t *testing.T) {
	base := currentRun(func(r *Run) {
		r.Results[0] = invariants.Result{Name: "idempotent", Verdict: invariants.Fail, Violations: 2}
		r.Verdict = invariants.Fail
	})
	cur := currentRun(func(r *Run) {
		r.Results = []invariants.Result{
			{Name: "idempotent", Verdict: invariants.Fail, Violations: 5},
			{Name: "durable", Verdict: invariants.Pass},
			{Name: "threshold p99", Verdict: invariants.Fail, Violations: 1},
		}
		r.Verdict = invariants.Fail
		r.Scenario = "db-loss-restore"
	})
	c := Compare(base, cur, DefaultTolerance)
	want := []string{"idempotent: 2 → 5 violations", "converges: passed in the baseline, not checked now"}
	if strings.Join(c.Breaches, "\n") != strings.Join(want, "\n") {
		t.Errorf("breaches:\n%s\nwant:\n%s", strings.Join(c.Breaches, "\n"), strings.Join(want, "\n"))
	}
	if last := c.Checks[len(c.Checks)-1]; last.Name != "threshold p99" || last.BaselineVerdict != "" || last.Breach != "" {
		t.Errorf("a check of the current run only: %+v", last)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "different scenarios (bank-idempotency, db-loss-restore)") {
		t.Errorf("warnings: %v", c.Warnings)
	}

	// Fewer violations, or a fail that now passes, is better and passes the gate.
	c = Compare(cur, base, DefaultTolerance)
	if c.Regressed() && strings.Contains(strings.Join(c.Breaches, ";"), "idempotent") {
		t.Errorf("fewer violations is no regression: %v", c.Breaches)
	}
	if c.Checks[0].Trend != TrendBetter {
		t.Errorf("idempotent 5 → 2: %+v", c.Checks[0])
	}
}

// A run whose faults failed is unknown: worse than a passing baseline. Faults applied
// counts those applied and healed, as the verdict does: one that failed to apply and
// one that failed to heal leave 2 of 4.
func TestCompareFaultFailuresWorsenTheVerdict(t *testing.T) {
	cur := currentRun(func(r *Run) {
		r.Faults.Applied, r.Faults.Healed = 3, 2
		r.FaultFailures = []FaultFailure{{Index: 0, Fault: "kill", Target: "bank/0", Phase: PhaseApply, Error: "no such process"},
			{Index: 2, Fault: "partition", Target: "bank->broker", Phase: PhaseHeal, Error: "proxy gone"}}
		r.Verdict = invariants.Unknown
	})
	c := Compare(baselineRun(), cur, DefaultTolerance)
	if f := figure(t, c, "faults applied"); f.BaselineText != "4/4" || f.CurrentText != "2/4" || f.Trend != TrendWorse || f.Breach {
		t.Errorf("faults applied: %+v", f)
	}
	if !c.Verdict.Breach || strings.Join(c.Breaches, ";") != "verdict pass → unknown" {
		t.Errorf("verdict: %+v, breaches %v", c.Verdict, c.Breaches)
	}
}

func TestParseTolerance(t *testing.T) {
	for in, want := range map[string]float64{"20%": 0.2, "7.5%": 0.075, "0%": 0, " 100% ": 1} {
		if got, err := ParseTolerance(in); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"20", "0.2", "-5%", "abc%", ""} {
		if _, err := ParseTolerance(in); err == nil {
			t.Errorf("%q must be refused", in)
		}
	}
}
