package invariants

import (
	"strings"
	"testing"

	"github.com/mscli/mscli/history"
)

// Each way an event type's guarantee breaks fails delivery with one witness that names
// the event, its type and guarantee, and its deliveries.
func TestDeliveryViolations(t *testing.T) {
	for _, tc := range []struct {
		name  string
		id    string
		plant func(r *msgRun)
		parts []string
	}{
		{"exactly-once applied twice", "p-x", func(r *msgRun) {
			at := r.publish("payment", "p-x", "d-1", history.Ok)
			r.apply("p-x", 1, "telemetry/0", 7310*ms)
			r.apply("p-x", 2, "telemetry/1", 9400*ms)
			_ = at
		}, []string{"payment p-x (exactly-once) applied 2 times: delivery 1 by telemetry/0 at 7.31s, delivery 2 by telemetry/1 at 9.40s"}},
		{"exactly-once of unknown outcome applied twice", "p-x", func(r *msgRun) {
			at := r.publish("payment", "p-x", "d-1", history.Info)
			r.apply("p-x", 1, "telemetry/0", at+10*ms)
			r.apply("p-x", 1, "telemetry/0", at+20*ms)
		}, []string{"payment p-x (exactly-once) applied 2 times: delivery 1 by telemetry/0", "delivery 1 by telemetry/0"}},
		{"at-most-once applied twice", "l-x", func(r *msgRun) {
			at := r.publish("location", "l-x", "d-1", history.Info)
			r.apply("l-x", 1, "telemetry/1", at+10*ms)
			r.apply("l-x", 2, "telemetry/0", at+500*ms)
		}, []string{"location l-x (at-most-once) applied 2 times: delivery 1 by telemetry/1", "delivery 2 by telemetry/0"}},
		{"at-least-once lost", "a-x", func(r *msgRun) {
			r.publish("alert", "a-x", "d-1", history.Ok)
		}, []string{"alert a-x (at-least-once) acknowledged by the broker, never applied nor dead-lettered"}},
		{"exactly-once lost", "p-x", func(r *msgRun) {
			r.publish("payment", "p-x", "d-1", history.Ok)
		}, []string{"payment p-x (exactly-once) acknowledged by the broker, never applied nor dead-lettered"}},
		{"re-driven, then lost", "a-x", func(r *msgRun) {
			at := r.publish("alert", "a-x", "d-1", history.Ok)
			r.park(history.KindDeadLetter, "a-x", "store: connection refused", 4, "telemetry/0", at+100*ms)
			r.redrive("a-x", 12*sec)
		}, []string{"alert a-x (at-least-once) acknowledged by the broker, never applied nor dead-lettered (re-driven at 12.00s, then never applied)"}},
		{"failed publish applied", "a-x", func(r *msgRun) {
			at := r.publish("alert", "a-x", "d-1", history.Fail)
			r.apply("a-x", 1, "telemetry/1", at+30*ms)
		}, []string{"alert a-x (at-least-once) failed at publish (the broker never held it), yet applied 1 time: delivery 1 by telemetry/1"}},
		{"failed at-most-once publish applied", "l-x", func(r *msgRun) {
			at := r.publish("location", "l-x", "d-1", history.Fail)
			r.apply("l-x", 1, "telemetry/1", at+30*ms)
		}, []string{"location l-x (at-most-once) failed at publish"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cleanMessages()
			tc.plant(r)
			res := one(r.in, "delivery", nil)
			w := failsWith(t, res, tc.id, tc.parts...)
			if w.View != "" && w.View != "telemetry/delivery" {
				t.Errorf("witness view %q", w.View)
			}
			for _, e := range w.Effects {
				if e.ID != tc.id {
					t.Errorf("witness effect of %s", e.ID)
				}
			}
			if strings.Contains(tc.name, "twice") && len(w.Effects) != 2 {
				t.Errorf("witness effects %+v: want both applications", w.Effects)
			}
		})
	}
}

// The kill of replica 0 just before the second application is in the witness.
func TestDeliveryWitnessHasTheKill(t *testing.T) {
	r := cleanMessages()
	at := r.publish("payment", "p-x", "d-1", history.Ok)
	r.apply("p-x", 1, "telemetry/0", at+10*ms)
	r.kill("telemetry/0", at+20*ms, at+sec, "")
	r.apply("p-x", 2, "telemetry/1", at+400*ms)
	w := failsWith(t, one(r.in, "delivery", nil), "p-x", "applied 2 times")
	killed := false
	for _, f := range w.Faults {
		killed = killed || (f.Fault == "kill" && f.Time == at+20*ms)
	}
	if !killed {
		t.Errorf("witness faults %+v: want the kill", w.Faults)
	}
}

// A parked event is accounted for: not lost, whatever its guarantee; duplicates of
// at-least-once events and lost at-most-once events are counted, not failed.
func TestDeliveryToleratesWhatItsGuaranteeAllows(t *testing.T) {
	r := cleanMessages()
	at := r.publish("payment", "p-parked", "d-1", history.Ok)
	r.park(history.KindDeadLetterFile, "p-parked", "store: connection refused", 4, "telemetry/1", at+50*ms)
	at = r.publish("alert", "a-thrice", "d-1", history.Ok)
	for d := 1; d <= 3; d++ {
		r.apply("a-thrice", d, "telemetry/1", at+int64(d)*10*ms)
	}
	r.publish("location", "l-lost", "d-1", history.Ok)
	r.publish("location", "l-info", "d-1", history.Info)
	res := one(r.in, "delivery", nil)
	if res.Verdict != Pass {
		t.Fatalf("%s (%s): %s", res.Verdict, res.Summary, notes(res.Witnesses))
	}
	wantMeasures(t, "delivery", res.Measures, map[string]int64{"lost_at_most_once": 2, "duplicates_at_least_once": 3, "redelivered_applied": 4})
}

// Other guarantees for the types: the parameters decide.
func TestDeliveryParamsChooseTheGuarantee(t *testing.T) {
	r := cleanMessages()
	// As at-least-once, a lost location fails; as exactly-once, a duplicated alert.
	res := one(r.in, "delivery", map[string]string{"at-most-once": `""`, "at-least-once": "location,alert"})
	failsWith(t, res, "lost-loc", "location lost-loc (at-least-once) acknowledged by the broker, never applied nor dead-lettered")
	res = one(r.in, "delivery", map[string]string{"at-least-once": `[]`, "exactly-once": `"payment, alert"`})
	if res.Verdict != Fail || findWitness(res.Witnesses, "alert dup-alert (exactly-once) applied 2 times: delivery 1 by telemetry/0") == nil {
		t.Errorf("%s (%s): %s", res.Verdict, res.Summary, notes(res.Witnesses))
	}
	// Types no list names are not judged.
	res = one(r.in, "delivery", map[string]string{"at-most-once": "null", "at-least-once": "null", "exactly-once": "payment"})
	if res.Verdict != Pass || res.Checked != 6 || res.Measures["events_at_least_once"] != 0 {
		t.Errorf("payments only: %s (%s), %d checked", res.Verdict, res.Summary, res.Checked)
	}
}

func TestDeliveryNothingToJudgeIsUnknown(t *testing.T) {
	noneApplied := newMsgRun()
	noneApplied.publish("alert", "a-1", "d-1", history.Ok)
	noneApplied.publish("payment", "p-1", "d-1", history.Ok)
	noneApplied.state("a-1", "received") // an operation state is no application
	noneApplied.in.Views = nil
	missingView := cleanMessages()
	missingView.in.Views["telemetry"] = []string{"delivery", "audit"}
	for name, tc := range map[string]struct {
		in     *Input
		params map[string]string
		want   string
	}{
		"a bank run":              {synth(200, 5, 1), nil, "no event of a type with a guarantee (at-most-once location; at-least-once alert; exactly-once payment) was published"},
		"no type named":           {cleanMessages().in, map[string]string{"at-most-once": `""`, "at-least-once": `""`, "exactly-once": `""`}, "none named"},
		"nothing observed":        {noneApplied.in, nil, "2 events were published, but no service reported an applied or dead-letter record"},
		"a declared view missing": {missingView.in, nil, "telemetry declares a audit model, but none was observed"},
		"a type in two lists":     {cleanMessages().in, map[string]string{"at-most-once": "payment"}, "parameters at-most-once and exactly-once both name payment"},
	} {
		res := one(tc.in, "delivery", tc.params)
		if res.Verdict != Unknown || !strings.Contains(res.Summary, tc.want) {
			t.Errorf("%s: %s (%s), want unknown: %q", name, res.Verdict, res.Summary, tc.want)
		}
	}
}
