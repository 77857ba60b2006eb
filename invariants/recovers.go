package invariants

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// recoverySlack is how far above its share before the first fault a dependency's bad
// share may stay once it recovered.
const recoverySlack = 0.02

// recovers: for each down window on a dependency D that healed, the bad share of D's
// routes — operations that did not complete ok with D's own answer (source upstream):
// failures, unknown outcomes, fallbacks, refusals by the breaker — comes back within
// `within` of the heal to at most its share before the first fault + 0.02. The
// recovery is the completion of the earliest operation after the heal such that the
// operations from it to the next window on D (or the end), minOps or more, have a bad
// share within that level; with no such operation, D was not recovered in the time
// watched. A window healed while another fault was still on D is not judged (that
// fault's heal is), nor one with fewer than minOps operations after its heal, nor one
// not recovered when the next fault on D came before within had passed, nor any on D
// when fewer than minOps of D's operations completed before the first fault: there is
// no level to come back to. Unknown when none is judged.
func checkRecovers(ctx context.Context, ix *Index, params map[string]string) Result {
	g, msg := newGateway(ix, params)
	if msg != "" {
		return UnknownResult(msg)
	}
	within, err := plan.DurationOf(params, "within", 5*time.Second)
	if err != nil {
		return UnknownResult(err.Error())
	}
	if !g.anyCalls() {
		return g.noCallsResult()
	}
	if !g.anySource() {
		return UnknownResult("no operation of the routes records who answered it (source): nothing to judge")
	}
	breakers := map[string][]int32{} // dependency → its breaker's records, by At
	for i := range ix.recs.NumEffects() {
		if cancelled(ctx, i) {
			return UnknownResult("ran out of time")
		}
		if e := ix.recs.Effect(i); e.Kind == history.KindBreaker {
			breakers[e.Key] = append(breakers[e.Key], int32(i))
		}
	}
	for _, rs := range breakers {
		slices.SortStableFunc(rs, func(a, b int32) int { return cmp.Compare(ix.recs.EffectAt(int(a)), ix.recs.EffectAt(int(b))) })
	}
	var ws []Witness
	var skip unjudged
	violations, checked, downs, lost := 0, 0, 0, 0
	maxRec := int64(-1)
	for _, w := range g.windows {
		if ctx.Err() != nil {
			return UnknownResult("ran out of time")
		}
		if !w.down {
			continue
		}
		downs++
		base := g.before(w.dep)
		next, last := g.watched(w)
		after := g.between(w.dep, w.to+1, last)
		switch {
		case !w.healed:
			skip.add("never healed")
			continue
		case g.faultAtHeal(w):
			skip.add("healed while another fault was on its dependency")
			continue
		case len(base) < minOps:
			skip.add(fmt.Sprintf("on %s, with fewer than %d operations before the first fault", w.dep, minOps))
			continue
		case len(after) < minOps:
			skip.add(fmt.Sprintf("with fewer than %d operations after the heal", minOps))
			continue
		}
		baseBad := g.countBad(base)
		level := float64(baseBad)/float64(len(base)) + recoverySlack
		levelNote := fmt.Sprintf("a level of %s (%d of %d bad before the first fault, + %.0f%%)",
			pct(level), baseBad, len(base), recoverySlack*100)
		i, ok := g.recovery(after, level, max(int64(within), int64(time.Second)))
		if !ok && next-w.to < int64(within) {
			// The next fault came before within had passed: a dependency that would
			// have recovered in time is not told from one that never would.
			skip.add(fmt.Sprintf("not recovered when the next fault on its dependency came, less than %s after the heal", msString(int64(within))))
			continue
		}
		checked++
		if ok {
			rec := after[i].done - w.to
			maxRec = max(maxRec, rec)
			if rec <= int64(within) {
				continue
			}
		} else {
			lost++
		}
		violations++
		if len(ws) >= MaxWitnesses {
			continue
		}
		var note string
		var offending []gwCall
		if ok {
			tail := after[i:]
			bad := g.countBad(tail)
			note = fmt.Sprintf("%s recovered %s after %s healed at %s, against a bound of %s: from %s to %s, %d of %d operations bad (%s) against %s",
				g.routeOps(w.dep), msString(after[i].done-w.to), g.fault(w), secs(w.to), msString(int64(within)),
				secs(after[i].done), secs(next), bad, len(tail), pct(float64(bad)/float64(len(tail))), levelNote)
			offending = g.lastBad(after[:i], 3)
		} else {
			bad := g.countBad(after)
			note = fmt.Sprintf("%s not recovered in the %s watched after %s healed at %s: to %s, %d of %d operations bad (%s) against %s",
				g.routeOps(w.dep), secs(next-w.to), g.fault(w), secs(w.to), secs(next), bad, len(after),
				pct(float64(bad)/float64(len(after))), levelNote)
			offending = g.lastBad(after, 3)
		}
		wit := Witness{Ops: g.opLines(offending), Faults: g.faults(w)}
		// The breaker's state as the watch ended: its last change by then, which may
		// be older than the window (a breaker that never closed since an earlier one).
		rs := g.breakerRecords(breakers[w.dep], math.MinInt64, next)
		if len(rs) > 0 {
			e := ptrTo(ix.recs.Effect(int(rs[len(rs)-1])))
			who := "the breaker"
			if e.Service != "" {
				who = e.Service + "'s breaker"
			}
			note += fmt.Sprintf("; %s on %s was last %s, since %s", who, w.dep, e.State, secs(e.At))
			during := g.breakerRecords(rs, w.from, next)
			if len(during) == 0 {
				during = rs[len(rs)-1:]
			}
			wit.Effects = ix.effects(during[max(0, len(during)-10):])
		}
		wit.Note = note
		ws = append(ws, wit)
	}
	if checked == 0 {
		if downs == 0 {
			return UnknownResult(fmt.Sprintf("no down fault took effect on a dependency (%s): nothing to judge", g.depNames()))
		}
		return UnknownResult(fmt.Sprintf("nothing to judge: of %d down windows on a dependency, %s", downs, skip.String()))
	}
	res := NewResult(violations, checked, ws, "healed down windows")
	res.Measures = map[string]int64{"not_recovered": int64(lost), "windows_judged": int64(checked), "windows_unjudged": int64(skip.total())}
	if maxRec >= 0 {
		res.Measures["max_recovery_ns"] = maxRec
		res.Summary += fmt.Sprintf("; the slowest recovery %s after its heal (bound %s)", msString(maxRec), msString(int64(within)))
	}
	if lost > 0 {
		res.Summary += fmt.Sprintf("; %d not recovered", lost)
	}
	if skip.total() > 0 {
		res.Summary += "; not judged: " + skip.String()
	}
	return res
}

// bad says whether an operation went wrong: it did not complete ok with an answer from
// its dependency itself.
func (g *gateway) bad(c gwCall) bool {
	o := ptrTo(g.ix.recs.Op(int(c.complete)))
	return o.Type != history.Ok || o.Source != history.SourceUpstream
}

func (g *gateway) countBad(cs []gwCall) (n int) {
	for _, c := range cs {
		if g.bad(c) {
			n++
		}
	}
	return n
}

// lastBad returns up to n of the last bad operations, in order.
func (g *gateway) lastBad(cs []gwCall, n int) []gwCall {
	var out []gwCall
	for i := len(cs) - 1; i >= 0 && len(out) < n; i-- {
		if g.bad(cs[i]) {
			out = append(out, cs[i])
		}
	}
	slices.Reverse(out)
	return out
}

// anySource says whether some operation of the routes records who answered it: a
// workload that does not cannot tell a fallback from the dependency's answer.
func (g *gateway) anySource() bool {
	for _, cs := range g.calls {
		for _, c := range cs {
			if g.ix.recs.Op(int(c.complete)).Source != "" {
				return true
			}
		}
	}
	return false
}

// recovery finds the earliest operation from which on, over the next span (within,
// or a second when that is more), the bad
// share is within level; false when there is none. The stretch is bounded: over all
// the rest, a long good tail would dilute any slow recovery. It must hold minOps
// operations or more: the last few alone, good by chance, would make any dependency
// recover at the very end.
func (g *gateway) recovery(after []gwCall, level float64, span int64) (int, bool) {
	at, bad, hi := -1, 0, len(after) // bad counts the bad operations of after[i:hi]
	for i := len(after) - 1; i >= 0; i-- {
		if g.bad(after[i]) {
			bad++
		}
		for hi > i+1 && after[hi-1].done > after[i].done+span {
			hi--
			if g.bad(after[hi]) {
				bad--
			}
		}
		if n := hi - i; n >= minOps && float64(bad) <= level*float64(n)+1e-9 {
			at = i
		}
	}
	return at, at >= 0
}

// watched is the time a window's recovery is watched: from its heal to the start of
// the next window on its dependency, or to the end. last is the latest completion in
// it: an operation that completed as the next fault started is that fault's.
func (g *gateway) watched(w depWindow) (next, last int64) {
	next, last = g.end, g.end
	for _, o := range g.windows {
		if o.dep == w.dep && o.from > w.to && o.from < next {
			next, last = o.from, o.from-1
		}
	}
	return next, last
}

// faultAtHeal says whether another fault was on the window's dependency when it healed.
func (g *gateway) faultAtHeal(w depWindow) bool {
	for _, o := range g.windows {
		if o.dep == w.dep && o.start != w.start && o.from <= w.to && o.to > w.to {
			return true
		}
	}
	return false
}

// breakerRecords returns the breaker records (by At) in [from, to].
func (g *gateway) breakerRecords(rs []int32, from, to int64) []int32 {
	at := func(r int32, t int64) int { return cmp.Compare(g.ix.recs.EffectAt(int(r)), t) }
	lo, _ := slices.BinarySearchFunc(rs, from, at)
	hi, _ := slices.BinarySearchFunc(rs, to+1, at)
	return rs[lo:max(lo, hi)]
}

// pct writes a share as a percentage: "2.0%".
func pct(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }
