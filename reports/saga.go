package reports

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

// ClientLane is the lane of a saga's timeline that holds the client's request: its
// invoke and its completion in history.jsonl.
const ClientLane = "client"

// SagaTimeline is one saga (a business transaction across services: an order) on the
// run's clock: the client's request, each step and compensation the services
// reported, the saga's end (its operation record) and the faults active meanwhile.
// The HTML report draws it as lanes, one per service, and the explorer lists its rows
// (Rows), so both show the same records.
type SagaTimeline struct {
	Saga string
	// Lanes are the client's, then each service that reported the saga's records, in
	// the order of its first record in time.
	Lanes []string
	// Events are the saga's records in time order; those without a time come last.
	Events []SagaEvent
	// Request is the client's request (invoke, completion); nil when the history holds
	// none for the saga's id.
	Request *SagaRequest
	// End is the saga's end state (its operation record), "" when none was reported.
	End string
	// From and To span every timed record; Faults are the windows that took effect and
	// were active at any time in [From, To], or that a witness names.
	From, To int64
	Faults   []FaultWindow
}

// SagaRequest is the client's request of a saga.
type SagaRequest struct {
	Invoke history.Op
	// Done is its completion (ok, fail, info), nil if the history has none.
	Done *history.Op
}

// What a SagaEvent is.
const (
	SagaStep   = "step"   // a step's effect (reserve, charge) or the saga's own effect (order)
	SagaUndo   = "undo"   // a step's compensation (release, refund)
	SagaEnd    = "end"    // the saga's operation record: its state
	SagaClient = "client" // the client's invoke or completion
)

// SagaEvent is one record of a saga on its lane.
type SagaEvent struct {
	// At is when it happened on the run clock; Timed is false for an effect reported
	// without `at`.
	At    int64
	Timed bool
	Lane  string
	What  string // SagaStep, SagaUndo, SagaEnd or SagaClient
	// Label names it: the effect's kind (reserve, refund), "end", or the client
	// record's type (invoke, ok).
	Label  string
	Effect *history.Effect // nil for a client record
	Op     *history.Op     // the client record
}

// Mark is the label as the report draws it: a compensation carries ↩, the end is
// its state.
func (e SagaEvent) Mark() string {
	switch e.What {
	case SagaUndo:
		return e.Label + "↩"
	case SagaEnd:
		return e.Effect.State
	}
	return e.Label
}

// Detail is what the record says beyond its label: key and signed amount for an
// effect (and the step a compensation undoes), the state for the end, the request for
// a client record.
func (e SagaEvent) Detail() string {
	switch {
	case e.Op != nil:
		s := strings.TrimSpace(e.Op.F + " " + e.Op.Key + " " + e.Op.ID)
		return s + OpDetail(*e.Op)
	case e.What == SagaEnd:
		return "state " + e.Effect.State
	}
	var parts []string
	f := e.Effect
	if f.Key != "" {
		parts = append(parts, f.Key)
	}
	if f.Amount != 0 {
		parts = append(parts, fmt.Sprintf("%+d", f.Amount))
	}
	if f.Undo {
		undo := "undo"
		if f.Step != "" {
			undo += " of " + f.Step
		}
		parts = append(parts, "↩ "+undo)
	}
	return strings.Join(parts, " ")
}

// SagaInput is what a saga's timeline is drawn from: the run's records, or only a
// witness's when the records are not at hand. Records of other sagas are skipped.
type SagaInput struct {
	Effects []history.Effect
	Ops     []history.Op
	Faults  []FaultWindow
	// Active are faults a witness names as active (their start records): they are
	// shown even when their window does not overlap the saga's records.
	Active []history.Fault
}

// SagasOf are the sagas a witness is about: those its effects name, in the order
// they first do (one, but a violation across sagas names several).
func SagasOf(w *invariants.Witness) []string {
	var out []string
	for _, e := range w.Effects {
		if e.Saga != "" && !slices.Contains(out, e.Saga) {
			out = append(out, e.Saga)
		}
	}
	return out
}

// ofSaga reports whether an effect is a record of saga s: a step or compensation
// that names it, or a write-model record of the saga's own id (its operation record,
// the order it confirmed).
func ofSaga(e *history.Effect, s string) bool {
	if e.Saga != "" {
		return e.Saga == s
	}
	return e.ID == s && e.View == history.WriteView && e.Kind != history.KindState
}

// BuildSaga lays out saga s from in.
func BuildSaga(s string, in SagaInput) *SagaTimeline {
	tl := &SagaTimeline{Saga: s}
	type effKey struct {
		service, view, kind, key, id, state, saga, step string
		amount, at                                      int64
		undo                                            bool
	}
	seen := map[effKey]bool{}
	var untimed []SagaEvent
	for i := range in.Effects {
		e := &in.Effects[i]
		if !ofSaga(e, s) {
			continue
		}
		k := effKey{e.Service, e.View, e.Kind, e.Key, e.ID, e.State, e.Saga, e.Step, e.Amount, e.At, e.Undo}
		if seen[k] {
			continue
		}
		seen[k] = true
		ev := SagaEvent{At: e.At, Timed: e.At != 0, Lane: e.Service, What: SagaStep, Label: e.Kind, Effect: e}
		switch {
		case e.Kind == history.KindOperation:
			ev.What, ev.Label = SagaEnd, "end"
			tl.End = e.State
		case e.Undo:
			ev.What = SagaUndo
		}
		if ev.Label == "" {
			ev.Label = e.Step
		}
		if ev.Timed {
			tl.Events = append(tl.Events, ev)
		} else {
			untimed = append(untimed, ev)
		}
	}
	// The client's request: the first invoke of the saga's id and its completion.
	for i := range in.Ops {
		op := &in.Ops[i]
		if op.ID != s {
			continue
		}
		switch {
		case op.Type == history.Invoke && tl.Request == nil:
			tl.Request = &SagaRequest{Invoke: *op}
		case op.Type != history.Invoke && tl.Request != nil && tl.Request.Done == nil && op.Process == tl.Request.Invoke.Process:
			done := *op
			tl.Request.Done = &done
		default:
			continue
		}
		tl.Events = append(tl.Events, SagaEvent{At: op.Time, Timed: true, Lane: ClientLane, What: SagaClient, Label: string(op.Type), Op: op})
	}
	rank := func(e SagaEvent) int {
		switch {
		case e.What == SagaClient && e.Op.Type == history.Invoke:
			return 0
		case e.What == SagaClient:
			return 3
		case e.What == SagaEnd:
			return 2
		}
		return 1
	}
	slices.SortStableFunc(tl.Events, func(a, b SagaEvent) int {
		return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(rank(a), rank(b)))
	})
	if len(tl.Events) > 0 {
		tl.From, tl.To = tl.Events[0].At, tl.Events[len(tl.Events)-1].At
	}
	tl.Events = append(tl.Events, untimed...)

	if tl.Request != nil {
		tl.Lanes = append(tl.Lanes, ClientLane)
	}
	for _, e := range tl.Events {
		if e.Lane != ClientLane && !slices.Contains(tl.Lanes, e.Lane) {
			tl.Lanes = append(tl.Lanes, e.Lane)
		}
	}
	for _, w := range in.Faults {
		if !tookEffect(w) {
			continue
		}
		named := slices.ContainsFunc(in.Active, func(f history.Fault) bool {
			return f.Fault == w.Fault && f.Target == w.Target && f.Time == w.Start
		})
		if named || (len(tl.Events) > 0 && w.Overlaps(tl.From, tl.To)) {
			tl.Faults = append(tl.Faults, w)
		}
	}
	if len(in.Faults) == 0 {
		// No faults.jsonl: the witness still says which were active (not when healed).
		for _, f := range in.Active {
			tl.Faults = append(tl.Faults, FaultWindow{Fault: f.Fault, Target: f.Target, Params: f.Params, Start: f.Time, Stop: -1})
		}
	}
	return tl
}

// tookEffect reports whether a fault window opened: a start record with an error is
// a fault that never took effect.
func tookEffect(w FaultWindow) bool { return w.Error == "" || strings.HasPrefix(w.Error, "heal: ") }

// Compensated reports whether any step of the saga was compensated.
func (tl *SagaTimeline) Compensated() bool {
	return slices.ContainsFunc(tl.Events, func(e SagaEvent) bool { return e.What == SagaUndo })
}

// SagaRow is one line of a saga's timeline as text: a record, or a fault started or
// healed, in time order.
type SagaRow struct {
	At     int64
	Timed  bool
	Lane   string // a service, ClientLane, or "fault"
	What   string // SagaStep, SagaUndo, SagaEnd, SagaClient, or "fault"
	Label  string // reserve, refund, applied, invoke, ok, start, heal
	Detail string
}

// FaultLane is the lane of a saga's rows that holds the faults started and healed.
const FaultLane = "fault"

// Rows lists the saga's records with the starts and heals of its faults
// interleaved, in time order; records without a time come last.
func (tl *SagaTimeline) Rows() []SagaRow {
	var rows, untimed []SagaRow
	for _, e := range tl.Events {
		r := SagaRow{At: e.At, Timed: e.Timed, Lane: e.Lane, What: e.What, Label: e.Label, Detail: e.Detail()}
		if e.Timed {
			rows = append(rows, r)
		} else {
			untimed = append(untimed, r)
		}
	}
	for _, w := range tl.Faults {
		start := w.Label()
		if p := paramList(w.Params); p != "" {
			start += " (" + p + ")"
		}
		if !w.Healed() {
			start += " · never healed"
		}
		rows = append(rows, SagaRow{At: w.Start, Timed: true, Lane: FaultLane, What: FaultLane, Label: "start", Detail: start})
		if w.Healed() {
			rows = append(rows, SagaRow{At: w.Stop, Timed: true, Lane: FaultLane, What: FaultLane, Label: "heal", Detail: w.Label()})
		}
	}
	// Stable: at one instant the saga's records come first, in Events' order.
	slices.SortStableFunc(rows, func(a, b SagaRow) int { return cmp.Compare(a.At, b.At) })
	return append(rows, untimed...)
}

// Text is the row on one line, its lane and label padded to laneW and labelW:
// "+12.345s  inventory  reserve  item-3 -2".
func (r SagaRow) Text(laneW, labelW int) string {
	at := fmt.Sprintf("%9s", "?")
	if r.Timed {
		at = fmt.Sprintf("%+8.3fs", float64(r.At)/1e9)
	}
	return strings.TrimRight(fmt.Sprintf("%s  %-*s  %-*s  %s", at, laneW, r.Lane, labelW, r.Label, r.Detail), " ")
}

// RowWidths are the lane and label widths that align rows.
func RowWidths(rows []SagaRow) (laneW, labelW int) {
	for _, r := range rows {
		laneW, labelW = max(laneW, len([]rune(r.Lane))), max(labelW, len([]rune(r.Label)))
	}
	return laneW, labelW
}

// SampleSaga picks a saga to show from a run's effects when no witness names one:
// the first compensated saga (by its first record in time), else the first whose end
// is applied, else the first; "" when the effects hold no saga.
func SampleSaga(effects []history.Effect) (saga, why string) {
	type info struct {
		first       int64
		compensated bool
		services    map[string]bool
	}
	sagas := map[string]*info{}
	var order []string
	for i := range effects {
		e := &effects[i]
		if e.Saga == "" {
			continue
		}
		s := sagas[e.Saga]
		if s == nil {
			s = &info{first: e.At, services: map[string]bool{}}
			sagas[e.Saga] = s
			order = append(order, e.Saga)
		}
		if e.At != 0 && (s.first == 0 || e.At < s.first) {
			s.first = e.At
		}
		s.compensated = s.compensated || e.Undo
		s.services[e.Service] = true
	}
	if len(order) == 0 {
		return "", ""
	}
	slices.SortStableFunc(order, func(a, b string) int { return cmp.Compare(sagas[a].first, sagas[b].first) })
	// The first compensated saga that reached the most services: the one that shows
	// the most of the saga (a refund as well as a release).
	best := ""
	for _, s := range order {
		if sagas[s].compensated && (best == "" || len(sagas[s].services) > len(sagas[best].services)) {
			best = s
		}
	}
	if best != "" {
		return best, "the run's first compensated saga across the most services"
	}
	applied := map[string]bool{}
	for i := range effects {
		e := &effects[i]
		if e.Kind == history.KindOperation && e.View == history.WriteView && e.State == history.StateApplied && sagas[e.ID] != nil {
			applied[e.ID] = true
		}
	}
	for _, s := range order {
		if applied[s] {
			return s, "the run's first completed saga (none was compensated)"
		}
	}
	return order[0], "the run's first saga (none was compensated or completed)"
}
