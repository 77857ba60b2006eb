package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

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

	xs, ws := make([]float64, len(tl.Faults)), make([]float64, len(tl.Faults))
	for i, fw := range tl.Faults {
		xs[i], ws[i] = x(fw.Start), labelWidth(fw.Label())
	}
	lanes, n := labelLanes(xs, ws)
	c.Top = 24 + laneH*float64(n)
	c.Bottom = c.Top + c.PH
	c.H = c.Bottom + axisBottom + 4
	for i, fw := range tl.Faults {
		x0, x1 := x(fw.Start), x(fw.Until(tl.End))
		c.Faults = append(c.Faults, svgFault{Class: faultClass(i), Label: fw.Label(), Title: faultTitle(fw),
			X: r1(x0), W: r1(max(x1-x0, 1.5)), LabelY: r1(24 + laneH*float64(lanes[i]) + 11)})
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

// labelWidth is about how wide a label of 11px text is, with room after it.
func labelWidth(s string) float64 { return 6.2*float64(len([]rune(s))) + 8 }

// labelLanes puts labels that start at xs and are ws wide in lanes, so many stay
// readable: each in the first lane where it does not overlap that lane's previous
// label. It returns each label's lane and how many lanes there are.
func labelLanes(xs, ws []float64) ([]int, int) {
	var laneEnd []float64
	lanes := make([]int, len(xs))
	for i, x0 := range xs {
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
		laneEnd[lane] = x0 + ws[i]
		lanes[i] = lane
	}
	return lanes, len(laneEnd)
}

// faultTitle is a fault window's tooltip: its label, when it lasted, its parameters.
func faultTitle(fw FaultWindow) string {
	title := fw.Label() + " " + secs(fw.Start) + " – " + untilText(fw)
	if pl := paramList(fw.Params); pl != "" {
		title += " (" + pl + ")"
	}
	return title
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
