package invariants

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/mscli/mscli/history"
)

func init() {
	Register("idempotent", checkIdempotent)
	Register("durable", checkDurable)
	Register("conservation", checkConservation)
	Register("ordered", checkOrdered)
	Register("converges", checkConverges)
}

// cancelled is polled inside long loops; checking ctx.Err on every item is too slow.
func cancelled(ctx context.Context, i int) bool { return i&0xfff == 0 && ctx.Err() != nil }

func unknown(summary string) Result { return Result{Verdict: Unknown, Summary: summary} }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// idempotent: in every view, no operation id has more than one effect.
func checkIdempotent(ctx context.Context, ix *Index, _ map[string]string) Result {
	if len(ix.views) == 0 {
		return unknown("no effects were observed: nothing to judge")
	}
	var ws []Witness
	violations, checked := 0, 0
	for _, v := range ix.views {
		checked += len(v.applied) - extraCount(v)
		// Duplicates in the order they were first applied, so witnesses are stable.
		for i, e := range v.applied {
			if cancelled(ctx, i) {
				return unknown("ran out of time")
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
				ws = append(ws, ix.opWitness(n, v.service+"/"+v.view,
					fmt.Sprintf("%s %s view applied %s %d times", v.service, v.view, ix.ids[n], len(effs)), effs))
			}
		}
	}
	return verdictOf(violations, checked, ws, "operations (per view)")
}

// durable: every acknowledged operation is applied exactly once or recorded as rejected;
// no operation the service knows is left pending; a failed operation has no effect; no
// effect belongs to an operation no client invoked.
func checkDurable(ctx context.Context, ix *Index, _ map[string]string) Result {
	writes := ix.writeViews()
	if len(writes) == 0 {
		return unknown("no write-model effects were observed: nothing to judge")
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
			ws = append(ws, ix.opWitness(num, "", note, effectsOf(num)))
		}
	}
	for i := 0; i < ix.invoked; i++ {
		if cancelled(ctx, i) {
			return unknown("ran out of time")
		}
		num := int32(i)
		id, info := ix.ids[i], ix.infos[i]
		n := applied(num)
		state, known := opState(num)
		checked++
		switch info.outcome {
		case history.Ok:
			switch {
			case n == 0 && state != history.StateRejected:
				if known {
					add(num, fmt.Sprintf("acknowledged %s has no effect; the service left it %q", id, state))
				} else {
					add(num, fmt.Sprintf("acknowledged %s has no effect and the service does not know it", id))
				}
			case n > 0 && state == history.StateRejected:
				add(num, fmt.Sprintf("%s is recorded as rejected but has %d effect(s)", id, n))
			case n > 0 && known && state != history.StateApplied:
				add(num, fmt.Sprintf("acknowledged %s took effect but the service left it %q", id, state))
			}
		case history.Fail:
			if n > 0 {
				add(num, fmt.Sprintf("%s failed at the client yet took effect %d time(s)", id, n))
			}
		default: // info, or never completed: 0 or 1 effect, but never left pending
			if known && !history.Terminal(state) {
				add(num, fmt.Sprintf("%s (outcome unknown to the client) is left pending in state %q", id, state))
			}
		}
	}
	// Effects of operations no client invoked: invented by the system.
	for num := int32(ix.invoked); int(num) < len(ix.ids); num++ {
		if c := applied(num); c > 0 {
			checked++
			add(num, fmt.Sprintf("the write model has %d effect(s) for %s, which no client invoked", c, ix.ids[num]))
		}
	}
	return verdictOf(violations, checked, ws, "operations")
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
	if len(ix.views) == 0 {
		return unknown("no effects were observed: nothing to judge")
	}
	var ws []Witness
	violations, checked := 0, 0
	for _, v := range ix.views {
		sums := map[string]int64{}
		byKey := map[string][]int32{}
		for i, e := range v.applied {
			if cancelled(ctx, i) {
				return unknown("ran out of time")
			}
			eff := &ix.In.Effects[e]
			sums[eff.Key] += eff.Amount
			byKey[eff.Key] = append(byKey[eff.Key], e)
		}
		keys := map[string]bool{}
		for k := range sums {
			keys[k] = true
		}
		for k := range v.states {
			keys[k] = true
		}
		for _, k := range sortedKeys(keys) {
			checked++
			var have int64
			si, ok := v.states[k]
			if ok && ix.In.Effects[si].Value != nil {
				have = *ix.In.Effects[si].Value
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
				w := Witness{Key: k, View: v.service + "/" + v.view, Note: note, Effects: ix.effects(lastN(byKey[k], 10))}
				if ok {
					w.Effects = append(w.Effects, ix.In.Effects[si])
				}
				ws = append(ws, w)
			}
		}
	}
	return verdictOf(violations, checked, ws, "keys (per view)")
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
	if len(ix.views) == 0 {
		return unknown("no effects were observed: nothing to judge")
	}
	var ws []Witness
	violations, checked := 0, 0
	for _, v := range ix.views {
		byKey := map[string][]int32{}
		for _, e := range v.applied {
			k := ix.In.Effects[e].Key
			byKey[k] = append(byKey[k], e)
		}
		read := v.view != history.WriteView
		for n, k := range sortedKeys(byKey) {
			if cancelled(ctx, n) {
				return unknown("ran out of time")
			}
			effs := byKey[k]
			sort.SliceStable(effs, func(a, b int) bool {
				ea, eb := &ix.In.Effects[effs[a]], &ix.In.Effects[effs[b]]
				if read {
					return ea.Pos < eb.Pos
				}
				return ea.Seq < eb.Seq
			})
			checked++
			for i, e := range effs {
				eff := &ix.In.Effects[e]
				if eff.Seq == int64(i+1) {
					continue
				}
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
					hi := min(len(effs), i+3)
					w := ix.opWitness(ix.effectNum(e), v.service+"/"+v.view,
						fmt.Sprintf("%s %s view, %s: position %d holds seq %d, want %d (%s)", v.service, v.view, k, i+1, eff.Seq, i+1, what), effs[lo:hi])
					w.Key = k
					ws = append(ws, w)
				}
				break // one witness per key: everything after the first break is shifted
			}
		}
	}
	return verdictOf(violations, checked, ws, "keys (per view)")
}

// converges: after the last fault healed, every read model equals its service's write
// model within `within`. It judges the state snapshots the runner took while waiting
// (effects of kind state with a time), and the final observation: equal balances and
// the same set of applied operations.
func checkConverges(ctx context.Context, ix *Index, params map[string]string) Result {
	within, err := durationParam(params, "within", 10*time.Second)
	if err != nil {
		return unknown(err.Error())
	}
	writes := ix.writeViews()
	if len(writes) == 0 {
		return unknown("no write-model effects were observed: nothing to judge")
	}
	var ws []Witness
	violations, checked := 0, 0
	for _, w := range writes {
		for _, r := range ix.views {
			if r.service != w.service || r.view == history.WriteView {
				continue
			}
			checked++
			if diff := stateDiff(ix, w.states, r.states); diff != "" {
				violations++
				ws = append(ws, Witness{View: r.service + "/" + r.view, Key: diffKey(ix, w.states, r.states),
					Note: fmt.Sprintf("%s %s view never caught up with the write model: %s", r.service, r.view, diff)})
			}
			for n := range ix.ids {
				num := int32(n)
				inW, inR := w.count(num) > 0, r.count(num) > 0
				if inW == inR {
					continue
				}
				violations++
				if len(ws) >= MaxWitnesses {
					continue
				}
				if inR {
					ws = append(ws, ix.opWitness(num, r.service+"/"+r.view,
						fmt.Sprintf("%s %s view applied %s, which the write model never applied", r.service, r.view, ix.ids[n]), r.effectsOf(num)))
				} else {
					ws = append(ws, ix.opWitness(num, r.service+"/"+r.view,
						fmt.Sprintf("%s %s view never applied %s, which the write model applied", r.service, r.view, ix.ids[n]), w.effectsOf(num)))
				}
			}
		}
	}
	res := verdictOf(violations, checked, ws, "read views")
	if res.Verdict == Fail {
		return res
	}
	// Time to converge, from the snapshots: the first snapshot at which every read view
	// matched the write view, counted from when the system went quiet — the last heal
	// or the last operation record, whichever came later (a read model cannot catch up
	// while the workload still writes).
	heal := max(ix.lastHeal, ix.lastOp)
	times := make([]int64, 0, len(ix.snapshots))
	for t := range ix.snapshots {
		times = append(times, t)
	}
	sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
	var convergedAt int64 = -1
	for _, t := range times {
		if ctx.Err() != nil {
			return unknown("ran out of time")
		}
		if t >= heal && snapshotConverged(ix, ix.snapshots[t]) {
			convergedAt = t
			break
		}
	}
	res.Measures = map[string]int64{"within_ns": int64(within)}
	switch {
	case len(times) == 0:
		res.Summary += "; converged by the final observation (no snapshots were taken, so no time to converge)"
	case convergedAt < 0:
		// The final observation agrees but no snapshot did: it converged after the last one.
		res.Verdict = Fail
		res.Violations = 1
		res.Summary = fmt.Sprintf("no snapshot after the system went quiet showed the read models equal to the write model within %s", within)
	default:
		ttc := convergedAt - heal
		res.Measures["time_to_converge_ns"] = ttc
		if time.Duration(ttc) > within {
			res.Verdict = Fail
			res.Violations = 1
			res.Summary = fmt.Sprintf("converged %s after the system went quiet, later than %s", time.Duration(ttc).Round(time.Millisecond), within)
		} else {
			res.Summary = fmt.Sprintf("converged %s after the system went quiet (within %s)", time.Duration(ttc).Round(time.Millisecond), within)
		}
	}
	return res
}

// stateDiff describes how two views' final states differ, "" if they agree.
func stateDiff(ix *Index, write, read map[string]int32) string {
	n, first := 0, ""
	for _, k := range sortedKeys(write) {
		we := &ix.In.Effects[write[k]]
		ri, ok := read[k]
		var re *history.Effect
		if ok {
			re = &ix.In.Effects[ri]
		}
		if !history.SameState(we, re) {
			n++
			if first == "" {
				first = fmt.Sprintf("%s is %s in the write model, %s in the read model", k, history.StateString(we), history.StateString(re))
			}
		}
	}
	for _, k := range sortedKeys(read) {
		if _, ok := write[k]; !ok {
			n++
			if first == "" {
				first = fmt.Sprintf("%s exists only in the read model", k)
			}
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d key(s) differ; first: %s", n, first)
}

func diffKey(ix *Index, write, read map[string]int32) string {
	for _, k := range sortedKeys(write) {
		ri, ok := read[k]
		if !ok || !history.SameState(&ix.In.Effects[ri], &ix.In.Effects[write[k]]) {
			return k
		}
	}
	return ""
}

// snapshotConverged reports whether, within one snapshot, every service's read views
// hold the same state per key as its write view.
func snapshotConverged(ix *Index, idx []int32) bool {
	type sv struct{ service, view string }
	states := map[sv]map[string]*history.Effect{}
	for _, i := range idx {
		e := &ix.In.Effects[i]
		k := sv{e.Service, e.View}
		if states[k] == nil {
			states[k] = map[string]*history.Effect{}
		}
		if e.Value != nil {
			states[k][e.Key] = e
		}
	}
	for k, read := range states {
		if k.view == history.WriteView {
			continue
		}
		write := states[sv{k.service, history.WriteView}]
		if len(write) != len(read) {
			return false
		}
		for key, v := range write {
			if !history.SameState(read[key], v) {
				return false
			}
		}
	}
	return true
}

func extraCount(v *view) (n int) {
	for _, e := range v.extra {
		n += len(e)
	}
	return n
}
