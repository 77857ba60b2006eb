package tui

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// contextLines is how many history records the explorer shows either side of an
// operation's lines.
const contextLines = 10

// contextPage shows the history records around a witness's operation (or a search
// hit), decoded from the index on first draw, with the faults active meanwhile.
type contextPage struct {
	run    *openRun
	name   string
	wit    *invariants.Witness // nil for a search hit
	record int                 // the search hit, when wit is nil
	lines  []string
	built  bool
	scroll int
}

func (p *contextPage) crumb() string { return p.name }

func (p *contextPage) build(e *Explorer) {
	s := e.st
	r := p.run
	var out []string
	var targets []int
	var missing []string
	if p.wit != nil {
		out = append(out, s.bold.Render(p.wit.Note))
		var about []string
		if p.wit.ID != "" {
			about = append(about, "op "+p.wit.ID)
		}
		if p.wit.Key != "" {
			about = append(about, "key "+p.wit.Key)
		}
		if p.wit.View != "" {
			about = append(about, "view "+p.wit.View)
		}
		out = append(out, s.dim.Render(strings.Join(about, " · ")))
		if sagas := reports.SagasOf(p.wit); len(sagas) > 0 {
			out = append(out, s.accent.Render("saga "+strings.Join(sagas, ", ")+" · s: its steps across the services in time order, with the faults meanwhile"))
		}
		out = append(out, "")
		for _, op := range p.wit.Ops {
			if r.hist == nil {
				continue
			}
			if k, ok := r.hist.record(op.Index); ok {
				targets = append(targets, k)
			} else {
				missing = append(missing, fmt.Sprintf("i=%d", op.Index))
			}
		}
	} else {
		targets = []int{p.record}
	}
	sort.Ints(targets)

	var from, to int64 = math.MaxInt64, math.MinInt64
	span := func(t int64) { from, to = min(from, t), max(to, t) }
	if p.wit != nil {
		for _, op := range p.wit.Ops {
			span(op.Time)
		}
	}
	head := out
	out = nil
	switch {
	case r.histErr != nil:
		out = append(out, s.fail.Render("history unavailable: "+r.histErr.Error()))
	case len(targets) == 0 && p.wit != nil && len(p.wit.Ops) == 0:
		out = append(out, s.dim.Render("this witness names no history record (an id only the system knows)"))
	case len(targets) == 0:
		out = append(out, s.fail.Render("the witness's records are not in history.jsonl: "+strings.Join(missing, ", ")))
	default:
		// ±contextLines around each target, merged where they touch.
		type rng struct{ a, b int }
		var rs []rng
		for _, t := range targets {
			a, b := max(t-contextLines, 0), min(t+contextLines+1, r.hist.records())
			if n := len(rs); n > 0 && a <= rs[n-1].b {
				rs[n-1].b = max(rs[n-1].b, b)
				continue
			}
			rs = append(rs, rng{a, b})
		}
		isTarget := map[int]bool{}
		for _, t := range targets {
			isTarget[t] = true
		}
		out = append(out, s.bold.Render(fmt.Sprintf("history.jsonl, ±%d records around the operation", contextLines)))
		for i, x := range rs {
			if i > 0 {
				out = append(out, s.dim.Render("       ⋮"))
			}
			ops, err := r.hist.read(x.a, x.b)
			if err != nil {
				out = append(out, s.fail.Render(err.Error()))
				break
			}
			for j, op := range ops {
				k := x.a + j
				text := fmt.Sprintf("#%-7d %s", k, opText(op))
				if isTarget[k] {
					out = append(out, s.active.Render("▶ "+text))
					if p.wit == nil {
						span(op.Time)
					}
				} else {
					out = append(out, "  "+text)
				}
			}
		}
		if len(missing) > 0 {
			out = append(out, s.fail.Render("not in history.jsonl: "+strings.Join(missing, ", ")))
		}
	}

	hl := out
	out = head
	if from <= to {
		out = append(out, s.bold.Render(fmt.Sprintf("faults active between %s and %s", secs(from), secs(to))))
		var active []reports.FaultWindow
		if len(r.faults) > 0 {
			active = reports.ActiveFaults(r.faults, from, to)
		} else if p.wit != nil {
			// No faults.jsonl: the witness still says which were active.
			for _, f := range p.wit.Faults {
				active = append(active, reports.FaultWindow{Fault: f.Fault, Target: f.Target, Params: f.Params, Start: f.Time, Stop: -1})
			}
		}
		if len(active) == 0 {
			out = append(out, s.dim.Render("  none"))
		}
		for _, fw := range active {
			out = append(out, "  "+faultText(fw))
		}
		out = append(out, "")
	}
	if p.wit != nil && len(p.wit.Effects) > 0 {
		out = append(out, s.bold.Render("effects"))
		for _, ef := range p.wit.Effects {
			out = append(out, "  "+reports.EffectLine(ef))
		}
		out = append(out, "")
	}
	out = append(out, hl...)
	p.lines = out
	p.built = true
}

func (p *contextPage) body(e *Explorer, w, h int) []string {
	if !p.run.ready {
		return []string{e.st.dim.Render("indexing history.jsonl…")}
	}
	if !p.built {
		p.build(e)
	}
	p.scroll = min(max(p.scroll, 0), max(len(p.lines)-h, 0))
	return p.lines[p.scroll:min(p.scroll+h, len(p.lines))]
}

func (p *contextPage) key(e *Explorer, k tea.KeyMsg) tea.Cmd {
	scrollKey(&p.scroll, len(p.lines), k, e.height-3)
	return nil
}

// scrollKey moves a page of n lines, h of them on screen, by a key; the page clamps
// the scroll when it draws.
func scrollKey(scroll *int, n int, k tea.KeyMsg, h int) {
	switch {
	case key.Matches(k, keys.Up):
		*scroll--
	case key.Matches(k, keys.Down):
		*scroll++
	case key.Matches(k, keys.PageUp):
		*scroll -= h
	case key.Matches(k, keys.PageDown):
		*scroll += h
	case key.Matches(k, keys.Home):
		*scroll = 0
	case key.Matches(k, keys.End):
		*scroll = n
	}
}
