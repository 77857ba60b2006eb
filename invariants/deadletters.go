package invariants

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mscli/mscli/history"
)

// dead-letters-accounted: every event is processed or parked, never both, never
// neither; every parked message says why and after how many deliveries; a re-driven
// one is processed once. For every event the workload published whose type has a
// guarantee, with A its applied records and its parkings (its dead-letter records
// grouped by re-drive: a message moved from a replica's file to the stream is parked
// once):
//
//   - both: A ≥ 1 and the event ended parked, or one of its applications came before
//     a parking (it was processed, then parked);
//   - neither: acknowledged, not at-most-once, A = 0, never parked nor re-driven (it
//     was lost);
//   - every dead-letter record carries a reason and a delivery count of 1 or more —
//     those of ids of no type with a guarantee too;
//   - re-driven: processed once (A = 1; more for an at-least-once type), or parked
//     again (stuck again) and not processed; never lost.
//
// A run that parked nothing and re-drove nothing never exercised the dead-letter
// path: unknown.
func checkDeadLetters(ctx context.Context, ix *Index, params map[string]string) Result {
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
	if !ms.exercised {
		return UnknownResult("nothing was dead-lettered and nothing re-driven: the dead-letter path was never exercised, nothing to judge of it")
	}
	measures := map[string]int64{"parked": 0, "parked_in_file": 0, "redriven": 0, "applied": 0}
	var ws []Witness
	violations := 0
	all := slices.Concat(ms.judged, ms.others)
	for i, m := range all {
		if cancelled(ctx, i) {
			return UnknownResult("ran out of time")
		}
		ps := ix.parkings(m)
		if len(ps) > 0 {
			measures["parked"]++
		}
		if slices.ContainsFunc(m.parked, func(e int32) bool { return ix.recs.EffectKind(int(e)) == history.KindDeadLetterFile }) {
			measures["parked_in_file"]++
		}
		if len(m.redrives) > 0 {
			measures["redriven"]++
		}
		if len(m.applied) > 0 {
			measures["applied"]++
		}
		if probs := ix.accountProblems(m, ps); len(probs) > 0 {
			violations++
			if len(ws) < MaxWitnesses {
				ws = append(ws, ix.messageWitness(m, strings.Join(probs, "; ")))
			}
		}
	}
	res := NewResult(violations, len(all), ws, "events")
	res.Measures = measures
	res.Summary += fmt.Sprintf("; %d parked (%d in a dead-letter file), %d re-driven", measures["parked"], measures["parked_in_file"], measures["redriven"])
	return res
}

// accountProblems lists what breaks an event's accounting, none when it holds.
func (ix *Index) accountProblems(m *message, ps []parking) []string {
	var p []string
	name, a := ix.eventName(m), len(m.applied)
	if a > 0 {
		for _, pk := range ps {
			if !pk.redriven || ix.appliedBefore(m, pk) {
				p = append(p, fmt.Sprintf("%s dead-lettered %s and also applied (%s)", name, ix.parkedString(pk), ix.applications(m.applied)))
				break
			}
		}
	}
	if m.g != noGuarantee && m.g != atMostOnce && ix.outcome(ix.infos[m.ref]) == history.Ok && a == 0 && len(ps) == 0 && len(m.redrives) == 0 {
		p = append(p, fmt.Sprintf("%s (%s) acknowledged by the broker, neither applied nor dead-lettered: lost%s", name, m.g, ix.leftIn(m)))
	}
	for _, n := range m.parked {
		e := ptrTo(ix.recs.Effect(int(n)))
		var missing []string
		if e.Reason == "" {
			missing = append(missing, "no reason")
		}
		if e.Deliveries < 1 {
			missing = append(missing, "no delivery count")
		}
		if len(missing) > 0 {
			where := "dead-letter stream"
			if e.Kind == history.KindDeadLetterFile {
				where = "dead-letter file"
			}
			p = append(p, fmt.Sprintf("%s: its record on the %s%s carries %s", name, where, byWhom(e), strings.Join(missing, " and ")))
		}
	}
	if r := len(m.redrives); r > 0 {
		redriven := "re-driven at " + runClock(ix.recs.EffectAt(int(m.redrives[0])))
		if r > 1 {
			redriven = fmt.Sprintf("re-driven %d times (first at %s)", r, runClock(ix.recs.EffectAt(int(m.redrives[0]))))
		}
		parkedAgain := len(ps) > 0 && !ps[len(ps)-1].redriven
		switch {
		case a == 0 && !parkedAgain:
			p = append(p, fmt.Sprintf("%s %s, never processed", name, redriven))
		case a > 1 && m.g != atLeastOnce:
			// At least once allows a re-driven message applied twice (its replica
			// killed before the acknowledgement); the others do not.
			p = append(p, fmt.Sprintf("%s %s, processed %s: %s", name, redriven, timesString(a), ix.applications(m.applied)))
		}
		// Parked again after the re-drive (stuck again: its replica died holding it)
		// is accounted for; parked and applied is "both", above.
	}
	return p
}

// appliedBefore reports whether one of a message's applications came before a
// parking: it was processed, then parked. Records without a time are not compared.
func (ix *Index) appliedBefore(m *message, pk parking) bool {
	parkedAt := ix.recs.EffectAt(int(pk.records[0]))
	if parkedAt == 0 {
		return false
	}
	for _, e := range m.applied {
		if at := ix.recs.EffectAt(int(e)); at != 0 && at < parkedAt {
			return true
		}
	}
	return false
}
