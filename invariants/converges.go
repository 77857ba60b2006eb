package invariants

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/mscli/mscli/history"
)

// converges: after the system went quiet, every read model equals its service's write
// model within `within`, and so do the final reads through the public API. It judges
// the final observation (equal states per key — value and version — and the same
// operations, each on the same key for the same amount), the final public reads, and
// the state snapshots the runner took while waiting (effects of kind state with a
// time), from which it measures the time to converge.
func checkConverges(ctx context.Context, ix *Index, params map[string]string) Result {
	within, err := durationParam(params, "within", 10*time.Second)
	if err != nil {
		return UnknownResult(err.Error())
	}
	if miss := ix.MissingViews(); miss != "" {
		return UnknownResult(miss)
	}
	writes := ix.writeViews()
	if len(writes) == 0 {
		return UnknownResult("no write-model effects were observed: nothing to judge")
	}
	var ws []Witness
	bad := map[[2]string]bool{} // (view, key) pairs that differ
	checked := 0
	flag := func(view, key string, w Witness) {
		bad[[2]string{view, key}] = true
		if len(ws) < MaxWitnesses {
			ws = append(ws, w)
		}
	}
	reads := 0
	for _, w := range writes {
		for _, r := range ix.views {
			if r.service != w.service || r.view == history.WriteView {
				continue
			}
			reads++
			name := r.service + "/" + r.view
			keys := map[string]bool{}
			for k := range w.states {
				keys[k] = true
			}
			for k := range r.states {
				keys[k] = true
			}
			checked += len(keys)
			for _, k := range sortedKeys(keys) {
				we, re := ix.stateOf(w, k), ix.stateOf(r, k)
				if history.SameState(we, re) {
					continue
				}
				effs := ix.effects(lastN(ix.keyEffects(w, k), 5))
				for _, e := range []*history.Effect{we, re} {
					if e != nil {
						effs = append(effs, *e)
					}
				}
				flag(name, k, ix.EffectWitness(k, name, fmt.Sprintf("%s %s view never caught up with the write model: %s is %s in the write model, %s in the %s model",
					r.service, r.view, k, history.StateString(we), history.StateString(re), r.view), effs))
			}
			for n := range ix.infos {
				if cancelled(ctx, n) {
					return UnknownResult("ran out of time")
				}
				num := int32(n)
				inW, inR := w.count(num) > 0, r.count(num) > 0
				switch {
				case inR && !inW:
					e := ix.recs.Effect(int(r.first[num]))
					flag(name, e.Key, ix.OpWitness(OpRef(num), name,
						fmt.Sprintf("%s %s view applied %s, which the write model never applied", r.service, r.view, ix.id(int(n))), ix.effects(r.effectsOf(num))))
				case inW && !inR:
					e := ix.recs.Effect(int(w.first[num]))
					flag(name, e.Key, ix.OpWitness(OpRef(num), name,
						fmt.Sprintf("%s %s view never applied %s, which the write model applied", r.service, r.view, ix.id(int(n))), ix.effects(w.effectsOf(num))))
				case inW && inR:
					wi, ri := int(w.first[num]), int(r.first[num])
					if ix.recs.EffectKey(wi) == ix.recs.EffectKey(ri) && ix.recs.EffectAmount(wi) == ix.recs.EffectAmount(ri) {
						continue
					}
					we, re := ix.recs.Effect(wi), ix.recs.Effect(ri)
					flag(name, re.Key, ix.OpWitness(OpRef(num), name,
						fmt.Sprintf("%s %s view applied %s on %s for %+d, the write model on %s for %+d", r.service, r.view, ix.id(int(n)), re.Key, re.Amount, we.Key, we.Amount),
						ix.effects(append(w.effectsOf(num), r.effectsOf(num)...))))
				}
			}
		}
	}
	unread := 0 // keys of the public API with no final read
	if svc := ix.In.PublicReads; svc != "" {
		c, u, ok := ix.judgePublicReads(svc, flag)
		if !ok {
			return UnknownResult(fmt.Sprintf("%s's public API was never read once the system was quiet: no final read to hold against the write model", svc))
		}
		checked += c
		unread = u
	}
	if reads == 0 && ix.In.PublicReads == "" {
		return UnknownResult("no read model was observed and the public API was not read: nothing to judge")
	}
	res := NewResult(len(bad), checked, ws, "keys (per read view and the public API)")
	if res.Verdict != Pass {
		return res
	}
	if unread > 0 {
		res.Verdict = Unknown
		res.Summary = fmt.Sprintf("%d of %d keys have no final read through the public API: their reads after the system went quiet did not answer", unread, checked)
		return res
	}
	// Time to converge, from the snapshots: the first snapshot at which every read view
	// matched the write view, counted from when the system went quiet — the last heal
	// or the workload's last change, whichever came later (a read model cannot catch up
	// while the workload still writes).
	heal := ix.Quiet()
	times := make([]int64, 0, len(ix.snapshots))
	for t := range ix.snapshots {
		times = append(times, t)
	}
	sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
	var convergedAt int64 = -1
	for _, t := range times {
		if ctx.Err() != nil {
			return UnknownResult("ran out of time")
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
			res.Summary = fmt.Sprintf("converged %s after the system went quiet (within %s); %s", time.Duration(ttc).Round(time.Millisecond), within, res.Summary)
		}
	}
	return res
}

// judgePublicReads holds the final reads of a service's public API — per key, the last
// ok read invoked after the system went quiet and the runner stopped taking snapshots
// — against its write model's final states. It returns how many keys it judged, how
// many had no final read, and false when there was no final read at all.
func (ix *Index) judgePublicReads(svc string, flag func(view, key string, w Witness)) (checked, unread int, ok bool) {
	after := max(ix.Quiet(), ix.lastSnapshot)
	final := map[string]readOp{}
	for _, r := range ix.reads {
		inv, done := ptrTo(ix.recs.Op(int(r.invoke))), ptrTo(ix.recs.Op(int(r.complete)))
		if done.Type == history.Ok && inv.Time > after {
			final[done.Key] = r // reads are in completion order: the last one stays
		}
	}
	if len(final) == 0 {
		return 0, 0, false
	}
	w := ix.viewsBy[viewKey{svc, history.WriteView}]
	keys := map[string]bool{}
	for k := range final {
		keys[k] = true
	}
	if w != nil {
		for k := range w.states {
			keys[k] = true
		}
	}
	name := svc + "/public API"
	for _, k := range sortedKeys(keys) {
		checked++
		r, read := final[k]
		if !read {
			unread++
			continue
		}
		var we *history.Effect
		if w != nil {
			we = ix.stateOf(w, k)
		}
		seen, err := history.ObservedOf(ptrTo(ix.recs.Op(int(r.complete))))
		if err == nil && sameAsRead(we, seen) {
			continue
		}
		got := "nothing"
		if err != nil {
			got = "an unreadable value: " + err.Error()
		} else if seen.Value != nil {
			got = history.StateString(&history.Effect{Value: seen.Value, Seq: seen.Seq})
		}
		var effs []history.Effect
		if w != nil {
			effs = ix.effects(lastN(ix.keyEffects(w, k), 5))
		}
		if we != nil {
			effs = append(effs, *we)
		}
		wit := ix.EffectWitness(k, name, fmt.Sprintf("a final read of %s through %s's public API saw %s; the write model holds %s",
			k, svc, got, history.StateString(we)), effs)
		wit.Ops = append([]history.Op{ix.recs.Op(int(r.invoke)), ix.recs.Op(int(r.complete))}, wit.Ops...)
		flag(name, k, wit)
	}
	return checked, unread, true
}

// sameAsRead reports whether a public read saw the write model's state: the same
// value, and the same version where the read reports one.
func sameAsRead(we *history.Effect, seen history.Observed) bool {
	if we == nil || we.Value == nil {
		return seen.Value == nil
	}
	return seen.Value != nil && *seen.Value == *we.Value && (seen.Seq == 0 || seen.Seq == we.Seq)
}

// stateOf is a view's final state effect of a key, nil if it has none.
func (ix *Index) stateOf(v *view, key string) *history.Effect {
	if i, ok := v.states[key]; ok {
		return ptrTo(ix.recs.Effect(int(i)))
	}
	return nil
}

// keyEffects are a view's applied effects of one key, in the order reported.
func (ix *Index) keyEffects(v *view, key string) []int32 {
	var out []int32
	for _, e := range v.applied {
		if ix.recs.EffectKey(int(e)) == key {
			out = append(out, e)
		}
	}
	return out
}

func snapshotConverged(ix *Index, idx []int32) bool {
	type sv struct{ service, view string }
	states := map[sv]map[string]*history.Effect{}
	for _, i := range idx {
		e := ptrTo(ix.recs.Effect(int(i)))
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
		write, ok := states[sv{k.service, history.WriteView}]
		if !ok && !ix.declares(k.service, history.WriteView) {
			continue // a ledger of its own (a saga's participant): no read model of a write model
		}
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
