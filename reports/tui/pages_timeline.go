package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

type timelinePage struct{ run *openRun }

func (p *timelinePage) crumb() string { return "timeline" }

func (p *timelinePage) body(e *Explorer, w, h int) []string {
	s := e.st
	r := p.run
	switch {
	case !r.ready:
		return []string{s.dim.Render("indexing history.jsonl…")}
	case r.tl == nil || len(r.tl.Buckets) == 0:
		return []string{s.dim.Render("no operations recorded")}
	}
	tl := r.tl
	const labelW = 14
	cols := max(w-labelW-1, 10)
	bs := tl.Resample(cols)
	span := time.Duration(int64(len(tl.Buckets)) * int64(tl.Bucket))
	okv, errv, p99 := make([]float64, cols), make([]float64, cols), make([]float64, cols)
	for c := range cols {
		b := bs[c*len(bs)/cols]
		okv[c], errv[c] = b.Rate(b.Completed()), b.Rate(b.Errors())
		p99[c] = math.NaN()
		if b.Completed() > 0 {
			p99[c] = float64(b.P99) / 1e6
		}
	}
	perCol := span / time.Duration(cols)
	out := []string{s.dim.Render(fmt.Sprintf("%s of run · 1 column ≈ %s · %d invoked · %d ok · %d fail · %d info · p50 %s · p99 %s",
		dur(span), dur(perCol), tl.Totals.Invoked, tl.Totals.Ok, tl.Totals.Fail, tl.Totals.Info, dur(tl.Totals.P50), dur(tl.Totals.P99))), ""}
	plot := func(name string, top string, vals []float64, rows int, render func(...string) string) {
		for i, row := range barRows(vals, rows, 0) {
			label := ""
			switch i {
			case 0:
				label = name
			case 1:
				label = s.dim.Render(top)
			}
			out = append(out, fit(label, labelW)+" "+render(row))
		}
	}
	plot("ops/s", "max "+rate(maxOf(okv, 0)), okv, 4, s.ok.Render)
	plot("errors/s", "max "+rate(maxOf(errv, 0)), errv, 3, s.fail.Render)
	plot("p99 latency", "max "+dur(time.Duration(maxOf(p99, 0)*1e6)), p99, 3, s.accent.Render)

	// The time axis, with a label about every 12 columns.
	axis := []rune(strings.Repeat("─", cols))
	labels := []rune(strings.Repeat(" ", cols+8))
	step := max(cols/6, 8)
	for c := 0; c < cols; c += step {
		axis[c] = '┬'
		for i, ch := range dur(time.Duration(c) * perCol) {
			if c+i < len(labels) {
				labels[c+i] = ch
			}
		}
	}
	out = append(out, fit("", labelW)+" "+s.dim.Render(string(axis)), fit("", labelW)+" "+s.dim.Render(strings.TrimRight(string(labels), " ")))

	if len(r.faults) > 0 {
		out = append(out, s.bold.Render("faults"))
		for _, fw := range r.faults {
			cells := []rune(strings.Repeat("·", cols))
			for c := range cols {
				t0, t1 := int64(time.Duration(c)*perCol), int64(time.Duration(c+1)*perCol)
				if fw.Start < t1 && fw.Until(tl.End) >= t0 {
					cells[c] = '█'
				}
			}
			out = append(out, fit(fw.Label(), labelW)+" "+s.active.Render(string(cells)))
		}
	}
	return out
}

func (p *timelinePage) key(*Explorer, tea.KeyMsg) tea.Cmd { return nil }
