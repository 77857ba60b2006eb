package invariants

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mscli/mscli/history"
)

// work publishes n alerts, each applied once, by the replicas named in turn.
func (r *msgRun) work(n int, replicas ...string) {
	for i := range n {
		id := fmt.Sprintf("w-%d-%d", len(r.in.Ops), i)
		at := r.publish("alert", id, "d-1", history.Ok)
		r.apply(id, 1, replicas[i%len(replicas)], at+10*ms)
	}
}

func TestSpreadIdleReplicaFails(t *testing.T) {
	t.Run("two replicas", func(t *testing.T) {
		r := newMsgRun()
		r.work(40, "telemetry/0")
		r.kill("telemetry/1", 100*ms, 200*ms, "")
		w := failsWith(t, one(r.in, "spread", nil), "", "telemetry/1 applied none of 40 events; telemetry/0 applied all")
		if len(w.Effects) != 3 || w.Effects[0].Replica != "telemetry/0" || w.View != "telemetry/delivery" {
			t.Errorf("witness %+v: want a few of telemetry/0's records", w)
		}
		if len(w.Faults) != 1 || w.Faults[0].Target != "telemetry/1" {
			t.Errorf("witness faults %+v: want the kill of telemetry/1", w.Faults)
		}
	})
	t.Run("three replicas", func(t *testing.T) {
		r := newMsgRun()
		r.in.Replicas["telemetry"] = 3
		r.work(30, "telemetry/0", "telemetry/1", "telemetry/0")
		res := one(r.in, "spread", nil)
		failsWith(t, res, "", "telemetry/2 applied none of 30 events; telemetry/0 applied 20, telemetry/1 applied 10")
		wantMeasures(t, "spread", res.Measures, map[string]int64{"replicas": 3, "events": 30, "busiest_share_pct": 67, "takeovers": 0})
	})
	t.Run("replicas not in the plan: those the records name", func(t *testing.T) {
		r := newMsgRun()
		r.in.Replicas = nil
		r.work(30, "telemetry/0", "telemetry/2")
		failsWith(t, one(r.in, "spread", nil), "", "telemetry/1 applied none of 30 events; telemetry/0 applied 15, telemetry/2 applied 15")
	})
}

func TestSpreadTakeover(t *testing.T) {
	// Replica 0, working, is killed at 5s: a replica (the other, or replica 0 itself once
	// restarted) must apply a redelivered message.
	base := func() *msgRun {
		r := newMsgRun()
		r.t = 4 * sec
		r.work(8, "telemetry/0", "telemetry/1") // 4.1s … 4.8s
		return r
	}
	t.Run("taken over", func(t *testing.T) {
		r := base()
		r.kill("telemetry/0", 5*sec, 7*sec, "")
		r.kill("telemetry/1", 5*sec, 0, "engine: no such container") // never took effect
		at := r.publish("alert", "late", "d-1", history.Ok)
		r.apply("late", 1, "telemetry/1", 5500*ms)         // a first delivery: no takeover
		r.apply("w-12-6", 2, "telemetry/1", 6200*ms)       // the takeover, 1.2s after
		r.apply("w-14-7", 2, "telemetry/0", 7600*ms)       // later ones do not count
		r.apply("late", 2, "telemetry/1", at+int64(3*sec)) // nor these
		res := one(r.in, "spread", nil)
		if res.Verdict != Pass || res.Checked != 3 {
			t.Fatalf("%s (%s), %d checked: %s", res.Verdict, res.Summary, res.Checked, notes(res.Witnesses))
		}
		wantMeasures(t, "spread", res.Measures, map[string]int64{"takeovers": 1, "takeover_max_ns": 1200 * ms, "takeover_p50_ns": 1200 * ms})
	})
	t.Run("not taken over: measured, not judged", func(t *testing.T) {
		r := base()
		r.kill("telemetry/0", 5*sec, 7*sec, "")
		r.apply("w-14-7", 1, "telemetry/1", 7500*ms) // a first delivery only
		res := one(r.in, "spread", nil)
		if res.Verdict != Pass || res.Measures["takeovers"] != 0 {
			t.Errorf("%s (%s) %v: %s", res.Verdict, res.Summary, res.Measures, notes(res.Witnesses))
		}
	})
	t.Run("taken back by the restarted replica", func(t *testing.T) {
		r := base()
		r.kill("telemetry/0", 5*sec, 6*sec, "")
		r.apply("w-14-7", 2, "telemetry/0", 8*sec) // after its restart, within the ack wait of the others
		res := one(r.in, "spread", nil)
		if res.Verdict != Pass || res.Measures["takeover_max_ns"] != 3*sec {
			t.Errorf("%s (%s) %v: %s", res.Verdict, res.Summary, res.Measures, notes(res.Witnesses))
		}
	})
	t.Run("killed idle", func(t *testing.T) {
		r := base()
		r.kill("telemetry/0", 6*sec, 7*sec, "") // its last record was at 4.7s
		res := one(r.in, "spread", nil)
		if res.Verdict != Pass || res.Measures["takeovers"] != 0 {
			t.Errorf("%s (%s): %s", res.Verdict, res.Summary, notes(res.Witnesses))
		}
		if _, ok := res.Measures["takeover_max_ns"]; ok {
			t.Errorf("measures %v: no takeover, no takeover time", res.Measures)
		}
	})
	t.Run("the whole service", func(t *testing.T) {
		r := base()
		r.kill("telemetry", 5*sec, 6*sec, "")
		r.kill("telemetry", 8*sec, 9*sec, "")
		r.apply("w-14-7", 2, "telemetry/0", 6500*ms) // any replica takes over after a whole-service kill
		res := one(r.in, "spread", nil)
		if res.Verdict != Pass || res.Measures["takeovers"] != 1 || res.Measures["takeover_max_ns"] != 1500*ms {
			t.Errorf("%s (%s) %v: %s", res.Verdict, res.Summary, res.Measures, notes(res.Witnesses))
		}
	})
}

// The clean run of every message invariant, with the sticky-consumer bug: replica 1
// never consumes, and a killed replica 0 stops all processing.
func TestSpreadStickyConsumer(t *testing.T) {
	r := cleanMessages()
	for i := range r.in.Effects {
		if r.in.Effects[i].Replica == "telemetry/1" {
			r.in.Effects[i].Replica = "telemetry/0"
		}
	}
	res := one(r.in, "spread", nil)
	// The killed replica 0 takes its own messages back once restarted: the idle
	// replica is the violation.
	if res.Verdict != Fail || res.Violations != 1 {
		t.Fatalf("%s (%s): %s; want the idle replica", res.Verdict, res.Summary, notes(res.Witnesses))
	}
	for _, want := range []string{"telemetry/1 applied none of 19 events; telemetry/0 applied all"} {
		if findWitness(res.Witnesses, want) == nil {
			t.Errorf("no witness %q: %s", want, notes(res.Witnesses))
		}
	}
	if res.Measures["busiest_share_pct"] != 100 {
		t.Errorf("measures %v", res.Measures)
	}
}

func TestSpreadNothingToJudgeIsUnknown(t *testing.T) {
	single := newMsgRun()
	single.in.Replicas["telemetry"] = 1
	single.work(10, "telemetry/0")
	noMap := newMsgRun()
	noMap.in.Replicas = nil
	noMap.work(10, "telemetry/0")
	for name, tc := range map[string]struct {
		in     *Input
		params map[string]string
		want   string
	}{
		"a bank run":         {synth(100, 3, 1), nil, "no applied record names a replica"},
		"one replica":        {single.in, nil, "telemetry runs one replica: nothing competes"},
		"one replica seen":   {noMap.in, nil, "telemetry runs one replica: nothing competes"},
		"another service":    {cleanMessages().in, map[string]string{"service": "orders"}, "no applied record of orders names a replica"},
		"an invalid service": {cleanMessages().in, map[string]string{"service": "a/b"}, `parameter service: invalid service name "a/b"`},
	} {
		res := one(tc.in, "spread", tc.params)
		if res.Verdict != Unknown || !strings.Contains(res.Summary, tc.want) {
			t.Errorf("%s: %s (%s), want unknown: %q", name, res.Verdict, res.Summary, tc.want)
		}
	}
	// A service of one replica beside one of two: the one is judged, the other noted.
	r := cleanMessages()
	r.in.Replicas["ingest"] = 1
	r.in.Effects = append(r.in.Effects, history.Effect{Service: "ingest", View: "delivery", Kind: "alert", ID: "e-1", Deliveries: 1, Replica: "ingest/0", At: sec})
	res := one(r.in, "spread", nil)
	if res.Verdict != Pass || !strings.Contains(res.Summary, "ingest not judged: one replica, nothing competes") {
		t.Errorf("%s (%s)", res.Verdict, res.Summary)
	}
	if res := one(r.in, "spread", map[string]string{"service": "telemetry"}); res.Verdict != Pass || strings.Contains(res.Summary, "ingest") {
		t.Errorf("service telemetry: %s (%s)", res.Verdict, res.Summary)
	}
}
