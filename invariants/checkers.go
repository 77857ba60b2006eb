package invariants

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

func init() {
	Register(plan.InvariantKind{Name: "idempotent", Doc: "no operation takes effect twice"}, checkIdempotent)
	Register(plan.InvariantKind{Name: "durable", Doc: "every acknowledged operation took effect exactly once, as asked, or was rejected"}, checkDurable)
	Register(plan.InvariantKind{Name: "conservation", Doc: "each key's final value is its opening plus its applied effects"}, checkConservation)
	Register(plan.InvariantKind{Name: "ordered", Doc: "each read view applies a key's events in sequence order, none missing"}, checkOrdered)
	Register(plan.InvariantKind{Name: "converges", Doc: "read models and public reads equal the write model soon after the faults heal",
		Params: map[string]plan.Param{
			"within": {Type: plan.ParamDuration, Default: "10s", Doc: "how long read models may take to equal the write model after the faults heal"},
		}}, checkConverges)
}

// cancelled is polled inside long loops; checking ctx.Err on every item is too slow.
func cancelled(ctx context.Context, i int) bool { return i&0xfff == 0 && ctx.Err() != nil }

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// idempotent: in every view, no operation id has more than one effect.
func checkIdempotent(ctx context.Context, ix *Index, _ map[string]string) Result {
	if miss := ix.MissingViews(); miss != "" {
		return UnknownResult(miss)
	}
	if len(ix.views) == 0 {
		return UnknownResult("no effects were observed: nothing to judge")
	}
	var ws []Witness
	violations, checked := 0, 0
	for _, v := range ix.views {
		checked += len(v.applied) - extraCount(v)
		// Duplicates in the order they were first applied, so witnesses are stable.
		for i, e := range v.applied {
			if cancelled(ctx, i) {
				return UnknownResult("ran out of time")
			}
			if len(v.extra) == 0 {
				break
			}
			n := ix.effectNum(e)
			if len(v.extra[n]) == 0 || v.first[n] != e {
				continue
			}
			violations++
			if len(ws) < MaxWitnesses {
				effs := v.effectsOf(n)
				ws = append(ws, ix.OpWitness(OpRef(n), v.service+"/"+v.view,
					fmt.Sprintf("%s %s view applied %s %d times", v.service, v.view, ix.id(int(n)), len(effs)), ix.effects(effs)))
			}
		}
	}
	return NewResult(violations, checked, ws, "operations (per view)")
}

// durable: every acknowledged operation took effect exactly once, on the key and for
// the amount the client asked, or was recorded as rejected with no effect; no
// operation the service knows is left pending; a failed operation has no effect, an
// operation of unknown outcome at most one; no effect belongs to an operation no
// client invoked.
func checkDurable(ctx context.Context, ix *Index, _ map[string]string) Result {
	if miss := ix.MissingViews(history.WriteView); miss != "" {
		return UnknownResult(miss)
	}
	writes := ix.writeViews()
	if len(writes) == 0 {
		return UnknownResult("no write-model effects were observed: nothing to judge")
	}
	applied := func(n int32) (c int) {
		for _, v := range writes {
			c += v.count(n)
		}
		return c
	}
	effectsOf := func(n int32) []int32 {
		var out []int32
		for _, v := range writes {
			out = append(out, v.effectsOf(n)...)
		}
		return out
	}
	opState := func(n int32) (string, bool) {
		for _, v := range writes {
			if s, ok := v.state(n); ok {
				return s, true
			}
		}
		return "", false
	}
	var ws []Witness
	violations, checked := 0, 0
	add := func(num int32, note string) {
		violations++
		if len(ws) < MaxWitnesses {
			ws = append(ws, ix.OpWitness(OpRef(num), "", note, ix.effects(effectsOf(num))))
		}
	}
	for i := 0; i < ix.invoked; i++ {
		if cancelled(ctx, i) {
			return UnknownResult("ran out of time")
		}
		num := int32(i)
		id, info := ix.id(int(i)), ix.infos[i]
		n := applied(num)
		state, known := opState(num)
		checked++
		note := ""
		switch ix.outcome(info) {
		case history.Ok:
			switch {
			case n == 0 && state != history.StateRejected && known:
				note = fmt.Sprintf("acknowledged %s has no effect; the service left it %q", id, state)
			case n == 0 && state != history.StateRejected:
				note = fmt.Sprintf("acknowledged %s has no effect and the service does not know it", id)
			case n > 0 && state == history.StateRejected:
				note = fmt.Sprintf("%s is recorded as rejected but has %d effect(s)", id, n)
			case n > 1:
				note = fmt.Sprintf("acknowledged %s took effect %d times", id, n)
			case n > 0 && known && state != history.StateApplied:
				note = fmt.Sprintf("acknowledged %s took effect but the service left it %q", id, state)
			}
		case history.Fail:
			if n > 0 {
				note = fmt.Sprintf("%s failed at the client yet took effect %d time(s)", id, n)
			}
		default: // info, or never completed: 0 or 1 effect, but never left pending
			switch {
			case n > 1:
				note = fmt.Sprintf("%s (outcome unknown to the client) took effect %d times", id, n)
			case known && !history.Terminal(state):
				note = fmt.Sprintf("%s (outcome unknown to the client) is left pending in state %q", id, state)
			}
		}
		if note == "" && n > 0 {
			note = ix.notAsAsked(num, ix.outcome(info), writes)
		}
		if note != "" {
			add(num, note)
		}
	}
	// Effects of operations no client invoked: invented by the system.
	for num := int32(ix.invoked); int(num) < len(ix.infos); num++ {
		if c := applied(num); c > 0 {
			checked++
			add(num, fmt.Sprintf("the write model has %d effect(s) for %s, which no client invoked", c, ix.id(int(num))))
		}
	}
	return NewResult(violations, checked, ws, "operations")
}

// notAsAsked compares an operation's effects with its request: each must be on the
// key the client named and for the amount it asked. It describes the first
// difference, "" when there is none.
func (ix *Index) notAsAsked(num int32, outcome history.OpType, views []*view) string {
	line, ok := ix.requestLine(OpRef(num))
	if !ok {
		return ""
	}
	key, amount, hasAmount := requestedAt(ix.recs, line)
	who := func() string { // only for a difference: most operations have none
		switch outcome {
		case history.Ok:
			return "acknowledged " + ix.id(int(num))
		case history.Fail:
			return "failed " + ix.id(int(num))
		}
		return ix.id(int(num))
	}
	check := func(e int32) string {
		eKey, eAmount := ix.recs.EffectKey(int(e)), ix.recs.EffectAmount(int(e))
		switch {
		case key != "" && eKey != key:
			return fmt.Sprintf("%s took effect on %s, asked %s", who(), eKey, key)
		case hasAmount && eAmount != amount:
			return fmt.Sprintf("%s took effect for %+d on %s, asked %+d", who(), eAmount, eKey, amount)
		}
		return ""
	}
	for _, v := range views {
		if int(num) >= len(v.first) || v.first[num] < 0 {
			continue
		}
		if d := check(v.first[num]); d != "" {
			return d
		}
		for _, e := range v.extra[num] {
			if d := check(e); d != "" {
				return d
			}
		}
	}
	return ""
}

func (ix *Index) writeViews() []*view {
	var out []*view
	for _, v := range ix.views {
		if v.view == history.WriteView {
			out = append(out, v)
		}
	}
	return out
}

// conservation: per view and key, the sum of the effects' amounts equals the reported
// state. Accounts open with a recorded deposit, so the opening value is zero.
func checkConservation(ctx context.Context, ix *Index, _ map[string]string) Result {
	if miss := ix.MissingViews(); miss != "" {
		return UnknownResult(miss)
	}
	if len(ix.views) == 0 {
		return UnknownResult("no effects were observed: nothing to judge")
	}
	var ws []Witness
	violations, checked := 0, 0
	for _, v := range ix.views {
		kg := v.keyed(ix.recs)
		sums := make(map[string]int64, len(kg.keys))
		byKey := make(map[string][]int32, len(kg.keys))
		keys := make(map[string]bool, len(kg.keys)+len(v.states))
		for i, k := range kg.keys {
			sums[k], byKey[k], keys[k] = kg.sums[i], kg.groups[i], true
		}
		for k := range v.states {
			keys[k] = true
		}
		for n, k := range sortedKeys(keys) {
			if cancelled(ctx, n) {
				return UnknownResult("ran out of time")
			}
			checked++
			var have int64
			si, ok := v.states[k]
			if ok && ix.recs.Effect(int(si)).Value != nil {
				have = *ix.recs.Effect(int(si)).Value
			}
			if ok && have == sums[k] {
				continue
			}
			violations++
			if len(ws) < MaxWitnesses {
				note := fmt.Sprintf("%s %s view: %s holds %d but its effects add up to %d (%+d)", v.service, v.view, k, have, sums[k], have-sums[k])
				if !ok {
					note = fmt.Sprintf("%s %s view: %s has effects adding up to %d but no state", v.service, v.view, k, sums[k])
				}
				effs := ix.effects(lastN(byKey[k], 10))
				if ok {
					effs = append(effs, ix.recs.Effect(int(si)))
				}
				ws = append(ws, ix.EffectWitness(k, v.service+"/"+v.view, note, effs))
			}
		}
	}
	return NewResult(violations, checked, ws, "keys (per view)")
}

func lastN(s []int32, n int) []int32 {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// ordered: per view and key, the applied sequence numbers run 1, 2, 3, … with no
// repeat, swap or gap — in a read view ordered by the position it applied them at, in
// a write view by the sequence number itself.
func checkOrdered(ctx context.Context, ix *Index, _ map[string]string) Result {
	if miss := ix.MissingViews(); miss != "" {
		return UnknownResult(miss)
	}
	if len(ix.views) == 0 {
		return UnknownResult("no effects were observed: nothing to judge")
	}
	var ws []Witness
	violations, checked := 0, 0
	var byOrder []orderedEffect
	for _, v := range ix.views {
		kg := v.keyed(ix.recs)
		read := v.view != history.WriteView
		for n, k := range kg.keys {
			if cancelled(ctx, n) {
				return UnknownResult("ran out of time")
			}
			byOrder = byOrder[:0]
			for _, e := range kg.groups[n] {
				at := ix.recs.EffectSeq(int(e))
				if read {
					at = ix.recs.EffectPos(int(e))
				}
				byOrder = append(byOrder, orderedEffect{at, e})
			}
			// Most keys arrive in order: sorting those would cost more than the check.
			if !slices.IsSortedFunc(byOrder, orderedEffect.compare) {
				slices.SortStableFunc(byOrder, orderedEffect.compare)
			}
			checked++
			for i, o := range byOrder {
				e := o.effect
				if ix.recs.EffectSeq(int(e)) == int64(i+1) {
					continue
				}
				eff := ptrTo(ix.recs.Effect(int(e)))
				violations++
				if len(ws) < MaxWitnesses {
					what := "gap"
					switch {
					case eff.Seq <= int64(i):
						what = "repeat or step back"
					case i > 0 && eff.Seq > int64(i+1):
						what = "gap or swap"
					}
					lo := max(0, i-2)
					hi := min(len(byOrder), i+3)
					around := make([]int32, 0, hi-lo)
					for _, o := range byOrder[lo:hi] {
						around = append(around, o.effect)
					}
					want := int64(i + 1)
					note := fmt.Sprintf("%s %s view, %s: position %d holds seq %d (%s), want seq %d", v.service, v.view, k, i+1, eff.Seq, eff.ID, want)
					at := ix.effectNum(e)
					if n, ok := ix.holderOf(v.service, k, want); ok {
						// The operation that should have stood here, and the effects
						// around the break.
						note += fmt.Sprintf(" (%s)", ix.id(int(n)))
						at = n
					}
					w := ix.OpWitness(OpRef(at), v.service+"/"+v.view, note+" — "+what, ix.effects(around))
					w.Key = k
					ws = append(ws, w)
				}
				break // one witness per key: everything after the first break is shifted
			}
		}
	}
	return NewResult(violations, checked, ws, "keys (per view)")
}

// orderedEffect is an effect and the number a view's order sorts it by (its position
// in a read view, its seq in the write view): sorting these touches no wide record.
type orderedEffect struct {
	at     int64
	effect int32
}

func (a orderedEffect) compare(b orderedEffect) int { return cmp.Compare(a.at, b.at) }

// holderOf is the operation a service's write model applied to key at seq.
func (ix *Index) holderOf(service, key string, seq int64) (int32, bool) {
	w := ix.viewsBy[viewKey{service, history.WriteView}]
	if w == nil {
		return 0, false
	}
	for _, e := range w.applied {
		if eff := ptrTo(ix.recs.Effect(int(e))); eff.Key == key && eff.Seq == seq {
			return ix.opNum(eff.ID)
		}
	}
	return 0, false
}

// snapshotConverged reports whether, within one snapshot, every service's read views
// hold the same state per key as its write view.
func extraCount(v *view) (n int) {
	for _, e := range v.extra {
		n += len(e)
	}
	return n
}
