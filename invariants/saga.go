package invariants

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// A saga is a business transaction across services (an order: reserve the stock,
// charge the customer), each step a local transaction with a compensation that undoes
// it. Each service reports the steps and compensations it applied as effects with
// Saga, Step and Undo set; the saga's end is the operation record whose id is the
// saga's (applied: completed; rejected or aborted: cancelled). docs/effects.md, "Sagas".

func init() {
	Register(plan.InvariantKind{Name: "saga-atomic",
		Doc: "every saga ends soon after the system went quiet, completed with each step done once or cancelled with each step it did compensated once",
		Params: map[string]plan.Param{
			"within": {Type: plan.ParamDuration, Default: "10s", Doc: "how long after the system went quiet every saga must have ended"},
			"steps": {Type: plan.ParamObject, Optional: true, Schema: sagaStepsSchema(false),
				Doc: "the steps a completed saga must have done: reserve,charge (or a list); by default every step a saga effect names"},
		}}, checkSagaAtomic)
	Register(plan.InvariantKind{Name: "saga-conservation",
		Doc: "across services, each step's amounts and compensations add up to what the completed sagas asked, and no balance or stock falls below zero",
		Params: map[string]plan.Param{
			"steps": {Type: plan.ParamObject, Default: `{"charge":"amount","reserve":"qty"}`, Schema: sagaStepsSchema(true),
				Doc: "each step and the field of the saga's request its amounts answer: charge=amount,reserve=qty (or a mapping)"},
		}}, checkSagaConservation)
}

// saga is one saga as the services reported it.
type saga struct {
	id      string
	ref     OpRef   // the saga's operation; -1 when the index does not know its id
	effects []int32 // its steps and compensations (effect record numbers), by At, then service
	records []int32 // its operation records in write views
	state   string  // its operation state in a write view; "" when none reports it
	known   bool    // a write view reports its state
	outcome history.OpType
}

func (s *saga) completed() bool { return s.known && s.state == history.StateApplied }
func (s *saga) cancelled() bool {
	return s.known && (s.state == history.StateRejected || s.state == history.StateAborted)
}

// sagaSet is every saga of a run, built once per checker.
type sagaSet struct {
	list  []*saga // those the index numbers in its order (the invoked first, as invoked), then the others by id
	byID  map[string]*saga
	views map[viewKey]bool // the views that hold saga effects
	steps []string         // every step a saga effect names, sorted
}

// judgeableSagas gathers the sagas both saga invariants judge, or says why there is
// nothing to judge: a view is missing, time ran out, or no saga was observed.
func (ix *Index) judgeableSagas(ctx context.Context) (*sagaSet, string) {
	if miss := ix.MissingViews(); miss != "" {
		return nil, miss
	}
	ss, ok := ix.sagas(ctx)
	if !ok {
		return nil, "ran out of time"
	}
	if len(ss.list) == 0 {
		return nil, "no saga effects and no saga's operation state were observed: nothing to judge"
	}
	return ss, ""
}

// sagas groups the run's saga effects by saga. The sagas are those effects name, and
// the operations invoked under the name (f) of an invoked saga that the client saw
// acknowledged or a write view knows — an acknowledged saga no service knows is owed
// an end all the same.
func (ix *Index) sagas(ctx context.Context) (*sagaSet, bool) {
	ss := &sagaSet{byID: map[string]*saga{}, views: map[viewKey]bool{}}
	get := func(id string) *saga {
		s := ss.byID[id]
		if s == nil {
			s = &saga{id: id, ref: -1}
			if n, ok := ix.opNum(id); ok {
				s.ref = OpRef(n)
				s.outcome = ix.outcome(ix.infos[n])
			}
			ss.byID[id] = s
		}
		return s
	}
	steps := map[string]bool{}
	for i := range ix.recs.NumEffects() {
		if cancelled(ctx, i) {
			return nil, false
		}
		if e := ix.recs.Effect(i); e.Saga != "" {
			s := get(e.Saga)
			s.effects = append(s.effects, int32(i))
			ss.views[viewKey{e.Service, e.View}] = true
			steps[e.Step] = true
		}
	}
	writes := ix.writeViews()
	names := map[string]bool{}
	for _, s := range ss.byID {
		if s.ref >= 0 && ix.invokedOp(int32(s.ref)) {
			names[ix.Request(s.ref).F] = true
		}
	}
	for n := 0; n < ix.invoked && len(names) > 0; n++ {
		if cancelled(ctx, n) {
			return nil, false
		}
		if req := ix.Request(OpRef(n)); names[req.F] && ss.byID[ix.id(int(n))] == nil {
			if _, known := opStateIn(writes, int32(n)); known || ix.outcome(ix.infos[n]) == history.Ok {
				get(ix.id(int(n)))
			}
		}
	}
	for _, s := range ss.byID {
		if s.ref >= 0 {
			s.state, s.known = opStateIn(writes, int32(s.ref))
		}
		slices.SortStableFunc(s.effects, func(a, b int32) int {
			ea, eb := ptrTo(ix.recs.Effect(int(a))), ptrTo(ix.recs.Effect(int(b)))
			if ea.At != eb.At {
				return cmp.Compare(ea.At, eb.At)
			}
			return strings.Compare(ea.Service, eb.Service)
		})
		ss.list = append(ss.list, s)
	}
	for i := range ix.recs.NumEffects() {
		if cancelled(ctx, i) {
			return nil, false
		}
		if e := ix.recs.Effect(i); e.Kind == history.KindOperation && e.View == history.WriteView {
			if s := ss.byID[e.ID]; s != nil {
				s.records = append(s.records, int32(i))
			}
		}
	}
	slices.SortFunc(ss.list, func(a, b *saga) int {
		switch {
		case a.ref >= 0 && b.ref >= 0:
			return cmp.Compare(a.ref, b.ref)
		case a.ref >= 0 || b.ref >= 0:
			return cmp.Compare(b.ref, a.ref) // known ids first
		}
		return strings.Compare(a.id, b.id)
	})
	ss.steps = sortedKeys(steps)
	return ss, true
}

// opStateIn is an operation's state in the first of views that reports one.
func opStateIn(views []*view, n int32) (string, bool) {
	for _, v := range views {
		if s, ok := v.state(n); ok {
			return s, true
		}
	}
	return "", false
}

// stepTally is what a saga did of one step.
type stepTally struct {
	name         string
	done, undone int    // its effects, its compensations
	undoKind     string // the kind of its first compensation ("release", "refund")
	net          int64  // the amounts of both
}

// tally counts a saga's steps and compensations per step, in the order they began.
func (ix *Index) tally(s *saga) []stepTally {
	var out []stepTally
	for _, e := range s.effects {
		eff := ptrTo(ix.recs.Effect(int(e)))
		i := slices.IndexFunc(out, func(t stepTally) bool { return t.name == eff.Step })
		if i < 0 {
			i = len(out)
			out = append(out, stepTally{name: eff.Step})
		}
		t := &out[i]
		t.net += eff.Amount
		if eff.Undo {
			t.undone++
			if t.undoKind == "" {
				t.undoKind = eff.Kind
			}
		} else {
			t.done++
		}
	}
	return out
}

func stepOf(ts []stepTally, name string) stepTally {
	if i := slices.IndexFunc(ts, func(t stepTally) bool { return t.name == name }); i >= 0 {
		return ts[i]
	}
	return stepTally{name: name}
}

func times(n int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf(" %d times", n)
}

// describe says what a saga did: "reserve done, charge done, no compensation".
func describe(ts []stepTally) string {
	var parts []string
	undone := 0
	for _, t := range ts {
		undone += t.undone
		switch {
		case t.done > 0 && t.undone > 0:
			parts = append(parts, fmt.Sprintf("%s done%s and compensated%s", t.name, times(t.done), times(t.undone)))
		case t.done > 0:
			parts = append(parts, fmt.Sprintf("%s done%s", t.name, times(t.done)))
		case t.undone > 0:
			parts = append(parts, fmt.Sprintf("%s compensated%s but never done", t.name, times(t.undone)))
		}
	}
	if len(parts) == 0 {
		return "no step done"
	}
	if undone == 0 {
		parts = append(parts, "no compensation")
	}
	return strings.Join(parts, ", ")
}

// atomicProblems lists what breaks a saga's atomicity, none when it holds.
func (s *saga) atomicProblems(ts []stepTally, required []string) []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	switch {
	case s.completed() || s.cancelled():
	case s.known:
		add("%s left half-way in state %q: %s", s.id, s.state, describe(ts))
	case s.outcome == history.Ok && len(ts) == 0:
		add("acknowledged %s never ended: the service does not know it", s.id)
	case s.outcome == history.Ok:
		add("acknowledged %s left half-way, with no operation state: %s", s.id, describe(ts))
	default:
		add("%s left half-way, with no operation state: %s", s.id, describe(ts))
	}
	for _, t := range ts {
		if t.done > 1 {
			add("%s: %s took effect %d times", s.id, t.name, t.done)
		}
		switch {
		case t.undone > 0 && t.done == 0:
			add("%s: %s was compensated (%s) but never done", s.id, t.name, t.undoKind)
		case t.undone > 1:
			add("%s: %s was compensated %d times (%s)", s.id, t.name, t.undone, t.undoKind)
		}
	}
	switch {
	case s.completed():
		for _, name := range required {
			if stepOf(ts, name).done == 0 {
				add("%s completed without %s", s.id, name)
			}
		}
		for _, t := range ts {
			if t.done > 0 && t.undone > 0 {
				add("%s completed, yet its %s was compensated (%s)", s.id, t.name, t.undoKind)
			}
		}
	case s.cancelled():
		for _, t := range ts {
			switch {
			case t.done > 0 && t.undone == 0:
				add("%s was cancelled (%s) but its %s was never compensated", s.id, s.state, t.name)
			case t.done > t.undone:
				add("%s was cancelled (%s) but its %s was done %d times and compensated %d", s.id, s.state, t.name, t.done, t.undone)
			}
		}
	}
	if s.outcome == history.Fail {
		var did []string
		for _, t := range ts {
			if t.done > 0 {
				did = append(did, t.name)
			}
		}
		if len(did) > 0 {
			add("%s failed at the client, yet its %s took effect", s.id, strings.Join(did, " and "))
		}
	}
	return p
}

// end is when a saga last did something: the latest time among its effects and
// operation records that report one.
func (ix *Index) sagaEnd(s *saga) (end int64, ok bool) {
	for _, e := range slices.Concat(s.effects, s.records) {
		if at := ix.recs.EffectAt(int(e)); at != 0 && (!ok || at > end) {
			end, ok = at, true
		}
	}
	return end, ok
}

// saga-atomic: every saga ended — completed (applied) with every required step done
// exactly once and none compensated, or cancelled (rejected, aborted) with every step
// it did compensated exactly once — within `within` of the system going quiet; no
// step or compensation took effect twice, no compensation undid a step never done,
// and a saga the client saw fail did nothing.
func checkSagaAtomic(ctx context.Context, ix *Index, params map[string]string) Result {
	within, err := durationParam(params, "within", 10*time.Second)
	if err != nil {
		return UnknownResult(err.Error())
	}
	required, err := sagaSteps(params["steps"], false)
	if err != nil {
		return UnknownResult(err.Error())
	}
	ss, why := ix.judgeableSagas(ctx)
	if ss == nil {
		return UnknownResult(why)
	}
	want := names(required)
	if required == nil {
		want = ss.steps
	}
	quiet := ix.Quiet()
	var ws []Witness
	var lastEnd int64
	violations, completed, compensated := 0, 0, 0
	for i, s := range ss.list {
		if cancelled(ctx, i) {
			return UnknownResult("ran out of time")
		}
		probs := s.atomicProblems(ix.tally(s), want)
		if end, ok := ix.sagaEnd(s); ok {
			lastEnd = max(lastEnd, end-quiet)
			if after := time.Duration(end - quiet); after > within {
				probs = append(probs, fmt.Sprintf("%s ended %s after the system went quiet, later than %s", s.id, after.Round(time.Millisecond), within))
			}
		}
		switch {
		case s.completed():
			completed++
		case s.cancelled():
			compensated++
		}
		if len(probs) > 0 {
			violations++
			if len(ws) < MaxWitnesses {
				ws = append(ws, ix.sagaWitness(strings.Join(probs, "; "), ix.sagaEffects(s, nil), s))
			}
		}
	}
	res := NewResult(violations, len(ss.list), ws, "sagas")
	res.Measures = map[string]int64{"sagas": int64(len(ss.list)), "completed": int64(completed),
		"compensated": int64(compensated), "last_end_after_quiet_ns": lastEnd}
	return res
}

// sagaEffects are a saga's steps and compensations (those of one step when step is
// not nil), by time, followed by its operation records.
func (ix *Index) sagaEffects(s *saga, step *string) []history.Effect {
	var out []history.Effect
	for _, e := range s.effects {
		if step == nil || ix.recs.Effect(int(e)).Step == *step {
			out = append(out, ix.recs.Effect(int(e)))
		}
	}
	return append(out, ix.effects(s.records)...)
}

// sagaWitness is the evidence about one or more sagas: for one saga a client invoked,
// OpWitness (its history lines, the faults while it ran and when each effect
// happened); otherwise the invoked sagas' history lines and faults, and the faults
// when each effect happened. A step's id is none a client invoked, so the effects'
// own operations would stand for the whole run.
func (ix *Index) sagaWitness(note string, effs []history.Effect, sagas ...*saga) Witness {
	if len(sagas) == 1 && sagas[0].ref >= 0 && ix.invokedOp(int32(sagas[0].ref)) {
		return ix.OpWitness(sagas[0].ref, "", note, effs)
	}
	w := Witness{Note: note, Effects: effs}
	if len(sagas) == 1 {
		w.ID = sagas[0].id
	}
	fs := faultSet{ix: ix}
	for _, s := range sagas {
		if s.ref >= 0 && ix.invokedOp(int32(s.ref)) {
			w.Ops = append(w.Ops, ix.OpLines(s.ref)...)
			fs.during(ix.OpSpan(s.ref))
		}
	}
	for _, e := range effs {
		if e.Key != "" {
			w.Key = e.Key
			break
		}
	}
	fs.ofEffects(effs)
	w.Faults = fs.out
	return w
}

// stepField is one step saga-conservation holds against a field of the request.
type stepField struct{ step, field string }

func names(fs []stepField) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.step
	}
	return out
}

// sagaSteps reads a steps parameter: "reserve,charge" (pairs: "charge=amount,…"), or
// the JSON a scenario's structured parameter carries — that string, a list of them, or
// (pairs) a mapping of step to field. Empty is nil.
func sagaSteps(s string, pairs bool) ([]stepField, error) {
	s = strings.TrimSpace(s)
	var items []string
	switch {
	case s == "":
		return nil, nil
	case s[0] == '"' || s[0] == '[' || s[0] == '{':
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("parameter steps: %v", err)
		}
		switch v := v.(type) {
		case string:
			items = strings.Split(v, ",")
		case []any:
			for _, x := range v {
				str, _ := x.(string)
				items = append(items, str)
			}
		case map[string]any:
			for _, k := range sortedKeys(v) {
				str, _ := v[k].(string)
				items = append(items, k+"="+str)
			}
		}
	default:
		items = strings.Split(s, ",")
	}
	want := "step names (reserve,charge)"
	if pairs {
		want = "step=field pairs (charge=amount,reserve=qty)"
	}
	var out []stepField
	for _, it := range items {
		step, field, isPair := strings.Cut(it, "=")
		f := stepField{strings.TrimSpace(step), strings.TrimSpace(field)}
		if isPair != pairs || !validName(f.step) || (pairs && !validName(f.field)) {
			return nil, fmt.Errorf("parameter steps: %q is not a list of %s", s, want)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, errors.New("parameter steps: empty: want " + want)
	}
	return out, nil
}

const nameRE = `[A-Za-z0-9_-]+`

func validName(s string) bool { return (plan.Param{Type: plan.ParamName}).Check(s) == nil }

// sagaStepsSchema is the JSON Schema of a steps parameter's value in a scenario.
func sagaStepsSchema(pairs bool) map[string]any {
	item, list := nameRE, map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"type": "string", "pattern": "^" + nameRE + "$"}}
	if pairs {
		item = nameRE + `\s*=\s*` + nameRE
		list = map[string]any{"type": "object", "minProperties": 1, "propertyNames": map[string]any{"pattern": "^" + nameRE + "$"},
			"additionalProperties": map[string]any{"type": "string", "pattern": "^" + nameRE + "$"}}
	}
	return map[string]any{"anyOf": []any{
		map[string]any{"type": "string", "pattern": `^\s*` + item + `(\s*,\s*` + item + `)*\s*$`}, list}}
}
