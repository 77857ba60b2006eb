package invariants

import (
	"strings"
	"testing"

	"github.com/mscli/mscli/history"
)

func TestBoundedLoadCleanRunPasses(t *testing.T) {
	res := one(gatewayRun(noBug).finish(), "bounded-load", nil)
	// The hang's first second: 30 calls before the breaker opened, 1 trial after. The
	// killed catalog counted none: not judged, rather than passed.
	if res.Verdict != Pass || res.Checked != 1 {
		t.Fatalf("%s (%s), %d checked: %s", res.Verdict, res.Summary, res.Checked, notes(res.Witnesses))
	}
	wantMeasures(t, "bounded-load", res.Measures, map[string]int64{"max_calls_per_s": 31, "windows_judged": 1, "windows_unjudged": 1})
	if !strings.Contains(res.Summary, "at most 31 calls a second on a down dependency (bound 50); not judged: 1 that no call reached") {
		t.Errorf("summary %q", res.Summary)
	}
}

// Retries without back-off that skip the breaker: the hanging catalog receives 400
// calls a second. The killed one counts none.
func TestBoundedLoadRetryStormFails(t *testing.T) {
	res := one(gatewayRun(retryStorm).finish(), "bounded-load", nil)
	w := failsWith(t, res, "", "catalog received 400 calls in the second from 4.0s to 5.0s against a bound of 50 a second, during timeout gateway->catalog from 4.0s to 7.0s")
	if len(w.Effects) != 10 || w.Effects[0].Kind != history.KindCalls || w.Effects[0].At != 4*sec {
		t.Errorf("effects %+v: want the second's calls records", w.Effects)
	}
	if len(w.Faults) != 2 || w.Faults[0].Fault != "timeout" || len(w.Ops) != 6 {
		t.Errorf("faults %+v, %d op lines", w.Faults, len(w.Ops))
	}
	wantMeasures(t, "bounded-load", res.Measures, map[string]int64{"max_calls_per_s": 400})
	if res := one(gatewayRun(retryStorm).finish(), "bounded-load", map[string]string{"rate": "400"}); res.Verdict != Pass {
		t.Errorf("rate 400: %s (%s)", res.Verdict, res.Summary)
	}
}

// The buckets are whole seconds from the window's start; the last one is its last
// second, and a window shorter than a second is one bucket.
func TestBoundedLoadBuckets(t *testing.T) {
	run := func(from, to int64, burst int64) Result {
		r := newGwRun()
		r.traffic("browse", 0, 10*sec, 10*ms, fine(20*ms))
		r.calls("catalog", 0, from, 100)
		r.calls("catalog", to-500*ms, to, burst) // the window's last half second
		r.calls("catalog", to, 10*sec, 100)
		r.fault("http-errors", "gateway->catalog", from, to, "")
		return one(r.finish(), "bounded-load", nil)
	}
	// 4.0s to 6.5s: [4, 5), [5, 6), then [5.5, 6.5), which holds all of the burst.
	failsWith(t, run(4*sec, 6500*ms, 120), "", "catalog received 60 calls in the second from 5.5s to 6.5s against a bound of 50 a second, during http-errors gateway->catalog from 4.0s to 6.5s")
	if res := run(4*sec, 6500*ms, 100); res.Verdict != Pass || res.Measures["max_calls_per_s"] != 50 {
		t.Errorf("50 in the last second: %s (%s) %v", res.Verdict, res.Summary, res.Measures)
	}
	failsWith(t, run(4*sec, 4500*ms, 120), "", "catalog received 60 calls in the 500ms from 4.0s to 4.5s against a bound of 50 a second")
}

func TestBoundedLoadNothingToJudgeIsUnknown(t *testing.T) {
	silent := gatewayRun(noBug)
	silent.in.Effects = dropEffects(silent.in.Effects, func(e history.Effect) bool { return e.Kind == history.KindCalls })
	slowOnly := newGwRun()
	slowOnly.traffic("browse", 0, 10*sec, 10*ms, fine(20*ms))
	slowOnly.calls("catalog", 0, 10*sec, 100)
	slowOnly.fault("latency", "gateway->catalog", 2*sec, 4*sec, "")
	bankDown := gatewayRun(noBug)
	bankDown.in.Faults = nil
	bankDown.fault("partition", "gateway->bank", 2*sec, 4*sec, "")
	bankDown.fault("kill", "bank/0", 5*sec, 6*sec, "")
	for name, tc := range map[string]struct {
		in     *Input
		params map[string]string
		want   string
	}{
		"no calls records":  {silent.finish(), nil, "of 2 down windows on a dependency, 2 on catalog, which reported no calls records"},
		"no down window":    {slowOnly.finish(), nil, "no down fault took effect on a dependency (bank, catalog): nothing to judge"},
		"latency not down":  {slowOnly.finish(), map[string]string{"down": `["kill"]`}, "no down fault took effect"},
		"a silent bank":     {bankDown.finish(), nil, "2 on bank, which reported no calls records"},
		"not a dependency":  {gatewayRun(noBug).finish(), map[string]string{"routes": `{"bank":["withdraw"]}`}, "no down fault took effect on a dependency (bank)"},
		"an invalid rate":   {gatewayRun(noBug).finish(), map[string]string{"rate": "fast"}, `parameter rate: invalid rate "fast"`},
		"no operations yet": {newGwRun().finish(), nil, "no down fault took effect"},
	} {
		res := one(tc.in, "bounded-load", tc.params)
		if res.Verdict != Unknown || !strings.Contains(res.Summary, tc.want) {
			t.Errorf("%s: %s (%s), want unknown: %q", name, res.Verdict, res.Summary, tc.want)
		}
	}
	// A down window on a dependency that reports nothing beside one that does: the one
	// is judged, the other noted.
	r := gatewayRun(noBug)
	r.fault("partition", "gateway->bank", 15*sec, 16*sec, "")
	res := one(r.finish(), "bounded-load", nil)
	if res.Verdict != Pass || res.Checked != 1 || !strings.Contains(res.Summary, "1 on bank, which reported no calls records") {
		t.Errorf("%s (%s), %d checked", res.Verdict, res.Summary, res.Checked)
	}
}
