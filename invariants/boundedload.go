package invariants

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/mscli/mscli/history"
)

// bounded-load: for each down window on a dependency D, the calls D received (the
// calls records it reported: Amount requests arrived in the interval starting At) stay
// within rate in every second of the window, counted in buckets of one second from its
// start; the last bucket is the window's last second, so that none is a sliver whose
// few calls would read as a high rate (a window shorter than a second is one bucket,
// held to rate as it is). Retries that do not back off, or that skip an open breaker,
// multiply the calls on a dependency that cannot answer them. A window on a dependency
// that reported no calls records is not judged; unknown when none is.
func checkBoundedLoad(ctx context.Context, ix *Index, params map[string]string) Result {
	g, msg := newGateway(ix, params)
	if msg != "" {
		return UnknownResult(msg)
	}
	rate := int64(50)
	if s := params["rate"]; s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return UnknownResult(fmt.Sprintf("parameter rate: invalid rate %q: want a whole number of calls a second, 1 or more", s))
		}
		rate = n
	}
	records := map[string][]int32{} // dependency → its calls records, by At
	for i := range ix.recs.NumEffects() {
		if cancelled(ctx, i) {
			return UnknownResult("ran out of time")
		}
		e := ix.recs.Effect(i)
		if _, dep := g.routes[e.Service]; dep && e.Kind == history.KindCalls {
			records[e.Service] = append(records[e.Service], int32(i))
		}
	}
	for _, rs := range records {
		slices.SortStableFunc(rs, func(a, b int32) int { return cmp.Compare(ix.recs.EffectAt(int(a)), ix.recs.EffectAt(int(b))) })
	}
	var ws []Witness
	var skip unjudged
	violations, checked, downs := 0, 0, 0
	maxRate := int64(-1)
	for _, w := range g.windows {
		if ctx.Err() != nil {
			return UnknownResult("ran out of time")
		}
		if !w.down {
			continue
		}
		downs++
		rs := records[w.dep]
		switch {
		case len(rs) == 0:
			skip.add(fmt.Sprintf("on %s, which reported no calls records", w.dep))
			continue
		case w.to <= w.from:
			skip.add("that lasted no time")
			continue
		case len(g.recordsIn(rs, w.from, w.to)) == 0:
			// Nothing reached it (a hang, a freeze, a kill): no load to judge, and a
			// window that counts no calls must not pass as one that was judged.
			skip.add("that no call reached")
			continue
		}
		checked++
		b := g.busiest(rs, w)
		maxRate = max(maxRate, b.calls)
		if b.calls <= rate {
			continue
		}
		violations++
		if len(ws) < MaxWitnesses {
			in := "the second"
			if b.to-b.from < int64(time.Second) {
				in = "the " + msString(b.to-b.from)
			}
			ws = append(ws, Witness{
				Note: fmt.Sprintf("%s received %d calls in %s from %s to %s against a bound of %d a second, during %s %s",
					w.dep, b.calls, in, secs(b.from), secs(b.to), rate, g.fault(w), g.span(w, w.from, w.to)),
				Effects: ix.effects(b.records[:min(len(b.records), 10)]),
				Ops:     g.opLines(slowest(g.between(w.dep, b.from, b.to), 3)),
				Faults:  g.faults(w)})
		}
	}
	if checked == 0 {
		if downs == 0 {
			return UnknownResult(fmt.Sprintf("no down fault took effect on a dependency (%s): nothing to judge", g.depNames()))
		}
		return UnknownResult(fmt.Sprintf("nothing to judge: of %d down windows on a dependency, %s", downs, skip.String()))
	}
	res := NewResult(violations, checked, ws, "down windows")
	res.Measures = map[string]int64{"max_calls_per_s": maxRate, "windows_judged": int64(checked), "windows_unjudged": int64(downs - checked)}
	res.Summary += fmt.Sprintf("; at most %d calls a second on a down dependency (bound %d)", maxRate, rate)
	if skip.total() > 0 {
		res.Summary += "; not judged: " + skip.String()
	}
	return res
}

// callBucket is the busiest second of a window: the calls a dependency received in it.
type callBucket struct {
	from, to int64
	calls    int64
	records  []int32
}

// busiest finds the bucket of a window in which the dependency received the most
// calls: one-second buckets from its start, the last one its last second.
func (g *gateway) busiest(rs []int32, w depWindow) callBucket {
	sec := int64(time.Second)
	best := callBucket{from: w.from, to: min(w.from+sec, w.to), calls: -1}
	for lo := w.from; ; lo += sec {
		hi := lo + sec
		if hi >= w.to {
			lo, hi = max(w.to-sec, w.from), w.to
		}
		b := callBucket{from: lo, to: hi, records: g.recordsIn(rs, lo, hi)}
		for _, r := range b.records {
			b.calls += g.ix.recs.EffectAmount(int(r))
		}
		if b.calls > best.calls {
			best = b
		}
		if hi >= w.to {
			return best
		}
	}
}

// recordsIn returns the calls records (by At) whose interval starts in [from, to).
func (g *gateway) recordsIn(rs []int32, from, to int64) []int32 {
	at := func(r int32, t int64) int { return cmp.Compare(g.ix.recs.EffectAt(int(r)), t) }
	lo, _ := slices.BinarySearchFunc(rs, from, at)
	hi, _ := slices.BinarySearchFunc(rs, to, at)
	return rs[lo:max(lo, hi)]
}
