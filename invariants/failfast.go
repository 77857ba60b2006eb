package invariants

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mscli/mscli/plan"
)

// fail-fast: for each down window on a dependency D, the operations of D's routes in
// flight only within [start+grace, stop] (invoked and completed there) have a p99
// latency (invoke to completion) of at most bound: once the breaker has learnt, a call
// is refused at once or answered from a fallback rather than waiting for its timeouts
// and retries. The calls invoked before, which met the dependency's first failures and
// waited them out (that is how a breaker learns), are not judged, however late they
// complete; nor those still in flight at the heal, which the heal itself may delay. For each window on D,
// down or slow, the operations of every other dependency's routes invoked in
// [start, stop] have a p99 of at most isolation, or 3 × their p99 while no fault was
// on (anywhere) when that is more: one dependency's trouble must not take the pool or
// the time the others need, and a dependency whose own latency has a long tail is held
// to its own level. The level is taken over all the quiet time, not only before the
// first fault: the start alone is a few seconds, warm-up among them. An operation that
// also reaches D, or that was in flight while a fault was on its own dependency, is
// left out of the others': its latency is its own fault's. A set of fewer than minOps operations is not judged; unknown when none
// is.
func checkFailFast(ctx context.Context, ix *Index, params map[string]string) Result {
	g, msg := newGateway(ix, params)
	if msg != "" {
		return UnknownResult(msg)
	}
	var bound, grace, isolation time.Duration
	for _, p := range []struct {
		name string
		def  time.Duration
		to   *time.Duration
	}{{"bound", 100 * time.Millisecond, &bound}, {"grace", time.Second, &grace}, {"isolation", 200 * time.Millisecond, &isolation}} {
		d, err := plan.DurationOf(params, p.name, p.def)
		if err != nil {
			return UnknownResult(err.Error())
		}
		*p.to = d
	}
	if !g.anyCalls() {
		return g.noCallsResult()
	}
	if len(g.windows) == 0 {
		return UnknownResult(fmt.Sprintf("no fault took effect on a dependency (%s): nothing to judge", g.depNames()))
	}
	base, quietN := map[string]int64{}, map[string]int{}
	for _, d := range g.deps {
		quietN[d] = len(g.quiet(d))
		base[d] = p99(g.quiet(d))
	}
	var ws []Witness
	violations, checked, unjudged := 0, 0, 0
	maxDown, maxOther := int64(-1), int64(-1)
	judge := func(w depWindow, dep string, set []gwCall, from int64, limit int64, why string) int64 {
		if len(set) < minOps {
			unjudged++
			return -1
		}
		checked++
		p := p99(set)
		if p > limit {
			violations++
			if len(ws) < MaxWitnesses {
				ws = append(ws, Witness{
					Note: fmt.Sprintf("p99 of %s was %s against a bound of %s%s, %s during %s (%d operations)",
						g.routeOps(dep), msString(p), msString(limit), why, g.span(w, from, w.to), g.fault(w), len(set)),
					Ops: g.opLines(slowest(set, 3)), Faults: g.faults(w)})
			}
		}
		return p
	}
	for _, w := range g.windows {
		if ctx.Err() != nil {
			return UnknownResult("ran out of time")
		}
		if w.down {
			from := w.from + int64(grace)
			maxDown = max(maxDown, judge(w, w.dep, g.within(w.dep, from, w.to), from, int64(bound), ""))
		}
		for _, e := range g.deps {
			if e == w.dep {
				continue
			}
			limit := max(int64(isolation), 3*base[e])
			why := fmt.Sprintf(" (the greater of %s and 3 × their p99 of %s while no fault was on: %d operations)", msString(int64(isolation)), msString(base[e]), quietN[e])
			maxOther = max(maxOther, judge(w, e, g.isolated(e, w), w.from, limit, why))
		}
	}
	if checked == 0 {
		return UnknownResult(fmt.Sprintf("nothing to judge: in %d fault windows on a dependency, each of the %d latency sets had fewer than %d operations",
			len(g.windows), unjudged, minOps))
	}
	res := NewResult(violations, checked, ws, "latency sets (a route's operations in a fault window)")
	res.Measures = map[string]int64{"sets_judged": int64(checked), "sets_unjudged": int64(unjudged)}
	var notes []string
	if maxDown >= 0 {
		res.Measures["p99_down_ns"] = maxDown
		notes = append(notes, fmt.Sprintf("p99 of a down dependency's routes at most %s (bound %s)", msString(maxDown), msString(int64(bound))))
	}
	if maxOther >= 0 {
		res.Measures["p99_other_ns"] = maxOther
		notes = append(notes, fmt.Sprintf("of the other routes at most %s", msString(maxOther)))
	}
	if unjudged > 0 {
		notes = append(notes, fmt.Sprintf("%d not judged (fewer than %d operations)", unjudged, minOps))
	}
	for _, n := range notes {
		res.Summary += "; " + n
	}
	return res
}

// quiet returns a dependency's operations that were in flight while no fault was on.
func (g *gateway) quiet(dep string) []gwCall {
	var out []gwCall
	for _, c := range g.calls[dep] {
		if len(g.ix.ActiveFaults(c.done-c.lat, c.done)) == 0 {
			out = append(out, c)
		}
	}
	return out
}

// within returns a dependency's operations invoked and completed in [from, to]: in
// flight only while the fault was on.
func (g *gateway) within(dep string, from, to int64) []gwCall {
	var out []gwCall
	for _, c := range g.between(dep, from, to) {
		if c.done-c.lat >= from {
			out = append(out, c)
		}
	}
	return out
}

// invokedIn returns a dependency's operations invoked in [from, to].
func (g *gateway) invokedIn(dep string, from, to int64) []gwCall {
	var out []gwCall
	for _, c := range g.between(dep, from, math.MaxInt64-1) {
		if at := c.done - c.lat; at >= from && at <= to {
			out = append(out, c)
		}
	}
	return out
}

// isolated returns the operations of dependency e's routes invoked during
// window w on another dependency, less those that also reach w's dependency and those
// in flight while a fault was on e itself.
func (g *gateway) isolated(e string, w depWindow) []gwCall {
	own := g.windowsOn(e)
	var out []gwCall
	for _, c := range g.invokedIn(e, w.from, w.to) {
		if slices.Contains(g.routes[w.dep], g.ix.recs.OpF(int(c.complete))) {
			continue
		}
		invoked, hit := g.ix.recs.OpTime(int(c.invoke)), false
		for _, o := range own {
			if o.from <= c.done && o.to >= invoked {
				hit = true
				break
			}
		}
		if !hit {
			out = append(out, c)
		}
	}
	return out
}
