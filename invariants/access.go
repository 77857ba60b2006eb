package invariants

import (
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/mscli/mscli/history"
)

// This file is the read-only API a checker uses, inside this package or outside it:
// the built-in checkers build their results and witnesses through the same calls a
// user's checker makes. The records it returns are copies of the run's, made from its
// columns (history.Records), except what they share (an operation's Value and
// Errors, an effect's Value): a checker reads those and never modifies them, since
// checkers run side by side over one Index.

// OpRef names one operation of an Index: its number there, dense from 0. It is only
// meaningful for the Index that gave it.
type OpRef int32

// Operation is one operation as the history records it.
type Operation struct {
	Ref OpRef
	ID  string
	// Invoke and Complete are the operation's history lines, nil when missing (an
	// operation never completed, or one only effects name).
	Invoke, Complete *history.Op
	// Outcome is the completion's type (ok, fail, info), "" if never completed.
	Outcome history.OpType
	// Invoked is false for an id only effects name: the system invented it.
	Invoked bool
}

// NumOps is how many operations the index knows: OpRefs run from 0 to NumOps()-1.
func (ix *Index) NumOps() int { return len(ix.infos) }

// Op returns an operation by its reference.
func (ix *Index) Op(r OpRef) Operation {
	info := &ix.infos[r]
	o := Operation{Ref: r, ID: ix.id(int(r)), Outcome: ix.outcome(*info), Invoked: ix.invokedOp(int32(r))}
	if info.invoke >= 0 {
		o.Invoke = ptrTo(ix.recs.Op(int(info.invoke)))
	}
	if info.complete >= 0 {
		o.Complete = ptrTo(ix.recs.Op(int(info.complete)))
	}
	return o
}

// Ops yields every operation: those clients invoked first, in invoke order, then the
// ids only effects name.
func (ix *Index) Ops() iter.Seq[Operation] {
	return func(yield func(Operation) bool) {
		for n := range ix.infos {
			if !yield(ix.Op(OpRef(n))) {
				return
			}
		}
	}
}

// Lookup finds an operation by id.
func (ix *Index) Lookup(id string) (Operation, bool) {
	n, ok := ix.opNum(id)
	if !ok {
		return Operation{}, false
	}
	return ix.Op(OpRef(n)), true
}

// OpLines returns an operation's history lines: its invoke, then its completion.
func (ix *Index) OpLines(r OpRef) []history.Op {
	info := ix.infos[r]
	var out []history.Op
	if info.invoke >= 0 {
		out = append(out, ix.recs.Op(int(info.invoke)))
	}
	if info.complete >= 0 {
		out = append(out, ix.recs.Op(int(info.complete)))
	}
	return out
}

// Request is the line that says what an operation asked: its invoke, else its
// completion; nil for an operation no client invoked.
func (ix *Index) Request(r OpRef) *history.Op {
	if o, ok := ix.request(r); ok {
		return &o
	}
	return nil
}

// request is Request by value: false for an operation no client invoked.
func (ix *Index) request(r OpRef) (history.Op, bool) {
	if i, ok := ix.requestLine(r); ok {
		return ix.recs.Op(i), true
	}
	return history.Op{}, false
}

// requestLine is the history line of Request.
func (ix *Index) requestLine(r OpRef) (int, bool) {
	info := ix.infos[r]
	switch {
	case info.invoke >= 0:
		return int(info.invoke), true
	case info.complete >= 0:
		return int(info.complete), true
	}
	return 0, false
}

// OpSpan is the time an operation was in flight; an operation never completed (or
// never invoked) is in flight until the end of the history.
func (ix *Index) OpSpan(r OpRef) (from, to int64) {
	info := ix.infos[r]
	to = ix.lastOp
	if info.invoke >= 0 {
		from = ix.recs.OpTime(int(info.invoke))
	}
	if info.complete >= 0 {
		to = ix.recs.OpTime(int(info.complete))
	}
	return from, to
}

// Quiet is when the system went quiet: the workload's last change and the last heal,
// whichever came later. Read models cannot be expected to agree before it.
func (ix *Index) Quiet() int64 { return max(ix.lastHeal, ix.lastWrite) }

// View is one view (write, read, …) of one service, as its effects reported it.
type View struct {
	Service, Name string
	ix            *Index
	v             *view
}

func (ix *Index) viewOf(v *view) View { return View{Service: v.service, Name: v.view, ix: ix, v: v} }

// Views lists the observed views, sorted by service, then view name.
func (ix *Index) Views() []View {
	out := make([]View, len(ix.views))
	for i, v := range ix.views {
		out[i] = ix.viewOf(v)
	}
	return out
}

// View finds one service's view; false if it was never observed.
func (ix *Index) View(service, name string) (View, bool) {
	v := ix.viewsBy[viewKey{service, name}]
	if v == nil {
		return View{}, false
	}
	return ix.viewOf(v), true
}

// Count is how many effects the view applied for an operation.
func (v View) Count(r OpRef) int { return v.v.count(int32(r)) }

// Effects returns the effects the view applied for an operation, in the order reported.
func (v View) Effects(r OpRef) []history.Effect {
	idx := v.v.effectsOf(int32(r))
	if len(idx) == 0 {
		return nil
	}
	return v.ix.effects(idx)
}

// Applied yields every effect the view applied, in the order reported, with the
// operation it belongs to.
func (v View) Applied() iter.Seq2[OpRef, *history.Effect] {
	return func(yield func(OpRef, *history.Effect) bool) {
		for _, e := range v.v.applied {
			if !yield(OpRef(v.ix.effectNum(e)), ptrTo(v.ix.recs.Effect(int(e)))) {
				return
			}
		}
	}
}

// Keys lists the keys the view reported a final state for, sorted.
func (v View) Keys() []string { return sortedKeys(v.v.states) }

// State is the view's final state effect of a key, nil if it reported none.
func (v View) State(key string) *history.Effect { return v.ix.stateOf(v.v, key) }

// OpState is an operation's final state as the view reported it (applied, rejected,
// …); false if the view did not report it.
func (v View) OpState(r OpRef) (string, bool) { return v.v.state(int32(r)) }

// ActiveFaults returns the start records of faults active at any time in [from, to].
// Faults that failed to apply were never active.
func (ix *Index) ActiveFaults(from, to int64) []history.Fault {
	s := faultSet{ix: ix}
	s.during(from, to)
	return s.out
}

// OpWitness builds a witness for an operation with the given effects: its history
// lines, and the faults active while it was in flight and when each effect happened
// (or in the EffectLookback before). Its key is the first effect's, else the
// request's. The witness keeps the effects slice.
func (ix *Index) OpWitness(r OpRef, view, note string, effects []history.Effect) Witness {
	w := Witness{ID: ix.id(int(r)), View: view, Note: note, Ops: ix.OpLines(r)}
	if len(effects) > 0 {
		w.Effects = effects
	}
	for _, e := range effects {
		if e.Key != "" {
			w.Key = e.Key
			break
		}
	}
	if w.Key == "" && len(w.Ops) > 0 {
		w.Key = w.Ops[0].Key
	}
	fs := faultSet{ix: ix}
	fs.during(ix.OpSpan(r))
	fs.ofEffects(w.Effects)
	w.Faults = fs.out
	return w
}

// EffectWitness builds a witness about a key from effects: the history lines of every
// operation they belong to, and the faults active when each was applied.
func (ix *Index) EffectWitness(key, view, note string, effects []history.Effect) Witness {
	w := Witness{Key: key, View: view, Note: note, Effects: effects}
	seen := map[string]bool{}
	fs := faultSet{ix: ix}
	for _, e := range effects {
		n, ok := ix.opNum(e.ID)
		if e.ID == "" || !ok || seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		w.Ops = append(w.Ops, ix.OpLines(OpRef(n))...)
		fs.during(ix.OpSpan(OpRef(n)))
	}
	fs.ofEffects(effects)
	w.Faults = fs.out
	return w
}

// MissingViews names the views the services declare (Input.Views) that were never
// observed — only those named in only, if any — and is "" when every one was. A
// checker that needs a missing view cannot judge: it returns UnknownResult of it.
func (ix *Index) MissingViews(only ...string) string {
	var miss []string
	for _, svc := range sortedKeys(ix.In.Views) {
		for _, v := range ix.In.Views[svc] {
			if len(only) > 0 && !slices.Contains(only, v) {
				continue
			}
			if ix.viewsBy[viewKey{svc, v}] == nil {
				miss = append(miss, fmt.Sprintf("%s declares a %s model, but none was observed", svc, v))
			}
		}
	}
	return strings.Join(miss, "; ")
}

// NewResult builds a result from a violation count over checked items of one unit
// (what, plural: "operations"): any violation fails; nothing checked is unknown,
// never pass; otherwise it passes. Check fills in the name and the time taken.
func NewResult(violations, checked int, witnesses []Witness, what string) Result {
	r := Result{Violations: violations, Checked: checked, Witnesses: witnesses}
	switch {
	case violations > 0:
		r.Verdict = Fail
		r.Summary = fmt.Sprintf("%d of %d %s violate it", violations, max(checked, violations), what)
	case checked == 0:
		r.Verdict = Unknown
		r.Summary = fmt.Sprintf("nothing to judge: no %s were recorded", what)
	default:
		r.Verdict = Pass
		r.Summary = fmt.Sprintf("%d %s checked", checked, what)
	}
	return r
}

// UnknownResult is the result of a checker that could not decide, and why.
func UnknownResult(summary string) Result { return Result{Verdict: Unknown, Summary: summary} }

// declares says whether a service promises a view: what its declaration lists, or —
// for a service that declares nothing (a user's own) — every view.
func (ix *Index) declares(service, view string) bool {
	views, ok := ix.In.Views[service]
	return !ok || slices.Contains(views, view)
}
