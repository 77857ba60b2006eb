package reports

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/mscli/mscli/history"
)

// breakerSpan is one circuit breaker in one state, from one change to the next.
type breakerSpan struct {
	dependency, state string
	from, to          int64
}

// breakerSpans are the states each circuit breaker a gateway reported was in over the
// run (history.KindBreaker records, on the run clock), by lane in name order:
// each state lasts from its change to the next one, the last to end.
func breakerSpans(effects []history.Effect, end int64) (deps []string, spans []breakerSpan) {
	// One breaker per dependency and gateway replica: each replica keeps its own, so
	// a dependency two replicas guard is two lanes, named "catalog gateway/1".
	replicas := map[string]map[string]bool{}
	for _, e := range effects {
		if e.Kind == history.KindBreaker && e.Key != "" {
			if replicas[e.Key] == nil {
				replicas[e.Key] = map[string]bool{}
			}
			replicas[e.Key][e.Service+"/"+e.Replica] = true
		}
	}
	byDep := map[string][]history.Effect{}
	for _, e := range effects {
		if e.Kind == history.KindBreaker && e.Key != "" {
			lane := e.Key
			if len(replicas[e.Key]) > 1 {
				lane += " " + cmp.Or(e.Replica, e.Service)
			}
			byDep[lane] = append(byDep[lane], e)
		}
	}
	for dep := range byDep {
		deps = append(deps, dep)
	}
	slices.Sort(deps)
	for _, dep := range deps {
		es := byDep[dep]
		slices.SortStableFunc(es, func(a, b history.Effect) int { return cmp.Compare(a.At, b.At) })
		for i, e := range es {
			to := end
			if i+1 < len(es) {
				to = es[i+1].At
			}
			if to > e.At || (i+1 == len(es) && to == e.At) {
				spans = append(spans, breakerSpan{dependency: dep, state: e.State, from: max(e.At, 0), to: max(to, e.At)})
			}
		}
	}
	return deps, spans
}

// breakerChart draws each breaker's state as a lane of coloured spans (closed, open,
// half-open) on the charts' time axis, fault windows shaded: what the gateway did
// while the latency above it rose and fell. nil when no gateway reported a breaker.
func breakerChart(tl *Timeline, effects []history.Effect) *svgChart {
	span := int64(len(tl.Buckets)) * int64(tl.Bucket)
	deps, spans := breakerSpans(effects, max(tl.End, span))
	if len(deps) == 0 {
		return nil
	}
	c := frame(tl, "breakers", "Circuit breakers", "state by dependency", []series{
		{history.BreakerClosed, "closed", nil}, {history.BreakerHalfOpen, "half-open", nil}, {history.BreakerOpen, "open", nil}})
	lane := c.PH / float64(len(deps))
	laneOf := map[string]int{}
	for i, d := range deps {
		laneOf[d] = i
		c.YTicks = append(c.YTicks, svgTick{Pos: r1(c.Top + lane*(float64(i)+0.5)), Label: d})
	}
	x := func(t int64) float64 {
		if span <= 0 {
			return c.Left
		}
		return c.Left + float64(min(t, span))/float64(span)*c.PW
	}
	for _, s := range spans {
		x0, x1 := x(s.from), x(s.to)
		y := c.Top + lane*float64(laneOf[s.dependency]) + lane*0.2
		c.Rects = append(c.Rects, svgRect{Class: "br " + s.state, X: r1(x0), Y: r1(y), W: r1(max(x1-x0, 1)), H: r1(lane * 0.6),
			Title: fmt.Sprintf("%s breaker %s from %s to %s", s.dependency, s.state, secs(s.from), secs(s.to))})
	}
	c.Empty = false
	return &c
}

// effectsWhere gives back whole the effects of recs that keep picks by their columns:
// what a chart of a few kinds of record takes from a run of millions.
func effectsWhere(recs *history.Records, keep func(i int) bool) []history.Effect {
	var out []history.Effect
	for i := range recs.NumEffects() {
		if keep(i) {
			out = append(out, recs.Effect(i))
		}
	}
	return out
}
