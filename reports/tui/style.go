// Package tui is mscli's terminal interface, built on bubbletea: the live dashboard a
// run draws on stderr while it runs, and the explorer (mscli explore) that browses
// recorded runs down to the history lines around a violation.
//
// Both are plain bubbletea models, driven by messages: the dashboard's model never
// reads the runner (a Feed translates the run's typed events into PhaseMsg, NodeMsg,
// OpsMsg, FaultMsg, VerdictMsg and DoneMsg; RunLive runs a plan under the dashboard),
// and the explorer only reads run directories. So their Update and View are tested by
// feeding them messages and comparing screens.
//
// Styles are made from a lipgloss renderer bound to the output the program draws on,
// not lipgloss's default (stdout): `mscli run … --format json | jq` pipes stdout, and
// the dashboard on stderr must still have its colours.
package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/mscli/mscli/invariants"
)

type styles struct {
	title, dim, bold, ok, fail, info, unknown, accent, active, selected, key lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	return styles{
		title:    r.NewStyle().Bold(true),
		dim:      r.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "244", Dark: "243"}),
		bold:     r.NewStyle().Bold(true),
		ok:       r.NewStyle().Foreground(lipgloss.Color("2")),
		fail:     r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		info:     r.NewStyle().Foreground(lipgloss.Color("3")),
		unknown:  r.NewStyle().Foreground(lipgloss.Color("3")).Bold(true),
		accent:   r.NewStyle().Foreground(lipgloss.Color("6")),
		active:   r.NewStyle().Foreground(lipgloss.Color("5")).Bold(true),
		selected: r.NewStyle().Reverse(true),
		key:      r.NewStyle().Foreground(lipgloss.Color("6")).Bold(true),
	}
}

func (s styles) verdict(v invariants.Verdict) lipgloss.Style {
	return invariants.ByVerdict(v, s.ok, s.fail, s.unknown)
}

// verdictSymbol marks a verdict so that it reads without colour too.
func verdictSymbol(v invariants.Verdict) string { return invariants.ByVerdict(v, "✓", "✗", "?") }

var blocks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last width values on one line, scaled to top (the largest
// value when top ≤ 0). A NaN is a gap.
func sparkline(values []float64, width int, top float64) string {
	if width <= 0 {
		return ""
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	if top <= 0 {
		for _, v := range values {
			if !math.IsNaN(v) {
				top = max(top, v)
			}
		}
	}
	var b strings.Builder
	b.Grow(width * 3)
	for range width - len(values) {
		b.WriteByte(' ')
	}
	for _, v := range values {
		switch {
		case math.IsNaN(v):
			b.WriteByte(' ')
		case top <= 0 || v <= 0:
			b.WriteRune(blocks[0])
		default:
			i := int(math.Ceil(v/top*float64(len(blocks)))) - 1
			b.WriteRune(blocks[min(max(i, 0), len(blocks)-1)])
		}
	}
	return b.String()
}

// barRows draws values as a bar chart rows tall, in eighths of a cell: more
// resolution than a sparkline where the screen has room. Rows are top first.
func barRows(values []float64, rows int, top float64) []string {
	if top <= 0 {
		for _, v := range values {
			if !math.IsNaN(v) {
				top = max(top, v)
			}
		}
	}
	out := make([]string, rows)
	for r := range rows {
		level := rows - 1 - r // 0 is the bottom row
		var b strings.Builder
		for _, v := range values {
			eighths := 0
			if !math.IsNaN(v) && v > 0 && top > 0 {
				eighths = max(1, int(math.Round(v/top*float64(rows*8))))
			}
			switch fill := eighths - level*8; {
			case fill >= 8:
				b.WriteRune('█')
			case fill <= 0:
				b.WriteByte(' ')
			default:
				b.WriteRune(blocks[fill-1])
			}
		}
		out[r] = b.String()
	}
	return out
}

// fit pads or truncates s (which may hold styles) to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-n)
}

// clip truncates s to at most w cells.
func clip(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > w {
		return ansi.Truncate(s, w, "…")
	}
	return s
}

// dur prints a duration short and stable: 850ms, 12.3s, 2m05s.
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
}

// rate prints a per-second rate with sensible precision.
func rate(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// secs prints a record time (ns since the run's start) as seconds.
func secs(ns int64) string { return fmt.Sprintf("%.3fs", float64(ns)/1e9) }
