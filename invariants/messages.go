package invariants

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// A message-driven service takes events through its ingest (a history operation: f the
// event's type, id the event's) and processes them on competing consumers. It reports
// one applied record per application (a kind history.Applies, with the delivery count
// and the replica), each parked message (dead-letter on the stream, dead-letter-file in
// a replica's file, with its reason and delivery count) and each re-drive.
//
// delivery and dead-letters-accounted share the event types' guarantees and the tally
// of what happened to each event: this file.

func init() {
	Register(plan.InvariantKind{Name: "delivery",
		Doc:    "each event type's delivery guarantee (at-most-once, at-least-once, exactly-once) holds between what the broker acknowledged and what the consumers applied",
		Params: guaranteeParams()}, checkDelivery)
	Register(plan.InvariantKind{Name: "dead-letters-accounted",
		Doc:    "every message is processed or dead-lettered, never both and never neither; every parked message carries its reason and delivery count; a re-driven one is processed once (at least once: one or more)",
		Params: guaranteeParams()}, checkDeadLetters)
}

// guarantee is what an event type promises of its messages' applications.
type guarantee int8

const (
	noGuarantee guarantee = iota
	atMostOnce
	atLeastOnce
	exactlyOnce
)

// guaranteeNames are the guarantees' names, which are also their parameters'.
var guaranteeNames = [...]string{noGuarantee: "none", atMostOnce: "at-most-once", atLeastOnce: "at-least-once", exactlyOnce: "exactly-once"}

func (g guarantee) String() string { return guaranteeNames[g] }

// measure is the suffix of a measure about the guarantee: "at_most_once".
func (g guarantee) measure() string { return strings.ReplaceAll(g.String(), "-", "_") }

var guaranteeDefaults = [...]string{atMostOnce: "location", atLeastOnce: "alert", exactlyOnce: "payment"}

func guaranteeParams() map[string]plan.Param {
	out := map[string]plan.Param{}
	for g := atMostOnce; g <= exactlyOnce; g++ {
		out[g.String()] = plan.Param{Type: plan.ParamObject, Default: `"` + guaranteeDefaults[g] + `"`, Schema: nameListSchema(),
			Doc: fmt.Sprintf("the event types (operation names f) processed %s: %s, or a list; empty for none", g, guaranteeDefaults[g])}
	}
	return out
}

// guarantees reads the three parameters: each event type's guarantee. A type in two
// lists is an error.
func guarantees(params map[string]string) (map[string]guarantee, error) {
	out := map[string]guarantee{}
	for g := atMostOnce; g <= exactlyOnce; g++ {
		s, ok := params[g.String()]
		if !ok || s == "" {
			s = guaranteeDefaults[g]
		}
		fs, err := nameList(g.String(), s)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if had := out[f]; had != noGuarantee && had != g {
				return nil, fmt.Errorf("parameters %s and %s both name %s: an event type has one guarantee", had, g, f)
			}
			out[f] = g
		}
	}
	return out, nil
}

// nameList reads a list of names: "a,b", or the JSON a scenario's structured parameter
// carries — that string, a list of strings, or null. Empty is no name.
func nameList(param, s string) ([]string, error) {
	s = strings.TrimSpace(s)
	items := strings.Split(s, ",")
	if s != "" && (s[0] == '"' || s[0] == '[' || s == "null") {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("parameter %s: %v", param, err)
		}
		items = nil
		switch v := v.(type) {
		case string:
			items = strings.Split(v, ",")
		case []any:
			for _, x := range v {
				str, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("parameter %s: %s is not a list of operation names", param, s)
				}
				items = append(items, str)
			}
		}
	}
	var out []string
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" && len(items) == 1 {
			break // "" is no name
		}
		if !validName(it) {
			return nil, fmt.Errorf("parameter %s: %s is not a list of operation names (location,alert)", param, s)
		}
		if !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	return out, nil
}

// nameListSchema is the JSON Schema of a list of names in a scenario: "a,b" (or ""),
// a list, or nothing.
func nameListSchema() map[string]any {
	return map[string]any{"anyOf": []any{
		map[string]any{"type": "string", "pattern": `^\s*(` + nameRE + `(\s*,\s*` + nameRE + `)*)?\s*$`},
		map[string]any{"type": "array", "items": map[string]any{"type": "string", "pattern": "^" + nameRE + "$"}},
		map[string]any{"type": "null"}}}
}

// message is what the services reported of one event: its applications, its parkings
// and its re-drives, each by time (At), then as reported.
type message struct {
	ref      OpRef
	f        string // the event's type: its operation's name; "" when no client invoked it
	g        guarantee
	applied  []int32 // effect record numbers (history.Records)
	parked   []int32 // dead-letter and dead-letter-file records
	redrives []int32
}

// messageSet is what the services reported of the run's events.
type messageSet struct {
	// judged are the invoked operations whose type has a guarantee, in invoke order.
	judged []*message
	// others are the ids with a dead-letter record that are not judged: their records
	// must still be whole.
	others []*message
	// observed: some service reported an applied or dead-letter record, of any event.
	observed bool
	// exercised: some service reported a dead-letter or re-drive record.
	exercised bool
}

// messages tallies every event of a type with a guarantee, and every other id that was
// parked; false when ctx ran out.
func (ix *Index) messages(ctx context.Context, gs map[string]guarantee) (*messageSet, bool) {
	ms := &messageSet{}
	byNum := make([]*message, len(ix.infos)) // op number → its message
	for n := 0; n < ix.invoked; n++ {
		if cancelled(ctx, n) {
			return nil, false
		}
		req := ix.Request(OpRef(n))
		if g := gs[req.F]; g != noGuarantee {
			m := &message{ref: OpRef(n), f: req.F, g: g}
			ms.judged = append(ms.judged, m)
			byNum[n] = m
		}
	}
	for i := range ix.recs.NumEffects() {
		if cancelled(ctx, i) {
			return nil, false
		}
		e := ix.recs.Effect(i)
		switch e.Kind {
		case history.KindState, history.KindOperation:
			continue
		case history.KindDeadLetter, history.KindDeadLetterFile:
			ms.observed, ms.exercised = true, true
		case history.KindRedrive:
			ms.exercised = true
		default:
			ms.observed = true
		}
		n, known := ix.opNum(e.ID)
		if !known || e.ID == "" {
			continue
		}
		m := byNum[n]
		switch {
		case m != nil:
		case e.Kind == history.KindDeadLetter || e.Kind == history.KindDeadLetterFile:
			m = &message{ref: OpRef(n)}
			if ix.invokedOp(n) {
				m.f = ix.Request(OpRef(n)).F
			}
			ms.others = append(ms.others, m)
			byNum[n] = m
		default:
			continue
		}
		switch e.Kind {
		case history.KindDeadLetter, history.KindDeadLetterFile:
			m.parked = append(m.parked, int32(i))
		case history.KindRedrive:
			m.redrives = append(m.redrives, int32(i))
		default:
			m.applied = append(m.applied, int32(i))
		}
	}
	byAt := func(a, b int32) int { return cmp.Compare(ix.recs.EffectAt(int(a)), ix.recs.EffectAt(int(b))) }
	for _, m := range slices.Concat(ms.judged, ms.others) {
		slices.SortStableFunc(m.applied, byAt)
		slices.SortStableFunc(m.parked, byAt)
		slices.SortStableFunc(m.redrives, byAt)
	}
	slices.SortFunc(ms.others, func(a, b *message) int { return cmp.Compare(a.ref, b.ref) })
	return ms, true
}

// parking is one time a message was parked: its records on the dead-letter stream and
// in a dead-letter file until a re-drive moved it back (one message moved from the file
// to the stream is parked once).
type parking struct {
	records  []int32
	redriven bool // a re-drive followed it
	again    bool // it came after a re-drive
}

// parkings groups a message's dead-letter records into parkings, by time: a re-drive
// ends the parking before it, and a record after it starts another.
func (ix *Index) parkings(m *message) []parking {
	var out []parking
	open, redriven := false, false
	p, r := 0, 0
	for p < len(m.parked) || r < len(m.redrives) {
		if r < len(m.redrives) && (p == len(m.parked) || ix.recs.EffectAt(int(m.redrives[r])) < ix.recs.EffectAt(int(m.parked[p]))) {
			if open {
				out[len(out)-1].redriven = true
			}
			open, redriven = false, true
			r++
			continue
		}
		if !open {
			out = append(out, parking{again: redriven})
			open = true
		}
		out[len(out)-1].records = append(out[len(out)-1].records, m.parked[p])
		p++
	}
	return out
}

// leftParked reports whether a message ended parked: its last parking was not re-driven.
func leftParked(ps []parking) bool { return len(ps) > 0 && !ps[len(ps)-1].redriven }

// name names an event for a note: "payment e-1-42".
func (ix *Index) eventName(m *message) string {
	if m.f == "" {
		return "event " + ix.id(int(m.ref))
	}
	return m.f + " " + ix.id(int(m.ref))
}

// records are a message's records of the given lists, by time, for a witness.
func (ix *Index) records(lists ...[]int32) []history.Effect {
	all := slices.Concat(lists...)
	slices.SortStableFunc(all, func(a, b int32) int { return cmp.Compare(ix.recs.EffectAt(int(a)), ix.recs.EffectAt(int(b))) })
	return ix.effects(all)
}

// runClock writes a time on the run's clock: "7.31s".
func runClock(at int64) string { return fmt.Sprintf("%.2fs", float64(at)/1e9) }

// byWhom says who did what an effect records and when: " by telemetry/0 at 7.31s".
func byWhom(e *history.Effect) string {
	s := ""
	switch {
	case e.Replica != "":
		s = " by " + e.Replica
	case e.Service != "":
		s = " by " + e.Service
	}
	if e.At != 0 {
		s += " at " + runClock(e.At)
	}
	return s
}

// applications describes applied records: "delivery 1 by telemetry/0 at 7.31s,
// delivery 2 by telemetry/1 at 9.40s".
func (ix *Index) applications(idx []int32) string {
	parts := make([]string, len(idx))
	for i, n := range idx {
		e := ptrTo(ix.recs.Effect(int(n)))
		if e.Deliveries > 0 {
			parts[i] = fmt.Sprintf("delivery %d%s", e.Deliveries, byWhom(e))
		} else {
			parts[i] = "applied" + byWhom(e) + " (no delivery count)"
		}
	}
	return strings.Join(parts, ", ")
}

// parkedString describes a parking: `on the dead-letter stream by telemetry/0 at 5.00s
// (reason "…", 3 deliveries)`.
func (ix *Index) parkedString(p parking) string {
	stream, file := false, false
	var first *history.Effect
	for _, n := range p.records {
		e := ptrTo(ix.recs.Effect(int(n)))
		if e.Kind == history.KindDeadLetter {
			stream = true
		} else {
			file = true
		}
		if first == nil || (first.Kind != history.KindDeadLetter && e.Kind == history.KindDeadLetter) {
			first = e
		}
	}
	where := "on the dead-letter stream"
	switch {
	case stream && file:
		where = "in a dead-letter file, then on the dead-letter stream"
	case file:
		where = "in a dead-letter file"
	}
	reason := "no reason"
	if first.Reason != "" {
		reason = fmt.Sprintf("reason %q", first.Reason)
	}
	return fmt.Sprintf("%s%s (%s, %s)", where, byWhom(first), reason, deliveriesString(first.Deliveries))
}

func deliveriesString(n int) string {
	switch {
	case n < 1:
		return "no delivery count"
	case n == 1:
		return "1 delivery"
	}
	return fmt.Sprintf("%d deliveries", n)
}

func timesString(n int) string {
	if n == 1 {
		return "1 time"
	}
	return fmt.Sprintf("%d times", n)
}
