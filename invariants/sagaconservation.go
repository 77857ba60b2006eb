package invariants

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
)

// defaultSagaFields is saga-conservation's steps when a spec gives none: the saga
// fixture's (an order's amount is charged, its qty reserved).
const defaultSagaFields = "charge=amount,reserve=qty"

// saga-conservation: for each step S held against a request field F, a completed
// saga's S and its compensations net -request[F], a cancelled saga's net 0, and over
// every saga S nets minus the sum of request[F] over the completed ones — so a saga
// left half-way, a compensation skipped, doubled or of nothing, a step applied twice,
// all show as value created or destroyed across services. And no state (final, or
// polled while converging) of a view that holds saga effects is below zero.
func checkSagaConservation(ctx context.Context, ix *Index, params map[string]string) Result {
	spec := params["steps"]
	if spec == "" {
		spec = defaultSagaFields
	}
	fields, err := sagaSteps(spec, true)
	if err != nil {
		return UnknownResult(err.Error())
	}
	ss, why := ix.judgeableSagas(ctx)
	if ss == nil {
		return UnknownResult(why)
	}
	type total struct {
		net, want int64
		unjudged  bool
		off       []*saga // the sagas whose net is not what their end asks
	}
	totals := make([]total, len(fields))
	var ws []Witness
	violations, checked := 0, 0
	unjudged := ""
	for i, s := range ss.list {
		if cancelled(ctx, i) {
			return UnknownResult("ran out of time")
		}
		ts := ix.tally(s)
		var req *history.Op
		if s.ref >= 0 {
			req = ix.Request(s.ref)
		}
		for j, f := range fields {
			t := &totals[j]
			net := stepOf(ts, f.step).net
			t.net += net
			note := ""
			switch {
			case s.completed() && req == nil:
				if net != 0 {
					note = fmt.Sprintf("%s completed with its %s netting %+d, but no client asked for it", s.id, f.step, net)
				}
			case s.completed():
				v, ok := requestField(req, f.field)
				if !ok {
					t.unjudged = true
					unjudged = fmt.Sprintf("the request of completed %s carries no whole number %q to hold its %s against (steps %s)", s.id, f.field, f.step, spec)
					continue
				}
				t.want -= v
				if net != -v {
					note = fmt.Sprintf("%s completed with its %s netting %+d, for a request of %s %d (want %+d)", s.id, f.step, net, f.field, v, -v)
				}
			case s.cancelled():
				if net != 0 {
					note = fmt.Sprintf("%s was cancelled (%s), yet its %s nets %+d (want 0)", s.id, s.state, f.step, net)
				}
			case net != 0:
				// Not ended: saga-atomic's to judge; its net shows in the total.
				t.off = append(t.off, s)
			}
			if note == "" {
				continue
			}
			t.off = append(t.off, s)
			violations++
			if len(ws) < MaxWitnesses {
				ws = append(ws, ix.sagaWitness(note, ix.sagaEffects(s, &f.step), s))
			}
		}
		if s.completed() || s.cancelled() {
			checked++
		}
	}
	for j, f := range fields {
		t := &totals[j]
		if t.unjudged {
			continue
		}
		checked++
		if t.net == t.want {
			continue
		}
		violations++
		if len(ws) < MaxWitnesses {
			note := fmt.Sprintf("over all sagas %s nets %+d, but the completed sagas asked for %s %d (want %+d)", f.step, t.net, f.field, -t.want, t.want)
			if len(t.off) > 0 {
				note += fmt.Sprintf("; off in %s", sagaIDs(t.off, 5))
			}
			// The evidence: the step's effects in the first sagas it is off in.
			off := t.off[:min(len(t.off), 5)]
			var effs []history.Effect
			for _, s := range off {
				effs = append(effs, ix.sagaEffects(s, &f.step)...)
			}
			effs = slices.DeleteFunc(effs, func(e history.Effect) bool { return e.Kind == history.KindOperation })
			slices.SortStableFunc(effs, func(a, b history.Effect) int { return cmp.Compare(a.At, b.At) })
			ws = append(ws, ix.sagaWitness(note, effs, off...))
		}
	}
	c, v, w := ix.negativeStates(ctx, ss)
	checked += c
	violations += v
	ws = append(ws, w[:min(len(w), max(0, MaxWitnesses-len(ws)))]...)
	res := NewResult(violations, checked, ws, "sagas, step totals and keys")
	if violations == 0 && unjudged != "" {
		return UnknownResult(unjudged)
	}
	return res
}

// sagaIDs names up to n sagas: "o-4, o-9 and 3 more".
func sagaIDs(ss []*saga, n int) string {
	var ids []string
	for _, s := range ss[:min(n, len(ss))] {
		ids = append(ids, s.id)
	}
	out := strings.Join(ids, ", ")
	if len(ss) > n {
		out += fmt.Sprintf(" and %d more", len(ss)-n)
	}
	return out
}

// negativeStates holds the states of the views that hold saga effects — the final
// ones and those polled while converging — above zero: no stock, no balance below it.
// One violation per view and key, at its lowest state.
func (ix *Index) negativeStates(ctx context.Context, ss *sagaSet) (checked, violations int, ws []Witness) {
	type vk struct {
		viewKey
		key string
	}
	lowest := map[vk]int32{}
	var order []vk
	for i := range ix.recs.NumEffects() {
		if cancelled(ctx, i) {
			return checked, violations, ws
		}
		e := ix.recs.Effect(i)
		k := vk{viewKey{e.Service, e.View}, e.Key}
		if e.Kind != history.KindState || e.Value == nil || *e.Value >= 0 || !ss.views[k.viewKey] {
			continue
		}
		low, seen := lowest[k]
		if !seen {
			order = append(order, k)
		}
		if !seen || *e.Value < *ix.recs.Effect(int(low)).Value || (*e.Value == *ix.recs.Effect(int(low)).Value && e.Time == 0) {
			lowest[k] = int32(i)
		}
	}
	for view := range ss.views {
		if v := ix.viewsBy[view]; v != nil {
			checked += len(v.states)
		}
	}
	for _, k := range order {
		violations++
		if len(ws) >= MaxWitnesses {
			continue
		}
		st := ix.recs.Effect(int(lowest[k]))
		note := fmt.Sprintf("%s %s view: %s ends at %d, below zero", k.service, k.view, k.key, *st.Value)
		if st.Time > 0 {
			note = fmt.Sprintf("%s %s view: %s stood at %d, below zero, at %s", k.service, k.view, k.key, *st.Value, time.Duration(st.Time).Round(time.Millisecond))
		}
		effs := ix.effects(lastN(ix.keyEffects(ix.viewsBy[k.viewKey], k.key), 10))
		var sagas []*saga
		for _, e := range effs {
			if s := ss.byID[e.Saga]; s != nil && !slices.Contains(sagas, s) {
				sagas = append(sagas, s)
			}
		}
		w := ix.sagaWitness(note, append(effs, st), sagas...)
		w.ID, w.Key, w.View = "", k.key, k.service+"/"+k.view
		ws = append(ws, w)
	}
	checked = max(checked, len(order))
	return checked, violations, ws
}

// requestField reads an integer field of a request's value ({"amount":50,"qty":2}).
func requestField(req *history.Op, field string) (int64, bool) {
	if req == nil || len(req.Value) == 0 {
		return 0, false
	}
	dec := json.NewDecoder(bytes.NewReader(req.Value))
	dec.UseNumber()
	var body map[string]any
	if dec.Decode(&body) != nil {
		return 0, false
	}
	n, ok := body[field].(json.Number)
	if !ok {
		return 0, false
	}
	v, err := n.Int64()
	return v, err == nil
}
