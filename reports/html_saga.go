package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

// Saga figure geometry, in SVG user units, beside the charts' (chartW, laneH).
const (
	sagaLeft  = 96.0 // room for the lanes' names
	sagaRight = 24.0
	sagaLaneH = 50.0 // a lane: its line, a label tier above and one below
	// sagaPad is the least time shown either side of the saga's records.
	sagaPad = 5e6
)

// svgSaga is one saga's timeline as the page draws it: a lane per service (and the
// client's), a marker per record, the client's request as a bar, the faults active
// meanwhile shaded, and its rows as text below.
type svgSaga struct {
	ID, Saga, Caption, Title string
	Services                 string // the lanes named for the figure's label
	W, H                     float64
	Left, Right              float64
	Top, Bottom, TickEnd     float64
	Lanes                    []svgLane
	Faults                   []svgFault
	Request                  *svgSpan
	Marks                    []svgMark
	XTicks                   []svgTick
	Untimed                  []string
	Rows                     []string
}

type svgLane struct {
	Label string
	Y     float64 // its line
}

type svgSpan struct {
	Class, Label, Title string
	X, Y, W, LabelY     float64
}

// svgMark is a record on its lane: a circle, or the polygon of Points (the end).
type svgMark struct {
	Class, Label, Title, Points string
	X, Y, LabelY                float64
}

// sagaPick is a saga the page shows, and why.
type sagaPick struct {
	saga, caption string
	wit           *invariants.Witness
}

// sagaFigures lays out the sagas of the results' witnesses (one figure per saga, up
// to invariants.MaxWitnesses), or, when no witness names a saga, a sample saga of
// the run's effects. windows are the run's fault windows (nil without records).
func sagaFigures(r *Run, in *invariants.Input, windows []FaultWindow) []svgSaga {
	var picks []sagaPick
	seen := map[string]bool{}
	for ri := range r.Results {
		res := &r.Results[ri]
		for wi := range res.Witnesses {
			w := &res.Witnesses[wi]
			for _, s := range SagasOf(w) {
				if seen[s] || len(picks) == invariants.MaxWitnesses {
					continue
				}
				seen[s] = true
				picks = append(picks, sagaPick{s, fmt.Sprintf("witness %d of %s: %s", wi+1, res.Name, w.Note), w})
			}
		}
	}
	if len(picks) == 0 && in != nil {
		recs := in.Columns()
		if s, why := SampleSaga(effectsWhere(recs, func(i int) bool {
			return recs.EffectSaga(i) != "" || recs.EffectKind(i) == history.KindOperation
		})); s != "" {
			seen[s] = true
			picks = append(picks, sagaPick{saga: s, caption: why})
		}
	}
	if len(picks) == 0 {
		return nil
	}
	// The run's records of the picked sagas, in one pass over each file.
	effects, ops := map[string][]history.Effect{}, map[string][]history.Op{}
	if in != nil {
		recs := in.Columns()
		for i := range recs.NumEffects() {
			s := recs.EffectSaga(i)
			if s == "" {
				s = recs.EffectID(i)
			}
			if !seen[s] {
				continue
			}
			if e := recs.Effect(i); ofSaga(&e, s) {
				effects[s] = append(effects[s], e)
			}
		}
		for i := range recs.NumOps() {
			if id := recs.OpID(i); id != "" && seen[id] {
				ops[id] = append(ops[id], recs.Op(i))
			}
		}
	}
	out := make([]svgSaga, 0, len(picks))
	for _, p := range picks {
		si := SagaInput{Effects: effects[p.saga], Ops: ops[p.saga], Faults: windows}
		if p.wit != nil {
			si.Effects = append(append([]history.Effect(nil), p.wit.Effects...), si.Effects...)
			si.Ops = append(append([]history.Op(nil), p.wit.Ops...), si.Ops...)
			si.Active = p.wit.Faults
		}
		out = append(out, sagaFigure(BuildSaga(p.saga, si), p.caption, windows))
	}
	return out
}

// SagaAnchor is the id of a saga's figure in report.html.
func SagaAnchor(saga string) string {
	var b strings.Builder
	b.WriteString("saga-")
	for _, c := range saga {
		if c < 128 && (c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func sagaFigure(tl *SagaTimeline, caption string, windows []FaultWindow) svgSaga {
	g := svgSaga{ID: SagaAnchor(tl.Saga), Saga: tl.Saga, Caption: caption, W: chartW, Left: sagaLeft, Right: chartW - sagaRight}
	g.Services = strings.Join(tl.Lanes, ", ")
	g.Title = "saga " + tl.Saga
	if tl.End != "" {
		g.Title += " · ends " + tl.End
	}
	if tl.Compensated() {
		g.Title += " · compensated"
	}
	if rq := tl.Request; rq != nil && rq.Done != nil {
		g.Title += " · request took " + round(time.Duration(rq.Done.Time-rq.Invoke.Time)).String()
	}
	pad := max(float64(tl.To-tl.From)*0.06, sagaPad)
	lo, hi := float64(tl.From)-pad, float64(tl.To)+pad
	pw := g.Right - g.Left
	x := func(t int64) float64 { return min(max(g.Left+(float64(t)-lo)/(hi-lo)*pw, g.Left), g.Right) }

	// The faults, their labels in lanes above the saga's lanes (as on the charts).
	xs, ws := make([]float64, len(tl.Faults)), make([]float64, len(tl.Faults))
	for i, fw := range tl.Faults {
		xs[i], ws[i] = x(fw.Start), labelWidth(fw.Label())
	}
	flanes, n := labelLanes(xs, ws)
	g.Top = 24 + laneH*float64(n) + 6
	g.Bottom = g.Top + sagaLaneH*float64(len(tl.Lanes))
	g.TickEnd = g.Bottom + 4
	g.H = g.Bottom + axisBottom + 4
	for i, fw := range tl.Faults {
		x0, x1 := x(fw.Start), x(fw.Until(int64(hi)))
		g.Faults = append(g.Faults, svgFault{Class: runFaultClass(fw, windows, i), Label: fw.Label(), Title: faultTitle(fw),
			X: r1(x0), W: r1(max(x1-x0, 1.5)), LabelY: r1(24 + laneH*float64(flanes[i]) + 11)})
	}

	laneY := map[string]float64{}
	for i, l := range tl.Lanes {
		y := r1(g.Top + sagaLaneH*float64(i) + sagaLaneH/2 + 4)
		laneY[l] = y
		g.Lanes = append(g.Lanes, svgLane{Label: l, Y: y})
	}
	// Each lane has a label tier above its line and one below: a label goes in the
	// first whose previous label it clears.
	tiers := map[string]*[2]float64{}
	place := func(lane string, x0, w float64) float64 {
		t := tiers[lane]
		if t == nil {
			t = &[2]float64{math.Inf(-1), math.Inf(-1)}
			tiers[lane] = t
		}
		k := 0
		if t[0] > x0 && t[1] <= x0 {
			k = 1
		}
		t[k] = x0 + w
		if k == 0 {
			return laneY[lane] - 10
		}
		return laneY[lane] + 19
	}
	if rq := tl.Request; rq != nil {
		x0, x1 := x(rq.Invoke.Time), g.Right
		label, class := rq.Invoke.F+" "+rq.Invoke.Key+" → no completion", "open"
		title := strings.TrimSpace(opLine(rq.Invoke))
		if rq.Done != nil {
			x1 = x(rq.Done.Time)
			label, class = rq.Invoke.F+" "+rq.Invoke.Key+" → "+string(rq.Done.Type), string(rq.Done.Type)
			title += "\n" + strings.TrimSpace(opLine(*rq.Done))
		}
		y := laneY[ClientLane]
		g.Request = &svgSpan{Class: class, Label: label, Title: title, X: r1(x0), Y: r1(y - 5), W: r1(max(x1-x0, 2)),
			LabelY: r1(place(ClientLane, x0, labelWidth(label)))}
	}
	for _, e := range tl.Events {
		if e.What == SagaClient {
			continue
		}
		if !e.Timed {
			g.Untimed = append(g.Untimed, e.Lane+" "+e.Mark()+" ("+EffectLine(*e.Effect)+")")
			continue
		}
		cx, cy := r1(x(e.At)), laneY[e.Lane]
		m := svgMark{Class: "sg-" + e.What, Label: e.Mark(), X: cx, Y: cy,
			Title: secs(e.At) + " " + EffectLine(*e.Effect)}
		if e.What == SagaEnd {
			m.Class += " sg-" + endClass(e.Effect.State)
			m.Points = fmt.Sprintf("%s,%s %s,%s %s,%s %s,%s", f1(cx), f1(cy-7), f1(cx+7), f1(cy), f1(cx), f1(cy+7), f1(cx-7), f1(cy))
		}
		w := labelWidth(m.Label)
		m.LabelY = r1(place(e.Lane, cx-w/2, w))
		g.Marks = append(g.Marks, m)
	}
	for _, t := range sagaTicks(int64(lo), int64(hi)) {
		g.XTicks = append(g.XTicks, svgTick{Pos: r1(x(t.at)), Label: t.label})
	}
	rows := tl.Rows()
	lw, kw := RowWidths(rows)
	for _, row := range rows {
		g.Rows = append(g.Rows, row.Text(lw, kw))
	}
	return g
}

// runFaultClass is a fault window's colour: its colour on the charts when it is one
// of the run's windows, so a fault looks the same everywhere on the page.
func runFaultClass(fw FaultWindow, windows []FaultWindow, i int) string {
	for j, w := range windows {
		if w.Fault == fw.Fault && w.Target == fw.Target && w.Start == fw.Start {
			return faultClass(j)
		}
	}
	return faultClass(len(windows) + i)
}

func endClass(state string) string {
	switch state {
	case history.StateApplied, history.StateRejected, history.StateAborted:
		return state
	}
	return "pending"
}

type sagaTick struct {
	at    int64
	label string
}

// sagaTicks returns about six ticks on round times in [lo, hi], labelled in seconds
// of the run clock with as many decimals as the step needs.
func sagaTicks(lo, hi int64) []sagaTick {
	step := niceStep(float64(hi-lo) / 6)
	if step <= 0 || math.IsNaN(step) {
		return nil
	}
	dec := 0
	for v := step / 1e9; v < 1-1e-9 && dec < 6; v *= 10 {
		dec++
	}
	var out []sagaTick
	for t := math.Ceil(float64(lo)/step) * step; t <= float64(hi); t += step {
		out = append(out, sagaTick{int64(t), strconv.FormatFloat(t/1e9, 'f', dec, 64) + "s"})
	}
	return out
}
