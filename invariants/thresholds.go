package invariants

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/registry"
	"github.com/mscli/mscli/plan"
)

// A threshold (plan.Threshold, a scenario's `thresholds:`) bounds a metric of the run:
// `p99 < 2s`, `error-rate during faults < 5%`. Each is judged like an invariant, into
// a Result named "threshold: <text>" whose summary gives the measured figure and the
// bound, and a breach fails the run. A metric with nothing to measure makes its
// threshold unknown, never pass.

// RunFacts is what a run knows beyond its records, for the metrics that measure it:
// the plan, the planned faults applied and healed (as reports.CountFaults counts them
// from the records), and what waiting for the read models found.
type RunFacts struct {
	Plan *plan.Plan
	// FaultsPlanned and FaultsHealed count the planned faults, and those of them
	// applied and healed.
	FaultsPlanned, FaultsHealed int
	// Converge is what the runner's wait for the read models found (result.json's
	// converge); nil when it never waited.
	Converge *Convergence
}

// Convergence is what waiting for the read models found.
type Convergence struct {
	Converged bool
	// After is from the end of the workload and the last heal until every read model
	// agreed with its write model and every operation had settled.
	After time.Duration
	Polls int
}

// MetricInput is what a metric measures: the run's index, its facts, and the scope.
type MetricInput struct {
	Index *Index
	Facts RunFacts
	// DuringFaults narrows an operation metric to the operations in flight while a
	// fault was active.
	DuringFaults bool
	ops          *opSample
}

// Measure is what a metric found: a value in its unit's base (nanoseconds for a
// duration, a fraction from 0 to 1 for a ratio, a count), how many items it was
// measured over, and a few words on what it counted ("12 of 975 completed operations
// not ok"). Unknown, when not "", says why there was nothing to measure; the
// threshold is then unknown.
type Measure struct {
	Value   float64
	Checked int
	Detail  string
	Unknown string
}

// Metric measures one metric of a run. It must only read the input.
type Metric func(in *MetricInput) Measure

var metrics = registry.New[Metric]("invariants: metric")

// RegisterMetric makes a metric available to thresholds: its declaration (name, unit,
// whether `during faults` narrows it), which scenarios validate against, and the
// function that measures it. It panics when the name is taken, as registrations
// happen in init.
func RegisterMetric(decl plan.MetricKind, m Metric) {
	metrics.RegisterWith(decl.Name, m, func() { plan.RegisterMetricKind(decl) })
}

// CheckThresholds judges each threshold over the index of a run and its facts, in
// order. Run and the offline re-check call it alike, so they give the same results.
func CheckThresholds(ix *Index, ts []plan.Threshold, facts RunFacts) []Result {
	if len(ts) == 0 {
		return nil
	}
	sample := &opSample{}
	out := make([]Result, 0, len(ts))
	for _, t := range ts {
		start := time.Now()
		r := checkThreshold(&MetricInput{Index: ix, Facts: facts, DuringFaults: t.During == plan.DuringFaults, ops: sample}, t)
		r.Name = ThresholdPrefix + t.Text
		r.Elapsed = time.Since(start)
		out = append(out, r)
	}
	return out
}

// ThresholdPrefix begins the name of a threshold's result.
const ThresholdPrefix = "threshold: "

func checkThreshold(in *MetricInput, t plan.Threshold) Result {
	m, ok := metrics.Lookup(t.Metric)
	if !ok {
		return UnknownResult(fmt.Sprintf("no metric named %q (known: %s)", t.Metric, strings.Join(plan.MetricKindNames(), ", ")))
	}
	if kind, _ := plan.LookupMetricKind(t.Metric); kind.Unit != t.Unit {
		return UnknownResult(fmt.Sprintf("the plan says %s is a %s, but it measures a %s", t.Metric, t.Unit, kind.Unit))
	}
	bound, err := t.Value()
	if err != nil {
		return UnknownResult(fmt.Sprintf("bound %q: %v", t.Bound, err))
	}
	boundText := t.Op + " " + plan.FormatValue(t.Unit, bound)
	got := m(in)
	if got.Unknown != "" {
		r := UnknownResult(fmt.Sprintf("%s: nothing to measure: %s; bound %s", t.Label(), got.Unknown, boundText))
		r.Checked = got.Checked
		return r
	}
	figure := plan.FormatValue(t.Unit, got.Value)
	if math.IsInf(got.Value, 1) {
		figure = "never"
	}
	if got.Detail != "" {
		figure += " (" + got.Detail + ")"
	}
	r := Result{Verdict: Pass, Checked: got.Checked,
		Summary: fmt.Sprintf("%s = %s, bound %s", t.Label(), figure, boundText)}
	if !t.Holds(got.Value, bound) {
		r.Verdict, r.Violations = Fail, 1
	}
	r.Measures = measures(t.Unit, got.Value, bound)
	return r
}

// measures are the value and the bound in whole numbers of the unit's base:
// value_ns and bound_ns for a duration, value_ppm and bound_ppm (parts per million)
// for a ratio, value and bound for a count. An infinite value (never converged) is
// left out.
func measures(unit plan.MetricUnit, value, bound float64) map[string]int64 {
	suffix, scale := "", 1.0
	switch unit {
	case plan.UnitDuration:
		suffix = "_ns"
	case plan.UnitRatio:
		suffix, scale = "_ppm", 1e6
	}
	m := map[string]int64{"bound" + suffix: int64(math.Round(bound * scale))}
	if !math.IsInf(value, 0) && !math.IsNaN(value) {
		m["value"+suffix] = int64(math.Round(value * scale))
	}
	return m
}

// Completion is one operation of the workload, invoked and completed.
type Completion struct {
	Outcome history.OpType // ok, fail or info
	// Latency is from its invoke to its completion, retries included.
	Latency time.Duration
}

// opSample keeps the completions of one run per scope, taken once for every
// threshold that reads them.
type opSample struct {
	all, faulted     []Completion
	latAll, latFault []time.Duration
	done             bool
}

// Completions are the operations the workload invoked during the run and saw
// complete (ok, fail or info), in the input's scope: with DuringFaults, those in
// flight (from invoke to completion) at any moment a fault was active — from its
// start record to its stop record, or the end for one never healed; a fault that
// failed to apply was never active. The final reads, made once the system was quiet
// (after the plan's duration), are not the workload's.
func (in *MetricInput) Completions() []Completion {
	in.sample()
	if in.DuringFaults {
		return in.ops.faulted
	}
	return in.ops.all
}

// Latencies are the latencies of Completions, ascending.
func (in *MetricInput) Latencies() []time.Duration {
	in.sample()
	if in.DuringFaults {
		return in.ops.latFault
	}
	return in.ops.latAll
}

func (in *MetricInput) sample() {
	if in.ops == nil {
		in.ops = &opSample{}
	}
	s := in.ops
	if s.done {
		return
	}
	s.done = true
	ix := in.Index
	end := int64(math.MaxInt64)
	if in.Facts.Plan != nil && in.Facts.Plan.Duration > 0 {
		end = int64(in.Facts.Plan.Duration)
	}
	windows := mergedWindows(ix)
	add := func(inv, done *history.Op) {
		if inv.Time >= end {
			return
		}
		c := Completion{Outcome: done.Type, Latency: time.Duration(done.Time - inv.Time)}
		s.all = append(s.all, c)
		if overlaps(windows, inv.Time, done.Time) {
			s.faulted = append(s.faulted, c)
		}
	}
	for n := range ix.invoked {
		info := ix.infos[n]
		if info.invoke >= 0 && info.complete >= 0 {
			add(ptrTo(ix.recs.Op(int(info.invoke))), ptrTo(ix.recs.Op(int(info.complete))))
		}
	}
	for _, r := range ix.reads {
		add(ptrTo(ix.recs.Op(int(r.invoke))), ptrTo(ix.recs.Op(int(r.complete))))
	}
	s.latAll, s.latFault = latencies(s.all), latencies(s.faulted)
}

func latencies(cs []Completion) []time.Duration {
	out := make([]time.Duration, len(cs))
	for i, c := range cs {
		out[i] = c.Latency
	}
	slices.Sort(out)
	return out
}

// mergedWindows are the fault windows as disjoint [from, to] intervals in time
// order; a window never healed runs to the end.
func mergedWindows(ix *Index) [][2]int64 {
	var ws [][2]int64
	for _, w := range ix.windows {
		to := w.to
		if to < 0 {
			to = math.MaxInt64
		}
		ws = append(ws, [2]int64{w.from, to})
	}
	slices.SortFunc(ws, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	var out [][2]int64
	for _, w := range ws {
		if n := len(out); n > 0 && w[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], w[1])
			continue
		}
		out = append(out, w)
	}
	return out
}

// overlaps says whether [from, to] meets any of the disjoint, ordered windows.
func overlaps(ws [][2]int64, from, to int64) bool {
	// The first window that ends at or after from; it overlaps if it starts by to.
	i, _ := slices.BinarySearchFunc(ws, from, func(w [2]int64, t int64) int { return cmp.Compare(w[1], t) })
	return i < len(ws) && ws[i][0] <= to
}

// IsThreshold says whether a result's name is a threshold's (ThresholdPrefix).
func IsThreshold(name string) bool { return strings.HasPrefix(name, ThresholdPrefix) }
