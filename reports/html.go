package reports

import (
	"fmt"
	"html/template"
	"io"
	"math"
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
// faults failed — never a pass.
func RunVerdict(r *Run) invariants.Verdict {
	v := r.Verdict
	if v == "" {
		v = Verdict(r.Results, r.FaultFailures)
	}
	if v == invariants.Pass && (len(r.Results) == 0 || len(r.FaultFailures) > 0) {
		v = invariants.Unknown
	}
	return v
}

// WriteHTML writes report.html: one self-contained page (inline CSS and SVG, no
// script, no external asset, so it can be attached to a CI job or mailed) with the
// verdict and its reason, the planned faults that failed to apply or heal (first, under
// the verdict), charts of throughput, errors and latency over the run's time axis, the
// fault windows shaded on each, the invariants table and the witnesses of the failing
// invariants.
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
		for i, fw := range windows {
			p.Faults = append(p.Faults, htmlFault{
				Class: faultClass(i), Label: fw.Label(), Params: paramList(fw.Params),
				From: secs(fw.Start), To: untilText(fw), For: forText(fw, tl.End), Error: fw.Error,
			})
		}
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
			for _, op := range wt.Ops {
				hw.Ops = append(hw.Ops, opLine(op))
			}
			for _, e := range wt.Effects {
				hw.Effects = append(hw.Effects, effectLine(e))
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

type htmlWitness struct {
	Note, ID, Key, View string
	Ops, Effects        []string
	Faults              []string
}

func effectLine(e history.Effect) string {
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

// faultPalette is how many fault colours the stylesheet defines; windows cycle through
// them so overlapping faults stay apart.
const faultPalette = 6

func faultClass(i int) string { return "f" + strconv.Itoa(i%faultPalette) }

// Chart geometry, in SVG user units (the SVG scales to the page width).
const (
	chartW     = 1100.0
	plotLeft   = 64.0
	plotRight  = 16.0
	plotH      = 170.0
	laneH      = 15.0
	axisBottom = 26.0
)

type svgChart struct {
	ID, Title, Unit string
	W, H            float64
	Top, Left       float64 // plot area origin
	PW, PH          float64
	Bottom, Right   float64 // Top+PH, Left+PW
	UnitX, TickEnd  float64
	Empty           bool
	Faults          []svgFault
	Rects           []svgRect
	Paths           []svgPath
	XTicks, YTicks  []svgTick
	Legend          []svgLegend
}

type svgFault struct {
	Class, Label, Title string
	X, W, LabelY        float64
}

type svgRect struct {
	Class, Title string
	X, Y, W, H   float64
}

type svgPath struct{ Class, D string }

type svgTick struct {
	Pos   float64
	Label string
}

type svgLegend struct {
	Class, Label string
	X            float64
}

// series is one quantity per bucket; NaN is a gap (nothing to measure there).
type series struct {
	name, class string
	values      []float64
}

func timelineCharts(tl *Timeline) []svgChart {
	n := len(tl.Buckets)
	ok, fail, info := make([]float64, n), make([]float64, n), make([]float64, n)
	p50, p99 := make([]float64, n), make([]float64, n)
	for i, b := range tl.Buckets {
		ok[i], fail[i], info[i] = b.Rate(b.Ok), b.Rate(b.Fail), b.Rate(b.Info)
		p50[i], p99[i] = math.NaN(), math.NaN()
		if b.Completed() > 0 {
			p50[i], p99[i] = ms(b.P50), ms(b.P99)
		}
	}
	return []svgChart{
		barChart(tl, "throughput", "Throughput", "completed ops/s",
			[]series{{"ok", "ok", ok}, {"fail", "fail", fail}, {"info", "info", info}}),
		barChart(tl, "errors", "Errors", "fail + info /s",
			[]series{{"fail", "fail", fail}, {"info (unknown outcome)", "info", info}}),
		lineChart(tl, "latency", "Latency", "ms, by completion time",
			[]series{{"p50", "p50", p50}, {"p99", "p99", p99}}),
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// frame lays out a chart: fault label lanes above the plot, shaded fault windows, the
// time axis and the legend. The axis spans every bucket, so the last partial second
// and faults after the last operation are on it.
func frame(tl *Timeline, id, title, unit string, ss []series) svgChart {
	c := svgChart{ID: id, Title: title, Unit: unit, W: chartW, Left: plotLeft, PW: chartW - plotLeft - plotRight, PH: plotH}
	span := float64(int64(len(tl.Buckets)) * int64(tl.Bucket))
	if span <= 0 {
		span = 1
	}
	x := func(t int64) float64 { return c.Left + float64(t)/span*c.PW }

	// Labels go in lanes: each in the first lane where it does not overlap the previous
	// label, so many faults stay readable.
	var laneEnd []float64
	type placed struct {
		fw   FaultWindow
		i    int
		lane int
	}
	var ps []placed
	for i, fw := range tl.Faults {
		x0 := x(fw.Start)
		wLabel := 6.2*float64(len([]rune(fw.Label()))) + 8
		lane := -1
		for l, end := range laneEnd {
			if end <= x0 {
				lane = l
				break
			}
		}
		if lane < 0 {
			lane = len(laneEnd)
			laneEnd = append(laneEnd, 0)
		}
		laneEnd[lane] = x0 + wLabel
		ps = append(ps, placed{fw, i, lane})
	}
	c.Top = 24 + laneH*float64(len(laneEnd))
	c.Bottom = c.Top + c.PH
	c.H = c.Bottom + axisBottom + 4
	for _, p := range ps {
		x0, x1 := x(p.fw.Start), x(p.fw.Until(tl.End))
		title := p.fw.Label() + " " + secs(p.fw.Start) + " – " + untilText(p.fw)
		if pl := paramList(p.fw.Params); pl != "" {
			title += " (" + pl + ")"
		}
		c.Faults = append(c.Faults, svgFault{Class: faultClass(p.i), Label: p.fw.Label(), Title: title,
			X: r1(x0), W: r1(max(x1-x0, 1.5)), LabelY: r1(24 + laneH*float64(p.lane) + 11)})
	}
	for _, t := range timeTicks(span) {
		c.XTicks = append(c.XTicks, svgTick{Pos: r1(x(t)), Label: strconv.FormatInt(t/1e9, 10) + "s"})
	}
	c.Right = c.Left + c.PW
	c.TickEnd = c.Bottom + 4
	c.UnitX = r1(c.Left + 8.5*float64(len(title)) + 8)
	// The legend is right-aligned, clear of the title.
	legendW := 0.0
	for _, s := range ss {
		legendW += 24 + 6.5*float64(len(s.name))
	}
	lx := c.Right - legendW
	for _, s := range ss {
		c.Legend = append(c.Legend, svgLegend{Class: s.class, Label: s.name, X: r1(lx)})
		lx += 24 + 6.5*float64(len(s.name))
	}
	c.Empty = tl.Totals.Completed() == 0 && tl.Totals.Invoked == 0
	return c
}

func barChart(tl *Timeline, id, title, unit string, ss []series) svgChart {
	c := frame(tl, id, title, unit, ss)
	n := len(tl.Buckets)
	top := 0.0
	for i := range n {
		sum := 0.0
		for _, s := range ss {
			sum += s.values[i]
		}
		top = max(top, sum)
	}
	yMax, ticks := niceAxis(top)
	c.YTicks = yTicks(c, yMax, ticks)
	bw := c.PW / float64(max(n, 1))
	gap := min(1, bw/5)
	for i := range n {
		y := c.Bottom
		for _, s := range ss {
			v := s.values[i]
			if v <= 0 {
				continue
			}
			h := v / yMax * c.PH
			y -= h
			c.Rects = append(c.Rects, svgRect{Class: s.class, X: r1(c.Left + float64(i)*bw + gap/2), Y: r1(y), W: r1(max(bw-gap, 0.5)), H: r1(h),
				Title: fmt.Sprintf("%s–%s: %s %s/s", secs(tl.Buckets[i].Start), secs(tl.Buckets[i].Start+int64(tl.Buckets[i].Width)), s.name, strconv.FormatFloat(v, 'f', 1, 64))})
		}
	}
	return c
}

func lineChart(tl *Timeline, id, title, unit string, ss []series) svgChart {
	c := frame(tl, id, title, unit, ss)
	n := len(tl.Buckets)
	top := 0.0
	for _, s := range ss {
		for _, v := range s.values {
			if !math.IsNaN(v) {
				top = max(top, v)
			}
		}
	}
	yMax, ticks := niceAxis(top)
	c.YTicks = yTicks(c, yMax, ticks)
	bw := c.PW / float64(max(n, 1))
	for _, s := range ss {
		var d strings.Builder
		pen := false
		for i, v := range s.values {
			if math.IsNaN(v) {
				pen = false
				continue
			}
			cmd := 'L'
			if !pen {
				cmd = 'M'
			}
			fmt.Fprintf(&d, "%c%s %s", cmd, f1(c.Left+(float64(i)+0.5)*bw), f1(c.Bottom-v/yMax*c.PH))
			if !pen && (i+1 >= n || math.IsNaN(s.values[i+1])) {
				// A lone point would draw nothing: give it a short stroke.
				fmt.Fprintf(&d, "h0.1")
			}
			pen = true
		}
		if d.Len() > 0 {
			c.Paths = append(c.Paths, svgPath{Class: s.class, D: d.String()})
		}
	}
	return c
}

func yTicks(c svgChart, yMax float64, ticks []float64) []svgTick {
	out := make([]svgTick, len(ticks))
	for i, v := range ticks {
		out[i] = svgTick{Pos: r1(c.Bottom - v/yMax*c.PH), Label: strconv.FormatFloat(v, 'f', -1, 64)}
	}
	return out
}

// niceAxis rounds a maximum up to 1, 2 or 5 × 10ⁿ and returns it with its ticks, so
// axis labels are round numbers.
func niceAxis(top float64) (float64, []float64) {
	if top <= 0 {
		return 1, []float64{0, 0.5, 1}
	}
	step := niceStep(top / 4)
	yMax := math.Ceil(top/step) * step
	var ticks []float64
	for v := 0.0; v <= yMax+step/2; v += step {
		ticks = append(ticks, math.Round(v/step)*step)
	}
	return yMax, ticks
}

func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// timeTicks returns tick times (ns) on whole seconds, about ten across the span.
func timeTicks(span float64) []int64 {
	sec := span / 1e9
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600} {
		step = s
		if sec/s <= 12 {
			break
		}
	}
	var out []int64
	for t := 0.0; t <= sec+1e-9; t += step {
		out = append(out, int64(t*1e9))
	}
	return out
}

func r1(v float64) float64 { return math.Round(v*10) / 10 }

func f1(v float64) string { return strconv.FormatFloat(r1(v), 'f', -1, 64) }

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"upper": strings.ToUpper,
	"num":   func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) },
	"inc":   func(i int) int { return i + 1 },
}).Parse(htmlSource))

const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mscli · {{.Run.Scenario}} · seed {{.Run.Seed}} · {{upper .Verdict}}</title>
<style>
:root { --ok: #2e9d5b; --fail: #d64545; --info: #e0a526; --unknown: #c98a00; --ink: #1d232b; --muted: #5f6b7a; --line: #d9dee5; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 6px; display: flex; align-items: center; gap: 12px; }
h2 { font-size: 17px; margin: 28px 0 10px; }
h3 { font-size: 15px; margin: 18px 0 8px; }
.meta { color: var(--muted); }
.meta span + span::before { content: " · "; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; color: #fff; font-size: 13px; font-weight: 600; letter-spacing: .04em; }
.v-pass { background: var(--ok); } .v-fail { background: var(--fail); } .v-unknown { background: var(--unknown); }
.t-pass { color: var(--ok); } .t-fail { color: var(--fail); } .t-unknown { color: var(--unknown); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 10px; margin-top: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card b { display: block; font-size: 20px; }
.card small { color: var(--muted); }
.error { background: #fdecec; border: 1px solid #f3b6b6; border-radius: 8px; padding: 10px 14px; margin-top: 14px; }
.reason { margin: 0 0 6px; font-weight: 600; }
.chaos { background: #fff6e0; border: 1px solid #f0cf7a; border-left: 4px solid var(--unknown); border-radius: 8px; padding: 10px 14px; margin: 14px 0 4px; }
.chaos p { margin: 0 0 8px; }
.chaos table { border: 1px solid #f0dca6; }
.nw { white-space: nowrap; }
figure { margin: 0 0 14px; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 8px 2px; }
svg { width: 100%; height: auto; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
svg .title { font-size: 13px; font-weight: 600; fill: var(--ink); }
svg .grid { stroke: #eceff3; } svg .axis { stroke: #9aa5b1; }
svg rect.ok { fill: var(--ok); } svg rect.fail { fill: var(--fail); } svg rect.info { fill: var(--info); }
svg path.p50 { stroke: #3b73c4; } svg path.p99 { stroke: #8e44ad; }
svg path { fill: none; stroke-width: 1.8; stroke-linejoin: round; stroke-linecap: round; }
svg .sw.ok { fill: var(--ok); } svg .sw.fail { fill: var(--fail); } svg .sw.info { fill: var(--info); } svg .sw.p50 { fill: #3b73c4; } svg .sw.p99 { fill: #8e44ad; }
.fw { fill-opacity: .13; } .fe { stroke-opacity: .55; stroke-width: 1; }
.f0 { fill: #6c5ce7; stroke: #6c5ce7; } .f1 { fill: #0097a7; stroke: #0097a7; } .f2 { fill: #e67e22; stroke: #e67e22; }
.f3 { fill: #c2185b; stroke: #c2185b; } .f4 { fill: #2980b9; stroke: #2980b9; } .f5 { fill: #7f8c8d; stroke: #7f8c8d; }
svg text.fl { font-weight: 600; stroke: none; }
svg text.f0 { fill: #5341c9; } svg text.f1 { fill: #00737f; } svg text.f2 { fill: #b85f12; } svg text.f3 { fill: #9c1049; } svg text.f4 { fill: #1f6593; } svg text.f5 { fill: #5d6b6c; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.chip { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.chip.f0 { background: #6c5ce7; } .chip.f1 { background: #0097a7; } .chip.f2 { background: #e67e22; } .chip.f3 { background: #c2185b; } .chip.f4 { background: #2980b9; } .chip.f5 { background: #7f8c8d; }
.witness { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--fail); border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
.witness .note { font-weight: 600; }
.witness dl { display: grid; grid-template-columns: 110px 1fr; gap: 4px 10px; margin: 8px 0 0; }
.witness dt { color: var(--muted); }
.witness dd { margin: 0; }
pre { margin: 0; font: 12.5px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; word-break: break-all; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.muted { color: var(--muted); }
</style>
</head>
<body>
<main>
<h1>{{.Run.Scenario}} <span class="badge v-{{.Verdict}}">{{upper .Verdict}}</span></h1>
{{- if .Reason}}
<p class="reason t-{{.Verdict}}">{{.Reason}}</p>
{{- end}}
<div class="meta"><span>seed {{.Run.Seed}}</span><span>testbed {{.Run.Testbed}}</span><span>started {{.Started}}</span><span>wall {{.Wall}}</span>{{if .Run.Bugs}}<span>injected bugs: {{range $i, $b := .Run.Bugs}}{{if $i}}, {{end}}{{$b}}{{end}}</span>{{end}}</div>
<div class="meta">run dir <code>{{.Run.Dir}}</code></div>
{{- if .FaultFailures}}
<div class="chaos" id="fault-failures">
<p><b>{{.FaultsHeadline}}</b>: {{.FaultsConsequence}}.</p>
<table>
<tr><th>fault</th><th>target</th><th>parameters</th><th class="n nw">planned at</th><th class="nw">what failed</th><th>error</th></tr>
{{- range .FaultFailures}}
<tr><td>{{.Fault}}</td><td>{{.Target}}</td><td class="nw">{{.Params}}</td><td class="n nw">{{.At}}</td><td class="nw">{{.What}}</td><td>{{.Error}}</td></tr>
{{- end}}
</table>
</div>
{{- end}}
{{- if .Run.Error}}
<div class="error"><b>The run did not complete:</b> {{.Run.Error}}</div>
{{- end}}
<div class="cards">
<div class="card"><small>operations invoked</small><b>{{.Run.Ops.Invoked}}</b><small>{{.Run.Ops.Ok}} ok · {{.Run.Ops.Fail}} fail · {{.Run.Ops.Info}} info</small></div>
<div class="card"><small>throughput</small><b>{{.Rate}} ops/s</b><small>completed</small></div>
<div class="card"><small>latency</small><b>p50 {{.P50}}</b><small>p99 {{.P99}}</small></div>
<div class="card"><small>faults</small><b>{{.Run.Faults.Applied}} applied</b><small>{{.Run.Faults.Planned}} planned · {{.Run.Faults.Healed}} healed{{if .Run.Faults.Errors}} · {{.Run.Faults.Errors}} errors{{end}}</small></div>
{{- if .Converge}}
<div class="card"><small>read models</small><b>{{if .Run.Converge.Converged}}converged{{else}}diverged{{end}}</b><small>{{.Converge}}</small></div>
{{- end}}
</div>
{{- if .HasCharts}}
<h2>Over the run</h2>
{{- range .Charts}}
<figure id="{{.ID}}">
<svg viewBox="0 0 {{num .W}} {{num .H}}" role="img" aria-label="{{.Title}} over the run, fault windows shaded">
<text class="title" x="{{num .Left}}" y="15">{{.Title}}</text><text x="{{num .UnitX}}" y="15">{{.Unit}}</text>
{{- range .Legend}}
<rect class="sw {{.Class}}" x="{{num .X}}" y="6" width="10" height="10" rx="2"/><text x="{{num .X}}" dx="14" y="15">{{.Label}}</text>
{{- end}}
{{- $c := .}}
{{- range .YTicks}}
<line class="grid" x1="{{num $c.Left}}" x2="{{num $c.Right}}" y1="{{num .Pos}}" y2="{{num .Pos}}"/><text x="{{num $c.Left}}" dx="-6" y="{{num .Pos}}" dy="4" text-anchor="end">{{.Label}}</text>
{{- end}}
{{- range .Faults}}
<rect class="fw {{.Class}}" x="{{num .X}}" y="{{num $c.Top}}" width="{{num .W}}" height="{{num $c.PH}}"><title>{{.Title}}</title></rect><line class="fe {{.Class}}" x1="{{num .X}}" x2="{{num .X}}" y1="{{num .LabelY}}" y2="{{num $c.Bottom}}" stroke-dasharray="3 2"/><text class="fl {{.Class}}" x="{{num .X}}" dx="3" y="{{num .LabelY}}">{{.Label}}</text>
{{- end}}
{{- range .Rects}}
<rect class="{{.Class}}" x="{{num .X}}" y="{{num .Y}}" width="{{num .W}}" height="{{num .H}}"><title>{{.Title}}</title></rect>
{{- end}}
{{- range .Paths}}
<path class="{{.Class}}" d="{{.D}}"/>
{{- end}}
{{- if .Empty}}
<text x="{{num .Left}}" dx="20" y="{{num .Top}}" dy="40">no operations recorded</text>
{{- end}}
<line class="axis" x1="{{num .Left}}" x2="{{num .Left}}" y1="{{num .Top}}" y2="{{num .Bottom}}"/><line class="axis" x1="{{num .Left}}" x2="{{num .Right}}" y1="{{num .Bottom}}" y2="{{num .Bottom}}"/>
{{- range .XTicks}}
<line class="axis" x1="{{num .Pos}}" x2="{{num .Pos}}" y1="{{num $c.Bottom}}" y2="{{num $c.TickEnd}}"/><text x="{{num .Pos}}" y="{{num $c.Bottom}}" dy="16" text-anchor="middle">{{.Label}}</text>
{{- end}}
</svg>
</figure>
{{- end}}
{{- if .Faults}}
<h2>Faults</h2>
<table>
<tr><th>fault</th><th>parameters</th><th class="n">from</th><th class="n">to</th><th class="n">for</th><th>error</th></tr>
{{- range .Faults}}
<tr><td><span class="chip {{.Class}}"></span>{{.Label}}</td><td>{{.Params}}</td><td class="n">{{.From}}</td><td class="n">{{.To}}</td><td class="n">{{.For}}</td><td>{{.Error}}</td></tr>
{{- end}}
</table>
{{- end}}
{{- else}}
<p class="muted">The run's records (history.jsonl, faults.jsonl) were not available: no charts.</p>
{{- end}}
<h2>Invariants</h2>
<table>
<tr><th>verdict</th><th>invariant</th><th>summary</th><th class="n">violations</th><th class="n">checked</th><th>measures</th><th class="n">took</th></tr>
{{- range .Results}}
<tr><td><b class="t-{{.Verdict}}">{{upper .Verdict}}</b></td><td>{{.Name}}</td><td>{{.Summary}}</td><td class="n">{{.Violations}}</td><td class="n">{{.Checked}}</td><td>{{.Measures}}</td><td class="n">{{.Elapsed}}</td></tr>
{{- else}}
<tr><td colspan="7" class="muted">no invariant was checked</td></tr>
{{- end}}
</table>
{{- if .Failures}}
<h2>Witnesses</h2>
{{- range .Failures}}
<h3 id="w-{{.Name}}"><span class="t-fail">✗</span> {{.Name}} <span class="muted">— {{.Summary}}</span></h3>
{{- range $i, $w := .Witnesses}}
<div class="witness">
<div class="note">{{inc $i}}. {{.Note}}</div>
<dl>
{{- if .ID}}<dt>operation</dt><dd><code>{{.ID}}</code></dd>{{end}}
{{- if .Key}}<dt>key</dt><dd><code>{{.Key}}</code></dd>{{end}}
{{- if .View}}<dt>view</dt><dd>{{.View}}</dd>{{end}}
{{- if .Ops}}<dt>history</dt><dd><pre>{{range .Ops}}{{.}}
{{end}}</pre></dd>{{end}}
{{- if .Effects}}<dt>effects</dt><dd><pre>{{range .Effects}}{{.}}
{{end}}</pre></dd>{{end}}
<dt>faults active</dt><dd>{{if .Faults}}{{range $j, $f := .Faults}}{{if $j}}<br>{{end}}{{$f}}{{end}}{{else}}<span class="muted">none</span>{{end}}</dd>
</dl>
</div>
{{- end}}
{{- if .More}}
<p class="muted">… {{.More}} more violations are counted but not kept as witnesses.</p>
{{- end}}
{{- end}}
{{- end}}
</main>
</body>
</html>
`
