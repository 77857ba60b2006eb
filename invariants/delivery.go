package invariants

import (
	"context"
	"fmt"
	"strings"

	"github.com/mscli/mscli/history"
)

// delivery: for every event the workload published whose type (f) has a guarantee,
// with A its applied records (any service, any view) and "parked" whether it ended on
// the dead-letter stream or in a dead-letter file (its last parking not re-driven):
//
//   - at-most-once: A ≤ 1, whatever the outcome; an acknowledged event never applied
//     nor parked is a loss, tolerated and counted;
//   - at-least-once: acknowledged ⇒ A ≥ 1 or parked; more than one application is
//     allowed and counted;
//   - exactly-once: A ≤ 1, whatever the outcome; acknowledged ⇒ A = 1, or A = 0 and
//     parked;
//   - any: a publish that failed at the client (the broker never held it) has A = 0.
//
// An event that is parked is not lost: dead-letters-accounted judges the parking.
func checkDelivery(ctx context.Context, ix *Index, params map[string]string) Result {
	gs, err := guarantees(params)
	if err != nil {
		return UnknownResult(err.Error())
	}
	if miss := ix.MissingViews(); miss != "" {
		return UnknownResult(miss)
	}
	ms, ok := ix.messages(ctx, gs)
	if !ok {
		return UnknownResult("ran out of time")
	}
	if len(ms.judged) == 0 {
		return UnknownResult(fmt.Sprintf("nothing to judge: no event of a type with a guarantee (%s) was published", typesString(gs)))
	}
	if !ms.observed {
		return UnknownResult(fmt.Sprintf("nothing to judge: %d events were published, but no service reported an applied or dead-letter record", len(ms.judged)))
	}
	measures := map[string]int64{"lost_at_most_once": 0, "duplicates_at_least_once": 0, "redelivered_applied": 0}
	for g := atMostOnce; g <= exactlyOnce; g++ {
		measures["events_"+g.measure()] = 0
	}
	var ws []Witness
	violations := 0
	for i, m := range ms.judged {
		if cancelled(ctx, i) {
			return UnknownResult("ran out of time")
		}
		measures["events_"+m.g.measure()]++
		a := len(m.applied)
		for _, e := range m.applied {
			if ix.recs.Effect(int(e)).Deliveries >= 2 {
				measures["redelivered_applied"]++
			}
		}
		outcome := ix.outcome(ix.infos[m.ref])
		lost := outcome == history.Ok && a == 0 && !leftParked(ix.parkings(m))
		what := fmt.Sprintf("%s (%s)", ix.eventName(m), m.g)
		note := ""
		switch {
		case outcome == history.Fail && a > 0:
			note = fmt.Sprintf("%s failed at publish (the broker never held it), yet applied %s: %s", what, timesString(a), ix.applications(m.applied))
		case a > 1 && m.g != atLeastOnce:
			note = fmt.Sprintf("%s applied %s: %s", what, timesString(a), ix.applications(m.applied))
		case lost && m.g == atMostOnce:
			measures["lost_at_most_once"]++
		case lost:
			note = what + " acknowledged by the broker, never applied nor dead-lettered"
			if r := len(m.redrives); r > 0 {
				note += fmt.Sprintf(" (re-driven at %s, then never applied)", runClock(ix.recs.EffectAt(int(m.redrives[r-1]))))
			}
			note += ix.leftIn(m)
		case a > 1:
			measures["duplicates_at_least_once"]++
		}
		if note == "" {
			continue
		}
		violations++
		if len(ws) < MaxWitnesses {
			ws = append(ws, ix.messageWitness(m, note))
		}
	}
	res := NewResult(violations, len(ms.judged), ws, "events")
	res.Measures = measures
	res.Summary += fmt.Sprintf(" (%d at-most-once, %d at-least-once, %d exactly-once); %d at-most-once lost (tolerated), %d at-least-once applied more than once (allowed), %d applications of a redelivered message",
		measures["events_at_most_once"], measures["events_at_least_once"], measures["events_exactly_once"],
		measures["lost_at_most_once"], measures["duplicates_at_least_once"], measures["redelivered_applied"])
	return res
}

// messageWitness is the evidence about one event: its history lines, its applied,
// dead-letter and re-drive records by time, then its operation states, and the faults
// while it was published and when each record happened. Its view is its first
// record's.
func (ix *Index) messageWitness(m *message, note string) Witness {
	effs := ix.records(m.applied, m.parked, m.redrives)
	for _, v := range ix.views {
		if st, ok := v.state(int32(m.ref)); ok {
			effs = append(effs, history.Effect{Service: v.service, View: v.view, Kind: history.KindOperation, ID: ix.id(int(m.ref)), State: st})
		}
	}
	view := ""
	if len(effs) > 0 {
		view = effs[0].Service + "/" + effs[0].View
	}
	return ix.OpWitness(m.ref, view, note, effs)
}

// leftIn says the state the service left a lost event in, if it reports one: `; the
// service left it "dead_lettered"`.
func (ix *Index) leftIn(m *message) string {
	if st, ok := opStateIn(ix.views, int32(m.ref)); ok {
		return fmt.Sprintf("; the service left it %q", st)
	}
	return ""
}

// typesString lists the event types of each guarantee: "at-most-once location;
// at-least-once alert; exactly-once payment".
func typesString(gs map[string]guarantee) string {
	var parts []string
	for g := atMostOnce; g <= exactlyOnce; g++ {
		var fs []string
		for _, f := range sortedKeys(gs) {
			if gs[f] == g {
				fs = append(fs, f)
			}
		}
		if len(fs) > 0 {
			parts = append(parts, g.String()+" "+strings.Join(fs, ","))
		}
	}
	if len(parts) == 0 {
		return "none named"
	}
	return strings.Join(parts, "; ")
}
