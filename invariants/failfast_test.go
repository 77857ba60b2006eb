package invariants

import (
	"strings"
	"testing"

	"github.com/mscli/mscli/history"
)

func TestFailFastCleanRunPasses(t *testing.T) {
	res := one(gatewayRun(noBug).finish(), "fail-fast", nil)
	// Three windows on the catalog: two down (a latency set each, plus the bank's), one
	// slow (the bank's only).
	if res.Verdict != Pass || res.Checked != 5 {
		t.Fatalf("%s (%s), %d checked: %s", res.Verdict, res.Summary, res.Checked, notes(res.Witnesses))
	}
	wantMeasures(t, "fail-fast", res.Measures, map[string]int64{"p99_down_ns": 2 * ms, "p99_other_ns": 15 * ms, "sets_judged": 5, "sets_unjudged": 0})
	if !strings.Contains(res.Summary, "p99 of a down dependency's routes at most 2ms (bound 100ms); of the other routes at most 15ms") {
		t.Errorf("summary %q", res.Summary)
	}
}

// Without a breaker every read of a down catalog waits for its timeouts and retries.
// In the 2 s kill window, a second after the grace, the reads that wait 950 ms mostly
// end after the heal: too few are in flight within it to judge.
func TestFailFastNoBreakerFails(t *testing.T) {
	res := one(gatewayRun(noBreaker).finish(), "fail-fast", nil)
	if res.Verdict != Fail || res.Violations != 1 || len(res.Witnesses) != 1 || res.Measures["sets_unjudged"] != 1 {
		t.Fatalf("%s (%s): %s; want the timeout window, and the kill window not judged", res.Verdict, res.Summary, notes(res.Witnesses))
	}
	for i, want := range []string{
		"p99 of catalog's routes (browse) was 950ms against a bound of 100ms, from 5.0s to 7.0s during timeout gateway->catalog",
	} {
		w := res.Witnesses[i]
		if !strings.Contains(w.Note, want) {
			t.Errorf("witness %d: %q, want %q", i, w.Note, want)
		}
		if len(w.Faults) != 2 || w.Faults[0].Phase != history.Start || w.Faults[1].Phase != history.Stop {
			t.Errorf("witness %d faults %+v: want the window's start and stop", i, w.Faults)
		}
		if len(w.Ops) != 6 || w.Ops[0].F != "browse" || w.Ops[1].Time-w.Ops[0].Time != 950*ms {
			t.Errorf("witness %d ops %+v: want three of the slowest reads' lines", i, w.Ops)
		}
	}
	if res.Measures["p99_down_ns"] != 950*ms {
		t.Errorf("measures %v", res.Measures)
	}
}

// One pool for every dependency: the bank's withdrawals wait for slots the catalog's
// calls hold, whether the catalog is down or merely slow.
func TestFailFastSharedPoolFails(t *testing.T) {
	res := one(gatewayRun(sharedPool).finish(), "fail-fast", nil)
	if res.Verdict != Fail || res.Violations != 3 {
		t.Fatalf("%s (%s): %s; want the bank's withdrawals in the three windows", res.Verdict, res.Summary, notes(res.Witnesses))
	}
	for _, want := range []string{
		"p99 of bank's routes (withdraw) was 350ms against a bound of 200ms (the greater of 200ms and 3 × their p99 of 15ms while no fault was on: 697 operations), from 4.0s to 7.0s during timeout gateway->catalog",
		"from 9.0s to 10.0s during latency gateway->catalog",
		"from 12.0s to 14.0s during kill catalog/0",
	} {
		if findWitness(res.Witnesses, want) == nil {
			t.Errorf("no witness %q: %s", want, notes(res.Witnesses))
		}
	}
	if w := res.Witnesses[0]; len(w.Ops) != 6 || w.Ops[0].F != "withdraw" || w.Ops[0].ID == "" {
		t.Errorf("ops %+v: want the slowest withdrawals", w.Ops)
	}
	wantMeasures(t, "fail-fast", res.Measures, map[string]int64{"p99_other_ns": 350 * ms, "p99_down_ns": 2 * ms})
}

// The other routes may take up to 3 × their latency while no fault was on when that
// is more than isolation.
func TestFailFastIsolationBaseline(t *testing.T) {
	run := func(baseline, start, during int64) Result {
		r := newGwRun()
		r.traffic("withdraw", 0, 10*sec, 20*ms, func(at int64) (int64, history.OpType, string) {
			switch {
			case at < sec:
				return start, history.Ok, history.SourceUpstream
			case at >= 4*sec && at < 6*sec:
				return during, history.Ok, history.SourceUpstream
			}
			return baseline, history.Ok, history.SourceUpstream
		})
		r.traffic("browse", 0, 10*sec, 10*ms, fine(20*ms))
		r.fault("latency", "gateway->catalog", 4*sec, 7*sec, "")
		return one(r.finish(), "fail-fast", nil)
	}
	if res := run(100*ms, 100*ms, 250*ms); res.Verdict != Pass || res.Checked != 1 {
		t.Errorf("250ms against 3 × 100ms: %s (%s): %s", res.Verdict, res.Summary, notes(res.Witnesses))
	}
	failsWith(t, run(100*ms, 100*ms, 350*ms), "", "p99 of bank's routes (withdraw) was 350ms against a bound of 300ms (the greater of 200ms and 3 × their p99 of 100ms while no fault was on: 344 operations), from 4.0s to 7.0s during latency gateway->catalog")
	failsWith(t, run(20*ms, 20*ms, 250*ms), "", "was 250ms against a bound of 200ms")
	// The level is all the quiet time's: a slow first second, 1 in 7 of it, is in.
	failsWith(t, run(20*ms, 400*ms, 1300*ms), "", "was 1.3s against a bound of 1.2s")
}

// The isolation sets leave out what the window's dependency, or a fault on their own,
// explains.
func TestFailFastIsolationLeavesOut(t *testing.T) {
	r := newGwRun()
	r.traffic("withdraw", 0, 10*sec, 20*ms, func(at int64) (int64, history.OpType, string) {
		if at >= 4*sec && at < 6*sec {
			return 900 * ms, history.Ok, history.SourceUpstream // the bank is slow itself
		}
		return 15 * ms, history.Ok, history.SourceUpstream
	})
	r.traffic("browse", 0, 10*sec, 10*ms, fine(20*ms))
	r.traffic("search", 0, 10*sec, 50*ms, func(at int64) (int64, history.OpType, string) {
		if at >= 4*sec && at < 7*sec {
			return 2 * sec, history.Info, history.SourceUpstream
		}
		return 10 * ms, history.Ok, history.SourceUpstream
	})
	r.fault("latency", "gateway->catalog", 4*sec, 7*sec, "")
	r.fault("latency", "gateway->bank", 4*sec, 6*sec, "")
	// search reaches the catalog too: its latency is the catalog's fault's.
	res := one(r.finish(), "fail-fast", map[string]string{"routes": `{"bank":["withdraw","search"],"catalog":["browse","search"]}`})
	if res.Verdict != Pass {
		t.Errorf("%s (%s): %s", res.Verdict, res.Summary, notes(res.Witnesses))
	}
}

// Grace: a down dependency's calls may be slow until the breaker has learnt.
func TestFailFastGrace(t *testing.T) {
	run := func(params map[string]string) Result {
		r := newGwRun()
		r.traffic("withdraw", 0, 10*sec, 20*ms, fine(15*ms))
		r.traffic("browse", 0, 10*sec, 10*ms, func(at int64) (int64, history.OpType, string) {
			switch {
			case at >= 4*sec && at < 4*sec+800*ms:
				return 150 * ms, history.Info, history.SourceUpstream
			case at >= 4*sec && at < 7*sec:
				return 3 * ms, history.Fail, history.SourceBreaker
			}
			return 20 * ms, history.Ok, history.SourceUpstream
		})
		r.fault("partition", "gateway->catalog", 4*sec, 7*sec, "")
		return one(r.finish(), "fail-fast", params)
	}
	if res := run(nil); res.Verdict != Pass {
		t.Errorf("within the grace: %s (%s): %s", res.Verdict, res.Summary, notes(res.Witnesses))
	}
	failsWith(t, run(map[string]string{"grace": "500ms"}), "", "p99 of catalog's routes (browse) was 150ms against a bound of 100ms, from 4.5s to 7.0s during partition gateway->catalog")
	if res := run(map[string]string{"grace": "500ms", "bound": "200ms"}); res.Verdict != Pass {
		t.Errorf("bound 200ms: %s (%s)", res.Verdict, res.Summary)
	}
	// Down kinds are a parameter: a partition that is not one is a slow window.
	if res := run(map[string]string{"grace": "0s", "down": `["kill"]`}); res.Verdict != Pass || res.Measures["p99_down_ns"] != 0 || res.Checked != 1 {
		t.Errorf("partition not down: %s (%s) %v", res.Verdict, res.Summary, res.Measures)
	}
}

// A window on a node of the dependency, on a link into one of its replicas, and one
// that never healed (it lasts to the end).
func TestFailFastWindowTargets(t *testing.T) {
	for _, target := range []string{"catalog", "catalog/1", "gateway/0->catalog/1"} {
		r := newGwRun()
		r.traffic("withdraw", 0, 10*sec, 20*ms, fine(15*ms))
		r.traffic("browse", 0, 10*sec, 10*ms, func(at int64) (int64, history.OpType, string) {
			if at >= 4*sec {
				return 400 * ms, history.Fail, history.SourceUpstream
			}
			return 20 * ms, history.Ok, history.SourceUpstream
		})
		r.fault("pause", target, 4*sec, 0, "")
		res := one(r.finish(), "fail-fast", nil)
		failsWith(t, res, "", "p99 of catalog's routes (browse) was 400ms against a bound of 100ms, from 5.0s to 10.4s (the end: never healed) during pause "+target)
	}
}

func TestFailFastNothingToJudgeIsUnknown(t *testing.T) {
	quiet := func() *gwRun {
		r := newGwRun()
		r.traffic("withdraw", 0, 10*sec, 20*ms, fine(15*ms))
		r.traffic("browse", 0, 10*sec, 10*ms, fine(20*ms))
		return r
	}
	noFaults := quiet()
	elsewhere := quiet()
	elsewhere.fault("partition", "client->gateway", 2*sec, 4*sec, "")
	elsewhere.fault("kill", "gateway", 5*sec, 6*sec, "")
	failed := quiet()
	failed.fault("timeout", "gateway->catalog", 2*sec, 4*sec, "toxiproxy: connection refused")
	few := newGwRun()
	few.traffic("withdraw", 0, 10*sec, 2*sec, fine(15*ms))
	few.traffic("browse", 0, 10*sec, 1*sec, fine(20*ms))
	few.fault("timeout", "gateway->catalog", 2*sec, 8*sec, "")
	noOps := newGwRun()
	noOps.fault("timeout", "gateway->catalog", 2*sec, 8*sec, "")
	for name, tc := range map[string]struct {
		in     *Input
		params map[string]string
		want   string
	}{
		"no faults":           {noFaults.finish(), nil, "no fault took effect on a dependency (bank, catalog): nothing to judge"},
		"faults elsewhere":    {elsewhere.finish(), nil, "no fault took effect on a dependency"},
		"a fault that failed": {failed.finish(), nil, "no fault took effect on a dependency"},
		"few operations":      {few.finish(), nil, "each of the 2 latency sets had fewer than 10 operations"},
		"no operations":       {noOps.finish(), nil, "no operation of the routes (withdraw, browse) completed"},
		"a bank run":          {synth(200, 3, 1), map[string]string{"routes": `{"bank":["transfer"]}`}, "no operation of the routes (transfer) completed"},
	} {
		res := one(tc.in, "fail-fast", tc.params)
		if res.Verdict != Unknown || !strings.Contains(res.Summary, tc.want) {
			t.Errorf("%s: %s (%s), want unknown: %q", name, res.Verdict, res.Summary, tc.want)
		}
	}
}
