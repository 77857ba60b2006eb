package tui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
)

// View returns the last drawn frame. The final one ends with a newline: the program
// erases the line the cursor is on when it exits, and that must not be the verdict.
func (m Model) View() string {
	v := m.rendered
	if v == "" {
		v = m.render()
	}
	if m.done != nil || m.closed {
		v += "\n"
	}
	return v
}

func (m *Model) redraw() {
	m.rendered = m.render()
	m.renderCnt++
}

func (m Model) spin() string { return m.frames[m.frame%len(m.frames)] }

func (m Model) render() string {
	s := m.st
	w := m.width
	var b strings.Builder
	line := func(str string) {
		b.WriteString(strings.TrimRight(clip(str, w), " "))
		b.WriteByte('\n')
	}

	head := "mscli run"
	if m.plan.Scenario != "" {
		head += " " + m.plan.Scenario
	}
	meta := []string{}
	if m.plan.Seed != 0 || m.plan.Scenario != "" {
		meta = append(meta, fmt.Sprintf("seed %d", m.plan.Seed))
	}
	if m.plan.Testbed != "" {
		meta = append(meta, m.plan.Testbed+" testbed")
	}
	left := s.title.Render(head)
	if len(meta) > 0 {
		left += s.dim.Render(" · " + strings.Join(meta, " · "))
	}
	clock := dur(m.elapsed())
	line(fit(left, w-len(clock)-1) + " " + clock)
	b.WriteByte('\n')
	if m.done != nil && m.done.Run != nil && len(m.done.Run.FaultFailures) > 0 {
		// First on the final screen: a run without its chaos is no pass.
		m.renderFaultFailures(&b, w)
		b.WriteByte('\n')
	}

	labelW := 17
	for i, ph := range phaseOrder {
		pl := m.phases[i]
		if ph.name == runner.PhaseImages && pl.state == pending {
			continue // the local testbed builds no image
		}
		var mark string
		var t string
		switch pl.state {
		case pending:
			mark = s.dim.Render("·")
		case running:
			mark = s.accent.Render(m.spin())
			t = dur(max(m.elapsed()-pl.start, 0))
		case done:
			mark = s.ok.Render("✓")
			t = dur(pl.end - pl.start)
		case failed:
			mark = s.fail.Render("✗")
			t = dur(pl.end - pl.start)
		}
		label := fit(ph.label, labelW)
		if pl.state == pending {
			label = s.dim.Render(label)
		}
		msg := pl.msg
		if pl.state == failed {
			msg = s.fail.Render(msg)
		}
		msgW := min(w-labelW-12, 56)
		line(" " + mark + " " + label + fit(msg, msgW) + " " + fmt.Sprintf("%7s", t))
		if ph.name == runner.PhaseTestbed {
			for _, n := range m.nodes {
				nm := s.ok.Render("✓")
				switch {
				case n.err != "":
					nm = s.fail.Render("✗")
				case n.busy:
					nm = s.accent.Render(m.spin())
				case n.state != "ready" && n.state != "running":
					nm = s.info.Render("•")
				}
				state := n.state
				if n.err != "" {
					state += ": " + n.err
				}
				line("     " + nm + " " + fit(n.name, 14) + fit(state, msgW) + fmt.Sprintf("%7s", dur(n.at)))
			}
		}
	}

	if m.haveOps || m.current >= 2 {
		b.WriteByte('\n')
		sw := max(w-64, 10)
		o := m.ops
		line(" " + fit("ops/s", 9) + s.ok.Render(sparkline(m.opsRate.values(), sw, 0)) + " " +
			fmt.Sprintf("%6s/s", rate(o.OpsPerSec)) + s.dim.Render(fmt.Sprintf("  ok %d · fail %d · info %d · in flight %d", o.Ok, o.Fail, o.Info, o.InFlight)))
		errStyle := s.dim
		if m.errRate.last() > 0 {
			errStyle = s.fail
		}
		errs := m.errRate.values()
		line(" " + fit("errors", 9) + errStyle.Render(sparkline(errs, sw, maxOf(errs, 1))) + " " + fmt.Sprintf("%7s%%", rate(m.errRate.last())) +
			s.dim.Render("  fail + info of completions"))
		p50, p99 := "—", "—"
		if o.P50 > 0 {
			p50 = dur(o.P50)
		}
		if o.P99 > 0 {
			p99 = dur(o.P99)
		}
		line(" " + fit("p99", 9) + s.accent.Render(sparkline(m.p99.values(), sw, 0)) + " " + fmt.Sprintf("%8s", p99) +
			s.dim.Render("  p50 ") + p50)
	}

	if len(m.faults) > 0 {
		b.WriteByte('\n')
		m.renderFaults(&b, w)
	}

	if len(m.invs) > 0 {
		b.WriteByte('\n')
		line(" " + s.bold.Render("invariants"))
		nameW := 12
		for _, l := range m.invs {
			nameW = max(nameW, len(l.name)+2)
		}
		checking := m.phases[5].state == running
		for _, l := range m.invs {
			if l.res == nil {
				mark, note := s.dim.Render("·"), s.dim.Render("pending")
				if checking && m.done == nil {
					mark, note, checking = s.accent.Render(m.spin()), "checking…", false
				}
				line("   " + mark + " " + fit(l.name, nameW) + note)
				continue
			}
			r := l.res
			vs := s.verdict(r.Verdict)
			line("   " + vs.Render(verdictSymbol(r.Verdict)) + " " + fit(l.name, nameW) + vs.Render(fit(strings.ToUpper(string(r.Verdict)), 8)) + r.Summary)
		}
	}

	b.WriteByte('\n')
	switch {
	case m.done != nil:
		m.renderDone(&b, w)
	case m.closed:
		line(" " + s.dim.Render("the run's events ended"))
	case m.stopping:
		line(" " + s.info.Render(m.spin()+" stopping… (the testbed is brought down cleanly; ctrl+c again to quit at once)"))
	default:
		line(" " + s.dim.Render("q stop the run · ctrl+c twice quit at once"))
	}
	return strings.TrimRight(b.String(), "\n")
}

// renderFaults draws the fault timeline: one row per fault over the run's duration,
// planned windows light, actual windows solid, active ones highlighted, and a marker
// at the current time.
func (m Model) renderFaults(b *strings.Builder, w int) {
	s := m.st
	off, working := m.workOffset()
	now := max(m.elapsed()-off, 0)
	span := m.plan.Duration
	for _, r := range m.faults {
		span = max(span, r.plannedAt+r.planFor, r.start, r.stop)
	}
	if m.current <= 2 {
		span = max(span, now)
	}
	if span <= 0 {
		span = time.Second
	}
	labelW := 0
	for _, r := range m.faults {
		labelW = max(labelW, len(r.fault)+len(r.target)+1)
	}
	labelW = min(max(labelW, 12), 30) + 1
	barW := max(w-labelW-26, 10)
	col := func(t time.Duration) int {
		return min(int(float64(t)/float64(span)*float64(barW)), barW-1)
	}
	nowCol := col(now)
	axis := []rune(strings.Repeat("─", barW))
	if m.done == nil && working && now <= span {
		axis[nowCol] = '▼'
	}
	b.WriteString(clip(" "+fit(s.bold.Render("faults"), labelW+2)+s.dim.Render(string(axis))+s.dim.Render(" 0s…"+dur(span)), w) + "\n")
	const maxRows = 8
	for i, r := range m.faults {
		if i == maxRows {
			b.WriteString(s.dim.Render(fmt.Sprintf("   … %d more faults", len(m.faults)-i)) + "\n")
			break
		}
		active := r.started && !r.stopped && m.done == nil
		cells := make([]rune, barW)
		for c := range cells {
			cells[c] = '·'
		}
		if r.planned {
			end := r.plannedAt + r.planFor
			for c := col(r.plannedAt); c <= col(end); c++ {
				cells[c] = '░'
			}
		}
		if r.started {
			end := r.stop
			if !r.stopped {
				end = now
			}
			for c := col(r.start); c <= col(max(end, r.start)); c++ {
				cells[c] = '█'
			}
		}
		state := s.dim.Render("planned " + dur(r.plannedAt))
		bar := s.dim.Render(string(cells))
		switch {
		case r.err != "":
			state = s.fail.Render("error: " + r.err)
			bar = s.fail.Render(string(cells))
		case r.failed != "":
			state = s.fail.Render(r.failed)
			bar = s.fail.Render(string(cells))
		case active:
			state = s.active.Render("▶ active " + dur(now-r.start))
			bar = s.active.Render(string(cells))
		case r.stopped:
			state = s.dim.Render(dur(r.start) + "–" + dur(r.stop))
			bar = s.accent.Render(string(cells))
		case r.started:
			state = s.dim.Render("from " + dur(r.start))
			bar = s.accent.Render(string(cells))
		}
		label := fit(r.fault+" "+r.target, labelW)
		if active {
			label = s.active.Render(label)
		}
		b.WriteString(clip("   "+label+bar+" "+state, w) + "\n")
	}
}

// faultFailuresShown is how many failed faults the final screen lists.
const faultFailuresShown = 6

// renderFaultFailures draws the run's failed planned faults: a headline saying what
// they mean for the verdict, then one line each.
func (m Model) renderFaultFailures(b *strings.Builder, w int) {
	s := m.st
	r := m.done.Run
	head := "! " + reports.FaultsHeadline(r.FaultFailures, r.Faults.Planned) + ": " + reports.FaultsConsequence(r)
	b.WriteString(clip(" "+s.unknown.Render(head), w) + "\n")
	for i, f := range r.FaultFailures {
		if i == faultFailuresShown {
			b.WriteString(clip("   "+s.dim.Render(fmt.Sprintf("… %d more in result.json", len(r.FaultFailures)-i)), w) + "\n")
			break
		}
		b.WriteString(clip("   "+s.fail.Render("✗")+" "+f.Line(), w) + "\n")
	}
}

func (m Model) renderDone(b *strings.Builder, w int) {
	s := m.st
	d := m.done
	if d.Run == nil {
		msg := "run ended"
		if d.Err != nil {
			msg = "run failed: " + d.Err.Error()
		}
		b.WriteString(clip(" "+s.fail.Render(msg), w))
		return
	}
	if len(d.Run.Results) == 0 {
		// Stopped (q, ^C) or failed before the checkers ran: there is no verdict.
		msg := "no verdict: the run ended before its invariants were checked"
		if errors.Is(d.Err, context.Canceled) {
			msg = "stopped: the run was interrupted before its invariants were checked"
		}
		if d.Run.Dir != "" {
			msg += s.dim.Render(" · run dir " + d.Run.Dir)
		}
		b.WriteString(clip(" "+s.unknown.Render(msg), w))
		if d.Err != nil && !errors.Is(d.Err, context.Canceled) {
			b.WriteString("\n" + clip(" "+s.fail.Render("error: "+d.Err.Error()), w))
		}
		return
	}
	v := reports.RunVerdict(d.Run)
	out := " " + s.verdict(v).Render("verdict: "+strings.ToUpper(string(v)))
	counts := fmt.Sprintf("%d invoked · %d ok · %d fail · %d info · run dir %s", d.Run.Ops.Invoked, d.Run.Ops.Ok, d.Run.Ops.Fail, d.Run.Ops.Info, d.Run.Dir)
	if why := reports.VerdictReason(d.Run); why != "" {
		// The reason gets the verdict's line; the counts go below it.
		out += s.verdict(v).Render(" — " + why)
		b.WriteString(clip(out, w) + "\n" + clip(" "+s.dim.Render(counts), w))
	} else {
		b.WriteString(clip(out+s.dim.Render(" · "+counts), w))
	}
	if d.Err != nil {
		b.WriteString("\n" + clip(" "+s.fail.Render("error: "+d.Err.Error()), w))
	}
}

// maxOf is the largest value that is not NaN, at least floor.
func maxOf(vs []float64, floor float64) float64 {
	top := floor
	for _, v := range vs {
		if !math.IsNaN(v) {
			top = max(top, v)
		}
	}
	return top
}
