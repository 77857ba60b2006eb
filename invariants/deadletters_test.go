package invariants

import (
	"strings"
	"testing"

	"github.com/mscli/mscli/history"
)

// Each way a message is mis-accounted fails dead-letters-accounted with one witness
// that names the event, its type, the parking and its deliveries.
func TestDeadLettersViolations(t *testing.T) {
	for _, tc := range []struct {
		name     string
		id       string
		plant    func(r *msgRun)
		parts    []string
		delivery bool // delivery fails too
	}{
		{"both: parked and applied", "a-x", func(r *msgRun) {
			// dlq-and-process: applied before its rules were checked, then parked.
			r.publish("alert", "a-x", "d-1", history.Ok)
			r.apply("a-x", 1, "telemetry/0", 5*sec)
			r.park(history.KindDeadLetter, "a-x", badCode, 3, "telemetry/0", 5*sec+ms)
		}, []string{`alert a-x dead-lettered on the dead-letter stream by telemetry/0 at 5.00s (reason "rule: unknown alert code 99", 3 deliveries) and also applied (delivery 1 by telemetry/0 at 5.00s)`}, false},
		{"both: applied, then parked and re-driven", "p-x", func(r *msgRun) {
			r.publish("payment", "p-x", "d-1", history.Ok)
			r.apply("p-x", 1, "telemetry/0", 4*sec)
			r.park(history.KindDeadLetterFile, "p-x", "delivered 2 times without an acknowledgement", 2, "telemetry/1", 5*sec)
			r.redrive("p-x", 8*sec)
		}, []string{`payment p-x dead-lettered in a dead-letter file by telemetry/1 at 5.00s (reason "delivered 2 times without an acknowledgement", 2 deliveries) and also applied (delivery 1 by telemetry/0 at 4.00s)`}, false},
		{"neither: lost", "a-x", func(r *msgRun) {
			// lose-on-dlq: the dead letter was dropped; the event is recorded parked.
			r.publish("alert", "a-x", "d-1", history.Ok)
			r.state("a-x", history.StateDeadLettered)
		}, []string{`alert a-x (at-least-once) acknowledged by the broker, neither applied nor dead-lettered: lost; the service left it "dead_lettered"`}, true},
		{"neither: a payment", "p-x", func(r *msgRun) {
			r.publish("payment", "p-x", "d-1", history.Ok)
		}, []string{"payment p-x (exactly-once) acknowledged by the broker, neither applied nor dead-lettered: lost"}, true},
		{"a dead letter without a reason", "a-x", func(r *msgRun) {
			r.publish("alert", "a-x", "d-1", history.Ok)
			r.park(history.KindDeadLetter, "a-x", "", 3, "telemetry/0", 5*sec)
		}, []string{"alert a-x: its record on the dead-letter stream by telemetry/0 at 5.00s carries no reason"}, false},
		{"a dead letter without a delivery count", "a-x", func(r *msgRun) {
			r.publish("alert", "a-x", "d-1", history.Ok)
			r.park(history.KindDeadLetter, "a-x", badCode, 3, "telemetry/0", 5*sec)
			r.park(history.KindDeadLetterFile, "a-x", badCode, 0, "telemetry/0", 5*sec)
		}, []string{"alert a-x: its record on the dead-letter file by telemetry/0 at 5.00s carries no delivery count"}, false},
		{"a dead letter of no client's event", "", func(r *msgRun) {
			r.park(history.KindDeadLetter, "ghost", "", 0, "telemetry/0", 5*sec)
		}, []string{"event ghost: its record on the dead-letter stream by telemetry/0 at 5.00s carries no reason and no delivery count"}, false},
		{"re-driven, never processed", "a-x", func(r *msgRun) {
			r.publish("alert", "a-x", "d-1", history.Ok)
			r.park(history.KindDeadLetter, "a-x", "store: connection refused", 4, "telemetry/0", 5*sec)
			r.redrive("a-x", 12*sec)
		}, []string{"alert a-x re-driven at 12.00s, never processed"}, true},
		{"re-driven, never processed: a location", "l-x", func(r *msgRun) {
			r.publish("location", "l-x", "d-1", history.Info)
			r.park(history.KindDeadLetter, "l-x", "malformed: no position", 1, "telemetry/0", 5*sec)
			r.redrive("l-x", 12*sec)
			r.redrive("l-x", 15*sec)
		}, []string{"location l-x re-driven 2 times (first at 12.00s), never processed"}, false},
		{"re-driven, processed twice", "p-x", func(r *msgRun) {
			r.publish("payment", "p-x", "d-1", history.Ok)
			r.park(history.KindDeadLetter, "p-x", "store: connection refused", 4, "telemetry/0", 5*sec)
			r.redrive("p-x", 12*sec)
			r.apply("p-x", 1, "telemetry/1", 12*sec+10*ms)
			r.apply("p-x", 2, "telemetry/0", 13*sec)
		}, []string{"payment p-x re-driven at 12.00s, processed 2 times: delivery 1 by telemetry/1 at 12.01s, delivery 2 by telemetry/0 at 13.00s"}, true},
		{"re-driven, then parked again and applied", "a-x", func(r *msgRun) {
			r.publish("alert", "a-x", "d-1", history.Ok)
			r.park(history.KindDeadLetter, "a-x", "store: connection refused", 4, "telemetry/0", 5*sec)
			r.redrive("a-x", 12*sec)
			r.apply("a-x", 1, "telemetry/0", 12500*ms)
			r.park(history.KindDeadLetter, "a-x", "store: connection refused", 4, "telemetry/1", 13*sec)
		}, []string{`alert a-x dead-lettered`, `and also applied`}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cleanMessages()
			tc.plant(r)
			rs := messageResults(r.in)
			w := failsWith(t, rs["dead-letters-accounted"], tc.id, tc.parts...)
			if tc.id == "" && w.ID != "ghost" {
				t.Errorf("witness of %s, want ghost", w.ID)
			}
			if len(w.Effects) == 0 && !strings.HasPrefix(tc.name, "neither") {
				t.Errorf("witness without effects")
			}
			if d := rs["delivery"]; (d.Verdict == Fail) != tc.delivery {
				t.Errorf("delivery = %s (%s): %s", d.Verdict, d.Summary, notes(d.Witnesses))
			}
		})
	}
}

// An at-most-once event may be lost; anything else of it is judged as of any other.
func TestDeadLettersToleratesALostLocation(t *testing.T) {
	r := cleanMessages()
	r.publish("location", "l-x", "d-1", history.Ok)
	at := r.publish("location", "l-bad", "d-1", history.Ok)
	r.park(history.KindDeadLetter, "l-bad", "malformed: no position", 1, "telemetry/1", at+5*ms)
	res := one(r.in, "dead-letters-accounted", nil)
	if res.Verdict != Pass {
		t.Fatalf("%s (%s): %s", res.Verdict, res.Summary, notes(res.Witnesses))
	}
	wantMeasures(t, "dead-letters-accounted", res.Measures, map[string]int64{"parked": 3, "parked_in_file": 1, "redriven": 1})
	if !strings.Contains(res.Summary, "3 parked (1 in a dead-letter file), 1 re-driven") {
		t.Errorf("summary %q", res.Summary)
	}
}

// A message parked, re-driven, parked in a file while the stream was down, moved to
// the stream, re-driven again and processed is accounted for... but parked twice: a
// re-driven message must be processed, not parked again.
func TestDeadLettersParkingsAreGroupedByReDrive(t *testing.T) {
	r := cleanMessages()
	at := r.publish("alert", "a-x", "d-1", history.Ok)
	r.park(history.KindDeadLetterFile, "a-x", "store: connection refused", 4, "telemetry/0", at+sec)
	r.park(history.KindDeadLetter, "a-x", "store: connection refused", 4, "telemetry/0", at+sec)
	r.redrive("a-x", at+3*sec)
	r.apply("a-x", 1, "telemetry/1", at+3*sec+10*ms)
	m := &message{ref: 0}
	for i, e := range r.in.Effects {
		if e.ID != "a-x" {
			continue
		}
		switch e.Kind {
		case history.KindDeadLetter, history.KindDeadLetterFile:
			m.parked = append(m.parked, int32(i))
		case history.KindRedrive:
			m.redrives = append(m.redrives, int32(i))
		}
	}
	ix := NewIndex(r.in)
	ps := ix.parkings(m)
	if len(ps) != 1 || len(ps[0].records) != 2 || !ps[0].redriven || ps[0].again || leftParked(ps) {
		t.Fatalf("parkings %+v: want one, of the file and the stream, re-driven", ps)
	}
	if res := one(r.in, "dead-letters-accounted", nil); res.Verdict != Pass || res.Measures["parked"] != 3 || res.Measures["redriven"] != 2 {
		t.Errorf("%s (%s) %v: %s", res.Verdict, res.Summary, res.Measures, notes(res.Witnesses))
	}
}

func TestDeadLettersNothingParkedIsUnknown(t *testing.T) {
	r := newMsgRun()
	for _, id := range []string{"a-1", "a-2"} {
		at := r.publish("alert", id, "d-1", history.Ok)
		r.apply(id, 1, "telemetry/0", at+10*ms)
	}
	r.publish("payment", "p-lost", "d-1", history.Ok) // lost, but delivery judges that
	res := one(r.in, "dead-letters-accounted", nil)
	if res.Verdict != Unknown || !strings.Contains(res.Summary, "the dead-letter path was never exercised") {
		t.Errorf("%s (%s), want unknown", res.Verdict, res.Summary)
	}
	if res := one(r.in, "delivery", nil); res.Verdict != Fail {
		t.Errorf("delivery = %s (%s), want the lost payment", res.Verdict, res.Summary)
	}
	if res := one(synth(100, 3, 2), "dead-letters-accounted", nil); res.Verdict != Unknown {
		t.Errorf("a bank run: %s (%s)", res.Verdict, res.Summary)
	}
	if res := one(cleanMessages().in, "dead-letters-accounted", map[string]string{"at-least-once": "a b"}); res.Verdict != Unknown || !strings.Contains(res.Summary, "parameter at-least-once") {
		t.Errorf("bad parameter: %s (%s)", res.Verdict, res.Summary)
	}
}

// A re-driven message that gets stuck again (its replica died holding it) and is
// parked again is accounted for: not processed, not lost.
func TestDeadLettersRedrivenThenStuckAgain(t *testing.T) {
	r := cleanMessages()
	r.publish("alert", "a-x", "d-1", history.Ok)
	r.park(history.KindDeadLetter, "a-x", "delivered 2 times without an acknowledgement", 2, "telemetry/0", 5*sec)
	r.redrive("a-x", 12*sec)
	r.park(history.KindDeadLetter, "a-x", "delivered 2 times without an acknowledgement", 2, "telemetry/1", 13*sec)
	if res := messageResults(r.in)["dead-letters-accounted"]; res.Verdict != Pass {
		t.Errorf("%s (%s): %s", res.Verdict, res.Summary, notes(res.Witnesses))
	}
}

// At least once allows a re-driven alert applied twice (its replica was killed before
// the acknowledgement); a re-driven payment applied twice is a violation (above).
func TestDeadLettersRedrivenAlertAppliedTwice(t *testing.T) {
	r := cleanMessages()
	r.publish("alert", "a-x", "d-1", history.Ok)
	r.park(history.KindDeadLetter, "a-x", "delivered 2 times without an acknowledgement", 2, "telemetry/0", 5*sec)
	r.redrive("a-x", 12*sec)
	r.apply("a-x", 1, "telemetry/0", 12100*ms)
	r.apply("a-x", 2, "telemetry/1", 15*sec)
	if res := messageResults(r.in)["dead-letters-accounted"]; res.Verdict != Pass {
		t.Errorf("%s (%s): %s", res.Verdict, res.Summary, notes(res.Witnesses))
	}
}
