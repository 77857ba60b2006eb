package reports

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

// The phases of a planned fault that can fail.
const (
	PhaseApply = "apply"
	PhaseHeal  = "heal"
)

// FaultFailure is a planned fault that did not do what the plan said: applying it
// failed or never happened, or healing it failed or never happened. A run with one is
// inconclusive, never a pass: its invariants were judged without the chaos they were
// meant to survive, or with a fault still in place.
type FaultFailure struct {
	// Index is the fault's position in the plan's timeline (plan.json's faults), or -1
	// for a failed record that no planned fault accounts for.
	Index  int               `json:"index"`
	Fault  string            `json:"fault"`
	Target string            `json:"target"`
	Params map[string]string `json:"params,omitempty"`
	// At is when the plan applies the fault, on the run clock (for a record no planned
	// fault accounts for, the record's time).
	At time.Duration `json:"at_ns"`
	// Phase is "apply" or "heal": what failed.
	Phase string `json:"phase"`
	// Error is the fault record's error or, when Missing, which record is missing.
	Error string `json:"error"`
	// Missing means faults.jsonl has no record of that phase at all: the fault was
	// never started (apply) or never healed (heal).
	Missing bool `json:"missing,omitempty"`
}

// Label names the fault: "latency client->bank".
func (f FaultFailure) Label() string {
	if f.Target == "" {
		return f.Fault
	}
	return f.Fault + " " + f.Target
}

// What says what went wrong: "failed to apply", "never applied", "failed to heal" or
// "never healed".
func (f FaultFailure) What() string {
	switch {
	case f.Phase == PhaseApply && f.Missing:
		return "never applied"
	case f.Phase == PhaseApply:
		return "failed to apply"
	case f.Missing:
		return "never healed"
	default:
		return "failed to heal"
	}
}

// Line is the failure on one line, for lists: "latency client->bank, planned at 3s:
// failed to apply: <error>".
func (f FaultFailure) Line() string {
	s := f.Label()
	if f.Index >= 0 {
		s += ", planned at " + f.At.String()
	} else {
		s += " (not in the plan)"
	}
	return s + ": " + f.What() + ": " + f.Error
}

// short is the failure in a verdict's reason: "latency client->bank: <error>".
func (f FaultFailure) short() string {
	switch {
	case f.Missing:
		return f.Label() + ": " + f.What()
	case f.Phase == PhaseHeal:
		return f.Label() + ": heal: " + clipText(f.Error, 100)
	default:
		return f.Label() + ": " + clipText(f.Error, 100)
	}
}

// FaultFailures judges whether the chaos a plan called for took place: it matches a
// run's fault records (faults.jsonl) to the plan's faults and returns each planned
// fault that failed to apply or to heal, or that has no start or no stop record at
// all, in plan order; then each failed record that no planned fault accounts for. A
// fault whose apply failed is one failure, whatever its heal did. No failure means
// every planned fault was applied and healed.
//
// The scheduler writes a start record once a fault is applied (with the error when
// applying failed) and a stop record once it is healed (at once, with no error, when
// there was nothing to undo); both carry the fault's position in the timeline (n).
// Records are matched by that position when it is consistent with the plan (recorded
// runs written before it existed all have n 0); otherwise by fault kind and target,
// starts in time order to planned faults in plan order, stops to the started fault
// whose window ends first — so two overlapping faults of one kind on one target pair
// up as the scheduler healed them. Equal parameters are preferred in both.
func FaultFailures(planned []plan.Fault, records []history.Fault) []FaultFailure {
	start, stop := matchFaults(planned, records)
	used := make([]bool, len(records))
	var out []FaultFailure
	for i, p := range planned {
		ff := FaultFailure{Index: i, Fault: p.Kind, Target: p.Target, Params: p.Params, At: p.At.D()}
		if s := start[i]; s >= 0 {
			used[s] = true
		}
		if s := stop[i]; s >= 0 {
			used[s] = true
		}
		switch {
		case start[i] < 0:
			ff.Phase, ff.Missing, ff.Error = PhaseApply, true, "no start record in faults.jsonl"
		case records[start[i]].Error != "":
			ff.Phase, ff.Error = PhaseApply, records[start[i]].Error
			if s := stop[i]; s >= 0 && records[s].Error != "" {
				ff.Error += "; undoing it failed too: " + records[s].Error
			}
		case stop[i] < 0:
			ff.Phase, ff.Missing, ff.Error = PhaseHeal, true, "no stop record in faults.jsonl"
		case records[stop[i]].Error != "":
			ff.Phase, ff.Error = PhaseHeal, records[stop[i]].Error
		default:
			continue
		}
		out = append(out, ff)
	}
	for i, r := range records {
		if used[i] || r.Error == "" {
			continue
		}
		phase := PhaseApply
		if r.Phase == history.Stop {
			phase = PhaseHeal
		}
		out = append(out, FaultFailure{Index: -1, Fault: r.Fault, Target: r.Target, Params: r.Params, At: time.Duration(r.Time), Phase: phase, Error: r.Error})
	}
	return out
}

// CountFaults counts a run's faults against its plan, matching records as
// FaultFailures does: applied are the planned faults whose start record has no error,
// healed those of them whose stop record has none (a fault that failed to apply is
// neither, though the scheduler closes it with a stop), and errors counts the fault
// records that carry one.
func CountFaults(planned []plan.Fault, records []history.Fault) FaultCounts {
	start, stop := matchFaults(planned, records)
	c := FaultCounts{Planned: len(planned)}
	for i := range planned {
		if start[i] < 0 || records[start[i]].Error != "" {
			continue
		}
		c.Applied++
		if stop[i] >= 0 && records[stop[i]].Error == "" {
			c.Healed++
		}
	}
	for _, r := range records {
		if r.Error != "" {
			c.Errors++
		}
	}
	return c
}

// matchFaults returns, per planned fault, the index of its start and of its stop
// record, -1 where there is none.
func matchFaults(planned []plan.Fault, records []history.Fault) (start, stop []int) {
	start, stop = make([]int, len(planned)), make([]int, len(planned))
	for i := range planned {
		start[i], stop[i] = -1, -1
	}
	if byPosition(planned, records, start, stop) {
		return start, stop
	}
	for i := range planned {
		start[i], stop[i] = -1, -1
	}
	same := func(p plan.Fault, r history.Fault) bool { return p.Kind == r.Fault && p.Target == r.Target }

	// Starts in time order take the first planned fault of their kind and target not
	// yet taken: the plan is in time order, and faults are skipped only at the end of
	// a run, so the planned faults left without a start are the last ones.
	var starts []int
	for i, r := range records {
		if r.Phase == history.Start {
			starts = append(starts, i)
		}
	}
	slices.SortStableFunc(starts, func(a, b int) int { return cmpInt64(records[a].Time, records[b].Time) })
	for _, ri := range starts {
		r := records[ri]
		best := -1
		for pi, p := range planned {
			if start[pi] >= 0 || !same(p, r) {
				continue
			}
			if best < 0 || (maps.Equal(p.Params, r.Params) && !maps.Equal(planned[best].Params, r.Params)) {
				best = pi
			}
		}
		if best >= 0 {
			start[best] = ri
		}
	}

	// Stops, in the order they were written, heal a started fault recorded before them:
	// the one whose window ends first, as the scheduler heals.
	for ri, r := range records {
		if r.Phase != history.Stop {
			continue
		}
		best := -1
		for pi, p := range planned {
			if start[pi] < 0 || start[pi] > ri || stop[pi] >= 0 || !same(p, r) {
				continue
			}
			if best < 0 {
				best = pi
				continue
			}
			pe, be := maps.Equal(p.Params, r.Params), maps.Equal(planned[best].Params, r.Params)
			switch {
			case pe != be:
				if pe {
					best = pi
				}
			case plannedEnd(p) < plannedEnd(planned[best]):
				best = pi
			}
		}
		if best >= 0 {
			stop[best] = ri
		}
	}
	return start, stop
}

// byPosition matches records by their position in the timeline (history.Fault.N)
// when every record's position names a planned fault of its kind and target, with at
// most one start and one stop each and every stop after its start. It reports whether
// it did.
func byPosition(planned []plan.Fault, records []history.Fault, start, stop []int) bool {
	for i, r := range records {
		n := r.N
		if n < 0 || n >= len(planned) || planned[n].Kind != r.Fault || planned[n].Target != r.Target {
			return false
		}
		switch r.Phase {
		case history.Start:
			if start[n] >= 0 {
				return false
			}
			start[n] = i
		case history.Stop:
			if start[n] < 0 || stop[n] >= 0 {
				return false
			}
			stop[n] = i
		}
	}
	return true
}

// plannedEnd is when the plan heals a fault: at+for, a kill's restart-after, at once
// for an instantaneous fault, and never (the end of the run) for a window fault
// without a `for`.
func plannedEnd(f plan.Fault) time.Duration {
	if f.For > 0 {
		return f.End().D()
	}
	if v, ok := f.Params["restart-after"]; ok {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return f.At.D() + d
		}
	}
	if k, ok := plan.LookupFaultKind(f.Kind); ok && !k.Window && f.Kind != "kill" {
		return f.At.D()
	}
	return math.MaxInt64
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Verdict folds a run's verdict — the one place it is decided: a violated invariant
// fails the run; else an unknown invariant or a planned fault that failed to apply or
// heal leaves it unknown (fail > unknown > pass). A run without chaos is never green.
func Verdict(rs []invariants.Result, ff []FaultFailure) invariants.Verdict {
	v := invariants.Worst(rs)
	if v == invariants.Pass && len(ff) > 0 {
		return invariants.Unknown
	}
	return v
}

// FaultsHeadline counts fault failures against the plan: "4 of 4 planned faults
// failed to apply", "1 of 3 planned faults failed to heal", "3 of 5 planned faults
// failed: 2 to apply, 1 to heal". Empty when nothing failed.
func FaultsHeadline(ff []FaultFailure, planned int) string {
	applied, healed := 0, 0
	for _, f := range ff {
		if f.Phase == PhaseApply {
			applied++
		} else {
			healed++
		}
	}
	of := func(n int) string {
		if planned > 0 && n <= planned {
			return fmt.Sprintf("%d of %d planned faults", n, planned)
		}
		return plural(n, "fault")
	}
	switch {
	case applied > 0 && healed > 0:
		return fmt.Sprintf("%s failed: %d to apply, %d to heal", of(applied+healed), applied, healed)
	case applied > 0:
		return of(applied) + " failed to apply"
	case healed > 0:
		return of(healed) + " failed to heal"
	}
	return ""
}

// reasonFaults is how many failed faults a verdict's reason names.
const reasonFaults = 2

// FaultsReason is the headline with the first failures: "4 of 4 planned faults failed
// to apply: latency client->bank: <error>; kill bank/0: <error> … and 2 more".
func FaultsReason(ff []FaultFailure, planned int) string {
	if len(ff) == 0 {
		return ""
	}
	parts := make([]string, 0, reasonFaults)
	for _, f := range ff[:min(len(ff), reasonFaults)] {
		parts = append(parts, f.short())
	}
	s := FaultsHeadline(ff, planned) + ": " + strings.Join(parts, "; ")
	if more := len(ff) - reasonFaults; more > 0 {
		s += fmt.Sprintf(" … and %d more", more)
	}
	return s
}

// VerdictReason says why a run is not a pass, for the verdict line: "violated:
// durable", "inconclusive: 4 of 4 planned faults failed to apply: latency
// client->bank: <error> …", "inconclusive: converges unknown". Empty for a pass.
func VerdictReason(r *Run) string {
	var failed, unknown []string
	for _, res := range r.Results {
		switch res.Verdict {
		case invariants.Fail:
			failed = append(failed, res.Name)
		case invariants.Unknown:
			unknown = append(unknown, res.Name)
		}
	}
	switch RunVerdict(r) {
	case invariants.Pass:
		return ""
	case invariants.Fail:
		if len(failed) == 0 {
			return ""
		}
		return "violated: " + strings.Join(failed, ", ")
	}
	var parts []string
	if why := r.Partial(); why != "" {
		parts = append(parts, why)
	}
	if len(r.FaultFailures) > 0 {
		parts = append(parts, FaultsReason(r.FaultFailures, r.Faults.Planned))
	}
	if len(unknown) > 0 {
		parts = append(parts, strings.Join(unknown, ", ")+" unknown")
	}
	if len(r.Results) == 0 {
		parts = append(parts, "no invariant was checked")
	}
	if len(parts) == 0 {
		return "inconclusive"
	}
	return "inconclusive: " + strings.Join(parts, "; ")
}

// FaultsConsequence is what the fault failures mean for the verdict, after their
// headline: the run is inconclusive, or an invariant failed even so.
func FaultsConsequence(r *Run) string {
	if RunVerdict(r) == invariants.Fail {
		return "an invariant was violated even so"
	}
	return "the run is inconclusive, not a pass"
}

func clipText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
