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
	if miss := ix.missingViews(); miss != "" {
		return unknown(miss)
	}
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

// durable: every acknowledged operation took effect exactly once, on the key and for
// the amount the client asked, or was recorded as rejected with no effect; no
// operation the service knows is left pending; a failed operation has no effect, an
// operation of unknown outcome at most one; no effect belongs to an operation no
// client invoked.
func checkDurable(ctx context.Context, ix *Index, _ map[string]string) Result {
	if miss := ix.missingViews(history.WriteView); miss != "" {
		return unknown(miss)
	}
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
		note := ""
		switch info.outcome {
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
			note = ix.notAsAsked(num, info.outcome, writes)
		}
		if note != "" {
			add(num, note)
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

// notAsAsked compares an operation's effects with its request: each must be on the
// key the client named and for the amount it asked. It describes the first
// difference, "" when there is none.
func (ix *Index) notAsAsked(num int32, outcome history.OpType, views []*view) string {
	req := ix.request(num)
	if req == nil {
		return ""
	}
	key, amount, hasAmount := requested(req)
	who := ix.ids[num]
	switch outcome {
	case history.Ok:
		who = "acknowledged " + who
	case history.Fail:
		who = "failed " + who
	}
	check := func(e *history.Effect) string {
		switch {
		case req.Key != "" && e.Key != key:
			return fmt.Sprintf("%s took effect on %s, asked %s", who, e.Key, key)
		case hasAmount && e.Amount != amount:
			return fmt.Sprintf("%s took effect for %+d on %s, asked %+d", who, e.Amount, e.Key, amount)
		}
		return ""
	}
	for _, v := range views {
		if int(num) >= len(v.first) || v.first[num] < 0 {
			continue
		}
		if d := check(&ix.In.Effects[v.first[num]]); d != "" {
			return d
		}
		for _, e := range v.extra[num] {
			if d := check(&ix.In.Effects[e]); d != "" {
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
	if miss := ix.missingViews(); miss != "" {
		return unknown(miss)
	}
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
				effs := ix.effects(lastN(byKey[k], 10))
				if ok {
					effs = append(effs, ix.In.Effects[si])
				}
				ws = append(ws, ix.effectWitness(k, v.service+"/"+v.view, note, effs))
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
	if miss := ix.missingViews(); miss != "" {
		return unknown(miss)
	}
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
					want := int64(i + 1)
					note := fmt.Sprintf("%s %s view, %s: position %d holds seq %d (%s), want seq %d", v.service, v.view, k, i+1, eff.Seq, eff.ID, want)
					at := ix.effectNum(e)
					if n, ok := ix.holderOf(v.service, k, want); ok {
						// The operation that should have stood here, and the effects
						// around the break.
						note += fmt.Sprintf(" (%s)", ix.ids[n])
						at = n
					}
					w := ix.opWitness(at, v.service+"/"+v.view, note+" — "+what, effs[lo:hi])
					w.Key = k
					ws = append(ws, w)
				}
				break // one witness per key: everything after the first break is shifted
			}
		}
	}
	return verdictOf(violations, checked, ws, "keys (per view)")
}

// converges: after the system went quiet, every read model equals its service's write
// model within `within`, and so do the final reads through the public API. It judges
// the final observation (equal states per key — value and version — and the same
// operations, each on the same key for the same amount), the final public reads, and
// the state snapshots the runner took while waiting (effects of kind state with a
// time), from which it measures the time to converge.
func checkConverges(ctx context.Context, ix *Index, params map[string]string) Result {
	within, err := durationParam(params, "within", 10*time.Second)
	if err != nil {
		return unknown(err.Error())
	}
	if miss := ix.missingViews(); miss != "" {
		return unknown(miss)
	}
	writes := ix.writeViews()
	if len(writes) == 0 {
		return unknown("no write-model effects were observed: nothing to judge")
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
				flag(name, k, ix.effectWitness(k, name, fmt.Sprintf("%s %s view never caught up with the write model: %s is %s in the write model, %s in the %s model",
					r.service, r.view, k, history.StateString(we), history.StateString(re), r.view), effs))
			}
			for n := range ix.ids {
				if cancelled(ctx, n) {
					return unknown("ran out of time")
				}
				num := int32(n)
				inW, inR := w.count(num) > 0, r.count(num) > 0
				switch {
				case inR && !inW:
					e := ix.In.Effects[r.first[num]]
					flag(name, e.Key, ix.opWitness(num, name,
						fmt.Sprintf("%s %s view applied %s, which the write model never applied", r.service, r.view, ix.ids[n]), r.effectsOf(num)))
				case inW && !inR:
					e := ix.In.Effects[w.first[num]]
					flag(name, e.Key, ix.opWitness(num, name,
						fmt.Sprintf("%s %s view never applied %s, which the write model applied", r.service, r.view, ix.ids[n]), w.effectsOf(num)))
				case inW && inR:
					we, re := &ix.In.Effects[w.first[num]], &ix.In.Effects[r.first[num]]
					if we.Key != re.Key || we.Amount != re.Amount {
						flag(name, re.Key, ix.opWitness(num, name,
							fmt.Sprintf("%s %s view applied %s on %s for %+d, the write model on %s for %+d", r.service, r.view, ix.ids[n], re.Key, re.Amount, we.Key, we.Amount),
							append(w.effectsOf(num), r.effectsOf(num)...)))
					}
				}
			}
		}
	}
	unread := 0 // keys of the public API with no final read
	if svc := ix.In.PublicReads; svc != "" {
		c, u, ok := ix.judgePublicReads(svc, flag)
		if !ok {
			return unknown(fmt.Sprintf("%s's public API was never read once the system was quiet: no final read to hold against the write model", svc))
		}
		checked += c
		unread = u
	}
	if reads == 0 && ix.In.PublicReads == "" {
		return unknown("no read model was observed and the public API was not read: nothing to judge")
	}
	res := verdictOf(len(bad), checked, ws, "keys (per read view and the public API)")
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
	heal := ix.quiet()
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
	after := max(ix.quiet(), ix.lastSnapshot)
	final := map[string]readOp{}
	for _, r := range ix.reads {
		inv, done := &ix.In.Ops[r.invoke], &ix.In.Ops[r.complete]
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
		seen, err := history.ObservedOf(&ix.In.Ops[r.complete])
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
		wit := ix.effectWitness(k, name, fmt.Sprintf("a final read of %s through %s's public API saw %s; the write model holds %s",
			k, svc, got, history.StateString(we)), effs)
		wit.Ops = append([]history.Op{ix.In.Ops[r.invoke], ix.In.Ops[r.complete]}, wit.Ops...)
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
		return &ix.In.Effects[i]
	}
	return nil
}

// keyEffects are a view's applied effects of one key, in the order reported.
func (ix *Index) keyEffects(v *view, key string) []int32 {
	var out []int32
	for _, e := range v.applied {
		if ix.In.Effects[e].Key == key {
			out = append(out, e)
		}
	}
	return out
}

// holderOf is the operation a service's write model applied to key at seq.
func (ix *Index) holderOf(service, key string, seq int64) (int32, bool) {
	w := ix.viewsBy[viewKey{service, history.WriteView}]
	if w == nil {
		return 0, false
	}
	for _, e := range w.applied {
		if eff := &ix.In.Effects[e]; eff.Key == key && eff.Seq == seq {
			return ix.nums[eff.ID], true
		}
	}
	return 0, false
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
