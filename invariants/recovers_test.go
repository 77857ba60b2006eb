package invariants

import (
	"strings"
	"testing"

	"github.com/mscli/mscli/history"
)

func TestRecoversCleanRunPasses(t *testing.T) {
	res := one(gatewayRun(noBug).finish(), "recovers", nil)
	if res.Verdict != Pass || res.Checked != 2 {
		t.Fatalf("%s (%s), %d checked: %s", res.Verdict, res.Summary, res.Checked, notes(res.Witnesses))
	}
	// After the hang healed at 7s: 30 reads answered from the fallback, then 168 by the
	// catalog until the slow window at 9s; from the third-last fallback on, 3 of 171
	// are bad, within 2%. After the kill, 11 of 581 to the end: 192ms.
	wantMeasures(t, "recovers", res.Measures, map[string]int64{"max_recovery_ns": 272 * ms, "not_recovered": 0, "windows_judged": 2})
	if !strings.Contains(res.Summary, "the slowest recovery 272ms after its heal (bound 5s)") {
		t.Errorf("summary %q", res.Summary)
	}
}

// The breaker never closes after a successful trial: the catalog's reads are answered
// from the fallback to the end. After the hang the slow window comes 2s later, before
// within has passed: not judged unless within is shorter.
func TestRecoversBreakerNeverClosesFails(t *testing.T) {
	res := one(gatewayRun(neverCloses).finish(), "recovers", nil)
	w := failsWith(t, res, "", "catalog's routes (browse) not recovered in the 6.0s watched after kill catalog/0 healed at 14.0s: to 20.0s, 600 of 600 operations bad (100.0%)",
		"against a level of 2.0% (0 of 398 bad before the first fault, + 2%)", "gateway's breaker on catalog was last open, since 14.3s")
	if len(w.Ops) != 6 || w.Ops[5].Source != history.SourceFallback || w.Ops[5].Time != 19992*ms {
		t.Errorf("ops %+v: want the last bad reads", w.Ops)
	}
	if len(w.Faults) != 2 || w.Faults[0].Fault != "kill" || w.Faults[1].Phase != history.Stop {
		t.Errorf("faults %+v: want the kill and its restart", w.Faults)
	}
	if len(w.Effects) != 5 || w.Effects[0].State != history.BreakerOpen || w.Effects[4].State != history.BreakerOpen || w.Effects[4].At != 14300*ms {
		t.Errorf("effects %+v: want the breaker's changes from the kill on", w.Effects)
	}
	if !strings.Contains(res.Summary, "not judged: 1 not recovered when the next fault on its dependency came, less than 5s after the heal") {
		t.Errorf("summary %q", res.Summary)
	}
	wantMeasures(t, "recovers", res.Measures, map[string]int64{"not_recovered": 1, "windows_judged": 1, "windows_unjudged": 1})
	if _, ok := res.Measures["max_recovery_ns"]; ok {
		t.Errorf("measures %v: nothing recovered", res.Measures)
	}
	res = one(gatewayRun(neverCloses).finish(), "recovers", map[string]string{"within": "1s"})
	if res.Verdict != Fail || res.Violations != 2 {
		t.Fatalf("within 1s: %s (%s): %s; want both down windows", res.Verdict, res.Summary, notes(res.Witnesses))
	}
	if w := res.Witnesses[0].Note; !strings.Contains(w, "not recovered in the 2.0s watched after timeout gateway->catalog healed at 7.0s: to 9.0s, 200 of 200 operations bad") ||
		!strings.Contains(w, "last open, since 7.3s") {
		t.Errorf("witness %q", w)
	}
	// A clean run recovers, whatever within.
	if res := one(gatewayRun(noBug).finish(), "recovers", map[string]string{"within": "1s"}); res.Verdict != Pass {
		t.Errorf("clean, within 1s: %s (%s)", res.Verdict, res.Summary)
	}
}

// A recovery later than within fails, with the time it took: in both windows, whose
// breakers close 300 ms after the heal. The share is judged over the next second, so
// the kill window's long good tail does not hide its late recovery.
func TestRecoversLate(t *testing.T) {
	res := one(gatewayRun(noBug).finish(), "recovers", map[string]string{"within": "200ms"})
	if res.Verdict != Fail || res.Violations != 2 {
		t.Fatalf("%s (%s): want both windows late", res.Verdict, res.Summary)
	}
	w := res.Witnesses[0]
	for _, want := range []string{
		"catalog's routes (browse) recovered 292ms after timeout gateway->catalog healed at 7.0s, against a bound of 200ms: from 7.3s to 9.0s, 1 of 169 operations bad (0.6%) against a level of 2.0%",
		"gateway's breaker on catalog was last closed, since 7.3s"} {
		if !strings.Contains(w.Note, want) {
			t.Errorf("witness %q, want %q", w.Note, want)
		}
	}
	if len(w.Ops) != 6 || w.Ops[0].Time != 7260*ms || w.Ops[1].Source != history.SourceFallback {
		t.Errorf("ops %+v: want the last fallbacks before the recovery", w.Ops)
	}
}

// The level is the share before the first fault: a route that fails a tenth of the
// time (withdrawals refused for want of funds) is back when it fails a tenth again.
func TestRecoversLevelIsThePreFaultShare(t *testing.T) {
	run := func(after history.OpType) Result {
		r := newGwRun()
		r.traffic("withdraw", 0, 12*sec, 10*ms, func(at int64) (int64, history.OpType, string) {
			switch {
			case at >= 3*sec && at < 5*sec:
				return 2 * ms, history.Fail, history.SourceBreaker
			case at%(100*ms) == 0:
				return 15 * ms, history.Fail, history.SourceUpstream // insufficient funds
			case at >= 5*sec && at%(100*ms) == 50*ms:
				return 15 * ms, after, history.SourceUpstream
			}
			return 15 * ms, history.Ok, history.SourceUpstream
		})
		r.fault("reset", "gateway->bank", 3*sec, 5*sec, "")
		return one(r.finish(), "recovers", nil)
	}
	if res := run(history.Ok); res.Verdict != Pass || res.Measures["max_recovery_ns"] > 20*ms {
		t.Errorf("back to a tenth: %s (%s) %v", res.Verdict, res.Summary, res.Measures)
	}
	failsWith(t, run(history.Info), "", "withdraw", "not recovered in the 7.0s watched after reset gateway->bank healed at 5.0s", "against a level of 12.0% (30 of 299 bad before the first fault, + 2%)")
}

func TestRecoversNothingToJudgeIsUnknown(t *testing.T) {
	noSource := gatewayRun(noBug).finish()
	for i := range noSource.Ops {
		noSource.Ops[i].Source = ""
	}
	neverHealed := newGwRun()
	neverHealed.traffic("browse", 0, 10*sec, 10*ms, fine(20*ms))
	neverHealed.fault("kill", "catalog", 5*sec, 0, "")
	early := newGwRun()
	early.traffic("browse", 0, 10*sec, 10*ms, fine(20*ms))
	early.fault("timeout", "gateway->catalog", 50*ms, 2*sec, "")
	late := newGwRun()
	late.traffic("browse", 0, 10*sec, 10*ms, fine(20*ms))
	late.fault("timeout", "gateway->catalog", 5*sec, 9950*ms, "")
	for name, tc := range map[string]struct {
		in   *Input
		want string
	}{
		"no source":            {noSource, "no operation of the routes records who answered it (source)"},
		"never healed":         {neverHealed.finish(), "of 1 down windows on a dependency, 1 never healed"},
		"no level before":      {early.finish(), "1 on catalog, with fewer than 10 operations before the first fault"},
		"healed at the end":    {late.finish(), "1 with fewer than 10 operations after the heal"},
		"no down window":       {gatewayRun(noBug).finish(), "no down fault took effect on a dependency (bank, catalog)"},
		"no operations at all": {newGwRun().finish(), "no operation of the routes (withdraw, browse) completed"},
	} {
		params := map[string]string(nil)
		if name == "no down window" {
			params = map[string]string{"down": `["http-errors"]`}
		}
		res := one(tc.in, "recovers", params)
		if res.Verdict != Unknown || !strings.Contains(res.Summary, tc.want) {
			t.Errorf("%s: %s (%s), want unknown: %q", name, res.Verdict, res.Summary, tc.want)
		}
	}
}

// A window healed while another fault is still on its dependency is not judged: the
// other one's heal is.
func TestRecoversOverlappingWindows(t *testing.T) {
	r := newGwRun()
	r.traffic("browse", 0, 14*sec, 10*ms, func(at int64) (int64, history.OpType, string) {
		if at >= 4*sec && at < 8*sec+500*ms {
			return 2 * ms, history.Ok, history.SourceFallback
		}
		return 20 * ms, history.Ok, history.SourceUpstream
	})
	r.fault("timeout", "gateway->catalog", 4*sec, 7*sec, "")
	r.fault("partition", "gateway->catalog", 6*sec, 8*sec, "")
	res := one(r.finish(), "recovers", nil)
	if res.Verdict != Pass || res.Checked != 1 || !strings.Contains(res.Summary, "not judged: 1 healed while another fault was on its dependency") {
		t.Errorf("%s (%s), %d checked: %s", res.Verdict, res.Summary, res.Checked, notes(res.Witnesses))
	}
}
