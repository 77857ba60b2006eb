package invariants_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
)

const ms = int64(time.Millisecond)

// thresholdRun is a small run of a 5 s plan: five operations of the workload (three
// ok, one fail, one info; two in flight during a partition from 0.9 s to 2 s), a
// fault that failed to apply at 3 s (never active), and a final read after the run,
// which no metric counts.
func thresholdRun() *invariants.Input {
	in := &invariants.Input{}
	op := func(proc int, f, id string, from, to int64, typ history.OpType) {
		in.Ops = append(in.Ops,
			history.Op{Time: from, Process: proc, Type: history.Invoke, F: f, Key: "acct-1", ID: id},
			history.Op{Time: to, Process: proc, Type: typ, F: f, Key: "acct-1", ID: id})
	}
	op(0, "deposit", "op-1", 0, 10*ms, history.Ok)            // 10ms
	op(1, "withdraw", "op-2", 100*ms, 120*ms, history.Ok)     // 20ms
	op(2, "withdraw", "op-3", 1000*ms, 1500*ms, history.Fail) // 500ms, during the partition
	op(3, "withdraw", "op-4", 1200*ms, 1500*ms, history.Info) // 300ms, during the partition
	op(4, history.FRead, "", 3000*ms, 3001*ms, history.Ok)    // 1ms, while a fault failed
	op(9, history.FRead, "", 6000*ms, 9000*ms, history.Ok)    // the final read: after the run
	in.Faults = []history.Fault{
		{Time: 900 * ms, Phase: history.Start, Fault: "partition", Target: "bank->broker", N: 0},
		{Time: 2000 * ms, Phase: history.Stop, Fault: "partition", Target: "bank->broker", N: 0},
		{Time: 3000 * ms, Phase: history.Start, Fault: "pause", Target: "broker", N: 1, Error: "cannot pause"},
		{Time: 3000 * ms, Phase: history.Stop, Fault: "pause", Target: "broker", N: 1},
	}
	return in
}

func facts() invariants.RunFacts {
	return invariants.RunFacts{Plan: &plan.Plan{Duration: plan.Duration(5 * time.Second)}, FaultsPlanned: 2, FaultsHealed: 1,
		Converge: &invariants.Convergence{Converged: true, After: 1234 * time.Millisecond, Polls: 13}}
}

func thresholds(t *testing.T, texts ...string) []plan.Threshold {
	t.Helper()
	var out []plan.Threshold
	for _, s := range texts {
		th, err := plan.ParseThreshold(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, th)
	}
	return out
}

func TestThresholds(t *testing.T) {
	type want struct {
		verdict  invariants.Verdict
		summary  string
		checked  int
		measures map[string]int64
	}
	cases := []struct {
		text string
		want want
	}{
		{"p99 < 1ms", want{invariants.Fail, "p99 = 500ms (5 operations), bound < 1ms", 5, map[string]int64{"value_ns": 500 * ms, "bound_ns": ms}}},
		{"max <= 500ms", want{invariants.Pass, "max = 500ms (5 operations), bound <= 500ms", 5, map[string]int64{"value_ns": 500 * ms, "bound_ns": 500 * ms}}},
		{"p50 < 30s", want{invariants.Pass, "p50 = 20ms (5 operations), bound < 30s", 5, nil}},
		{"p50 during faults == 300ms", want{invariants.Pass, "p50 during faults = 300ms (2 operations in flight during faults), bound == 300ms", 2, nil}},
		{"p99 during faults < 400ms", want{invariants.Fail, "p99 during faults = 500ms (2 operations in flight during faults), bound < 400ms", 2, nil}},
		{"error-rate < 10%", want{invariants.Fail, "error-rate = 40% (1 fail and 1 info of 5 completed), bound < 10%", 5, map[string]int64{"value_ppm": 400000, "bound_ppm": 100000}}},
		{"error-rate during faults == 100%", want{invariants.Pass, "error-rate during faults = 100% (1 fail and 1 info of 2 completed), bound == 100%", 2, nil}},
		{"ok-count >= 3", want{invariants.Pass, "ok-count = 3 (of 5 completed), bound >= 3", 5, map[string]int64{"value": 3, "bound": 3}}},
		{"ok-count during faults > 0", want{invariants.Fail, "ok-count during faults = 0 (of 2 completed), bound > 0", 2, nil}},
		{"converge-time < 2s", want{invariants.Pass, "converge-time = 1.23s (after the last heal, 13 polls), bound < 2s", 13, map[string]int64{"value_ns": 1234 * ms, "bound_ns": 2000 * ms}}},
		{"faults-applied == 100%", want{invariants.Fail, "faults-applied = 50% (1 of 2 planned faults applied and healed), bound == 100%", 2, nil}},
	}
	var texts []string
	for _, c := range cases {
		texts = append(texts, c.text)
	}
	got := invariants.CheckThresholds(invariants.NewIndex(thresholdRun()), thresholds(t, texts...), facts())
	if len(got) != len(cases) {
		t.Fatalf("%d results for %d thresholds", len(got), len(cases))
	}
	for i, c := range cases {
		r := got[i]
		if r.Name != "threshold: "+c.text {
			t.Errorf("result %d is named %q", i, r.Name)
		}
		if r.Verdict != c.want.verdict || r.Summary != c.want.summary || r.Checked != c.want.checked {
			t.Errorf("%s: %s %q (checked %d), want %s %q (checked %d)", c.text, r.Verdict, r.Summary, r.Checked, c.want.verdict, c.want.summary, c.want.checked)
		}
		if wantViolations := map[bool]int{true: 1}[c.want.verdict == invariants.Fail]; r.Violations != wantViolations {
			t.Errorf("%s: %d violations", c.text, r.Violations)
		}
		for k, v := range c.want.measures {
			if r.Measures[k] != v {
				t.Errorf("%s: measures %v, want %s = %d", c.text, r.Measures, k, v)
			}
		}
	}
}

// A metric with nothing to measure makes its threshold unknown, never pass: a
// threshold that would hold of any value included.
func TestThresholdsNothingToMeasureIsUnknown(t *testing.T) {
	noFaults := thresholdRun()
	noFaults.Faults = noFaults.Faults[2:] // only the fault that failed to apply
	noOps := thresholdRun()
	noOps.Ops = noOps.Ops[10:] // only the final read, after the run
	f := facts()
	none := invariants.RunFacts{Plan: f.Plan}
	for _, tc := range []struct {
		in    *invariants.Input
		facts invariants.RunFacts
		text  string
		why   string
	}{
		{noFaults, f, "p99 during faults >= 0s", "no completed operation was in flight while a fault was active"},
		{noFaults, f, "ok-count during faults >= 0", "no completed operation was in flight while a fault was active"},
		{noOps, f, "p99 >= 0s", "no operation completed"},
		{noOps, f, "error-rate <= 100%", "no operation completed"},
		{noOps, f, "ok-count >= 0", "no operation completed"},
		{thresholdRun(), none, "converge-time >= 0s", "never waited for the read models"},
		{thresholdRun(), none, "faults-applied >= 0%", "the plan has no faults"},
	} {
		r := invariants.CheckThresholds(invariants.NewIndex(tc.in), thresholds(t, tc.text), tc.facts)[0]
		if r.Verdict != invariants.Unknown || !strings.Contains(r.Summary, tc.why) || !strings.Contains(r.Summary, "bound ") {
			t.Errorf("%s: %s %q, want unknown because %q, with the bound", tc.text, r.Verdict, r.Summary, tc.why)
		}
	}
}

// A run that never converged breaches a bound from above and keeps one from below.
func TestThresholdNeverConverged(t *testing.T) {
	f := facts()
	f.Converge = &invariants.Convergence{Polls: 150}
	rs := invariants.CheckThresholds(invariants.NewIndex(thresholdRun()), thresholds(t, "converge-time < 10s", "converge-time > 1s"), f)
	if r := rs[0]; r.Verdict != invariants.Fail || r.Summary != "converge-time = never (did not converge in 150 polls), bound < 10s" {
		t.Errorf("< 10s: %s %q", r.Verdict, r.Summary)
	}
	if _, has := rs[0].Measures["value_ns"]; has {
		t.Errorf("never is written as a number: %v", rs[0].Measures)
	}
	if r := rs[1]; r.Verdict != invariants.Pass {
		t.Errorf("> 1s: %s %q", r.Verdict, r.Summary)
	}
}

// A plan naming a metric this binary does not know (written by hand, or by another
// build) is unknown, never pass.
func TestThresholdUnknownMetric(t *testing.T) {
	ts := []plan.Threshold{{Text: "p98 < 1s", Metric: "p98", Op: "<", Unit: plan.UnitDuration, Bound: "1s"},
		{Text: "p99 < 1", Metric: "p99", Op: "<", Unit: plan.UnitCount, Bound: "1"}}
	rs := invariants.CheckThresholds(invariants.NewIndex(thresholdRun()), ts, facts())
	if rs[0].Verdict != invariants.Unknown || !strings.Contains(rs[0].Summary, `no metric named "p98"`) {
		t.Errorf("unknown metric: %s %q", rs[0].Verdict, rs[0].Summary)
	}
	if rs[1].Verdict != invariants.Unknown || !strings.Contains(rs[1].Summary, "measures a duration") {
		t.Errorf("wrong unit: %s %q", rs[1].Verdict, rs[1].Summary)
	}
}

// A metric registered from outside the package is measured like the built-ins, and a
// scenario can name it the moment it is linked in.
func TestOutsideMetric(t *testing.T) {
	invariants.RegisterMetric(plan.MetricKind{Name: "test-reads", Unit: plan.UnitCount, Scoped: true, Doc: "reads that completed"},
		func(in *invariants.MetricInput) invariants.Measure {
			n := 0
			for _, op := range in.Index.In.Ops {
				if op.F == history.FRead && op.Type == history.Ok && op.Time < int64(in.Facts.Plan.Duration) {
					n++
				}
			}
			return invariants.Measure{Value: float64(n), Checked: n}
		})
	r := invariants.CheckThresholds(invariants.NewIndex(thresholdRun()), thresholds(t, "test-reads == 1"), facts())[0]
	if r.Verdict != invariants.Pass || r.Summary != "test-reads = 1, bound == 1" {
		t.Errorf("%s %q", r.Verdict, r.Summary)
	}
	if k, ok := plan.LookupMetricKind("test-reads"); !ok || k.Doc != "reads that completed" {
		t.Errorf("the declaration was not registered: %+v", k)
	}
}

func TestNoThresholdsNoResults(t *testing.T) {
	if rs := invariants.CheckThresholds(invariants.NewIndex(thresholdRun()), nil, facts()); rs != nil {
		t.Errorf("results without thresholds: %v", rs)
	}
}
