package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

// RunVerdict is the run's verdict as the reports show it: the recorded one, else the
// fold of its results and fault failures (Verdict); a run that checked nothing
// (stopped, or failed before the checkers) is unknown, and so is one whose planned
// faults failed or whose records are partial (Run.Partial) — never a pass.
func RunVerdict(r *Run) invariants.Verdict {
	v := r.Verdict
	if v == "" {
		v = Verdict(r.Results, r.FaultFailures)
	}
	if v == invariants.Pass && (len(r.Results) == 0 || len(r.FaultFailures) > 0 || r.Partial() != "") {
		v = invariants.Unknown
	}
	return v
}

// WriteHTML writes report.html: one self-contained page (inline CSS and SVG, no
// script, no external asset, so it can be attached to a CI job or mailed) with the
// verdict and its reason, the planned faults that failed to apply or heal (first, under
// the verdict), charts of throughput, errors and latency over the run's time axis, the
// fault windows shaded on each, the invariants table, the witnesses of the failing
// invariants and, when the run's effects hold sagas, the timeline of each saga a
// witness names (or of a sample saga) across the services that reported its steps.
//
// in is the recorded run the charts are drawn from; with a nil in (a result.json
// without its records) the page still has everything but the charts.
func WriteHTML(w io.Writer, r *Run, in *invariants.Input) error {
	p := htmlPage{Run: r, Verdict: string(RunVerdict(r)), Reason: VerdictReason(r)}
	if len(r.FaultFailures) > 0 {
		p.FaultsHeadline = FaultsHeadline(r.FaultFailures, r.Faults.Planned)
		p.FaultsConsequence = FaultsConsequence(r)
		for _, f := range r.FaultFailures {
			at := "not in the plan"
			if f.Index >= 0 {
				at = f.At.String()
			}
			p.FaultFailures = append(p.FaultFailures, htmlFaultFailure{Fault: f.Fault, Target: f.Target, Params: paramList(f.Params),
				At: at, What: f.What(), Error: f.Error})
		}
	}
	p.Started = "—"
	if !r.Started.IsZero() {
		p.Started = r.Started.UTC().Format("2006-01-02 15:04:05 MST")
	}
	p.Wall = round(r.Wall).String()
	p.Rate = strconv.FormatFloat(r.Ops.Rate, 'f', 1, 64)
	p.P50, p.P99 = round(r.Ops.P50).String(), round(r.Ops.P99).String()
	if c := r.Converge; c != nil {
		if c.Converged {
			p.Converge = fmt.Sprintf("converged %s after the last heal (%d polls)", round(c.After), c.Polls)
		} else {
			p.Converge = fmt.Sprintf("did not converge (%d polls)", c.Polls)
		}
	}
	var windows []FaultWindow
	if in != nil {
		tl := BuildTimeline(in, DefaultBucket)
		windows = tl.Faults
		p.HasCharts = true
		p.Charts = timelineCharts(tl)
		recs := in.Columns()
		if bc := breakerChart(tl, effectsWhere(recs, func(i int) bool { return recs.EffectKind(i) == history.KindBreaker })); bc != nil {
			p.Charts = append(p.Charts, *bc)
		}
		for i, fw := range windows {
			p.Faults = append(p.Faults, htmlFault{
				Class: faultClass(i), Label: fw.Label(), Params: paramList(fw.Params),
				From: secs(fw.Start), To: untilText(fw), For: forText(fw, tl.End), Error: fw.Error,
			})
		}
	}
	p.Sagas = sagaFigures(r, in, windows)
	figures := map[string]string{}
	for _, g := range p.Sagas {
		figures[g.Saga] = g.ID
	}
	for _, res := range r.Results {
		p.Results = append(p.Results, htmlResult{Name: res.Name, Verdict: string(res.Verdict), Summary: res.Summary,
			Violations: res.Violations, Checked: res.Checked, Measures: measureList(res.Measures), Elapsed: round(res.Elapsed).String()})
		if res.Verdict != invariants.Fail {
			continue
		}
		f := htmlFailure{Name: res.Name, Summary: res.Summary, Violations: res.Violations}
		for _, wt := range res.Witnesses {
			hw := htmlWitness{Note: wt.Note, ID: wt.ID, Key: wt.Key, View: wt.View}
			for _, s := range SagasOf(&wt) {
				hw.Sagas = append(hw.Sagas, htmlSagaRef{Saga: s, Anchor: figures[s]})
			}
			for _, op := range wt.Ops {
				hw.Ops = append(hw.Ops, opLine(op))
			}
			for _, e := range wt.Effects {
				hw.Effects = append(hw.Effects, EffectLine(e))
			}
			for _, fr := range wt.Faults {
				hw.Faults = append(hw.Faults, activeFaultText(fr, windows))
			}
			f.Witnesses = append(f.Witnesses, hw)
		}
		if n := res.Violations - len(res.Witnesses); n > 0 {
			f.More = n
		}
		p.Failures = append(p.Failures, f)
	}
	return htmlTmpl.Execute(w, p)
}

type htmlPage struct {
	Run             *Run
	Verdict, Reason string
	// The planned faults that failed, shown first.
	FaultsHeadline, FaultsConsequence string
	FaultFailures                     []htmlFaultFailure
	Started, Wall, Rate               string
	P50, P99, Converge                string
	HasCharts                         bool
	Charts                            []svgChart
	Faults                            []htmlFault
	Results                           []htmlResult
	Failures                          []htmlFailure
	// Sagas are the timelines of the sagas the witnesses name, or of a sample saga.
	Sagas []svgSaga
}

type htmlFaultFailure struct {
	Fault, Target, Params, At, What, Error string
}

type htmlFault struct {
	Class, Label, Params, From, To, For, Error string
}

type htmlResult struct {
	Name, Verdict, Summary string
	Violations, Checked    int
	Measures, Elapsed      string
}

type htmlFailure struct {
	Name, Summary string
	Violations    int
	Witnesses     []htmlWitness
	More          int
}

// htmlSagaRef names a saga of a witness, and its figure's id when it has one.
type htmlSagaRef struct{ Saga, Anchor string }

type htmlWitness struct {
	Note, ID, Key, View string
	Sagas               []htmlSagaRef
	Ops, Effects        []string
	Faults              []string
}

// EffectLine is an effect record on one line, as every report and the explorer show it.
func EffectLine(e history.Effect) string {
	s := e.Service + "/" + e.View
	if e.Kind != "" {
		s += " " + e.Kind
	}
	if e.Key != "" {
		s += " key " + e.Key
	}
	if e.ID != "" {
		s += " id " + e.ID
	}
	if e.Amount != 0 {
		s += fmt.Sprintf(" amount %d", e.Amount)
	}
	if e.Seq != 0 {
		s += fmt.Sprintf(" seq %d", e.Seq)
	}
	if e.Pos != 0 {
		s += fmt.Sprintf(" pos %d", e.Pos)
	}
	if e.Value != nil {
		s += fmt.Sprintf(" value %d", *e.Value)
	}
	if e.State != "" {
		s += " state " + e.State
	}
	if e.Time != 0 {
		s += " at " + secs(e.Time)
	}
	if e.Saga != "" {
		s += " saga " + e.Saga
	}
	if e.Step != "" {
		s += " step " + e.Step
	}
	if e.Undo {
		s += " undo"
	}
	return s
}

// activeFaultText describes a witness's fault (its start record) with its window when
// the records are at hand, so a reader sees whether it was healed before the op ended.
func activeFaultText(f history.Fault, ws []FaultWindow) string {
	s := f.Fault + " " + f.Target + " from " + secs(f.Time)
	for _, w := range ws {
		if w.Fault == f.Fault && w.Target == f.Target && w.Start == f.Time {
			s += " to " + untilText(w)
			break
		}
	}
	if p := paramList(f.Params); p != "" {
		s += " (" + p + ")"
	}
	return s
}

func untilText(w FaultWindow) string {
	if !w.Healed() {
		return "never healed"
	}
	return secs(w.Stop)
}

func forText(w FaultWindow, end int64) string {
	d := time.Duration(w.Until(end) - w.Start)
	if !w.Healed() {
		return "≥ " + round(d).String()
	}
	return round(d).String()
}

func secs(ns int64) string { return strconv.FormatFloat(float64(ns)/1e9, 'f', 3, 64) + "s" }

func paramList(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + m[k]
	}
	return strings.Join(parts, ", ")
}

func measureList(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := strconv.FormatInt(m[k], 10)
		if strings.HasSuffix(k, "_ns") {
			v = round(time.Duration(m[k])).String()
			k = strings.TrimSuffix(k, "_ns")
		}
		parts[i] = k + " " + v
	}
	return strings.Join(parts, ", ")
}

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"upper": strings.ToUpper,
	"num":   func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) },
	"inc":   func(i int) int { return i + 1 },
	"sub":   func(a, b float64) float64 { return a - b },
}).Parse(htmlSource))

// htmlSource is the page's template: its stylesheet, the SVG of the charts and the
// tables, filled from an htmlPage.
//
//go:embed report.html.tmpl
var htmlSource string
