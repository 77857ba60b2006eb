package tui

import (
	"math"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/runner"
)

// Update applies one message. Only the timer, keys and resizes redraw; everything else
// only updates counters, so a burst of messages costs a few assignments each.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tickMsg:
		m.now = m.opts.Now()
		m.frame++
		m.redraw()
		if m.done != nil || m.closed {
			return m, nil
		}
		return m, m.tick()
	case tea.WindowSizeMsg:
		m.width = max(msg.Width, 40)
		m.redraw()
	case tea.KeyMsg:
		switch msg.String() {
		case "ctrl+c":
			if m.stopping {
				m.forced = true
				return m, tea.Quit
			}
			return m.stop()
		case "q":
			if !m.stopping {
				return m.stop()
			}
		}
	case PlanMsg:
		m = m.withPlan(msg)
	case PhaseMsg:
		m.phase(msg)
	case NodeMsg:
		m.node(msg)
	case OpsMsg:
		m.opsUpdate(msg)
	case FaultMsg:
		m.fault(msg)
	case VerdictMsg:
		m.verdict(msg.Result)
	case DoneMsg:
		m.finish(msg)
		m.now = m.opts.Now()
		m.redraw()
		return m, tea.Quit
	case eventsClosedMsg:
		m.closed = true
		m.redraw()
		return m, tea.Quit
	}
	return m, nil
}

func (m Model) stop() (tea.Model, tea.Cmd) {
	m.stopping = true
	m.redraw()
	if m.opts.Stop == nil {
		return m, nil
	}
	stop := m.opts.Stop
	return m, func() tea.Msg { stop(); return nil }
}

func (m *Model) phase(p PhaseMsg) {
	m.lastAt = max(m.lastAt, p.At)
	idx := -1
	for i, ph := range phaseOrder {
		if ph.name == p.Phase {
			idx = i
		}
	}
	if idx < 0 {
		// The runner's faults events come as FaultMsg; other phases have no line.
		return
	}
	for i := range idx {
		if m.phases[i].state == running {
			m.phases[i].state, m.phases[i].end = done, p.At
		}
	}
	ph := &m.phases[idx]
	if ph.state == pending {
		ph.state, ph.start = running, p.At
	}
	if p.Msg != "" {
		ph.msg = p.Msg
	}
	switch {
	case p.Err != "":
		ph.state, ph.end, ph.msg = failed, p.At, p.Err
	case p.Done:
		ph.state, ph.end = done, p.At
	}
	if idx > m.current {
		m.current = idx
	}
}

func (m *Model) node(n NodeMsg) {
	m.lastAt = max(m.lastAt, n.At)
	i, ok := m.nodeIdx[n.Node]
	if !ok {
		i = len(m.nodes)
		m.nodeIdx[n.Node] = i
		m.nodes = append(m.nodes, nodeLine{name: n.Node})
	}
	m.nodes[i].state, m.nodes[i].at, m.nodes[i].busy, m.nodes[i].err = n.State, n.At, n.Busy, n.Err
}

func (m *Model) opsUpdate(o OpsMsg) {
	prev := m.ops
	m.ops, m.haveOps = o, true
	done := (o.Ok + o.Fail + o.Info) - (prev.Ok + prev.Fail + prev.Info)
	errs := (o.Fail + o.Info) - (prev.Fail + prev.Info)
	er := 0.0
	if done > 0 {
		er = float64(errs) / float64(done) * 100
	}
	m.opsRate.push(o.OpsPerSec)
	m.errRate.push(er)
	m.p50.push(lat(o.P50))
	m.p99.push(lat(o.P99))
}

func lat(d time.Duration) float64 {
	if d <= 0 {
		return math.NaN()
	}
	return float64(d) / 1e6
}

// workOffset is when the workload started on the dashboard's clock: the origin of
// fault times.
func (m Model) workOffset() (time.Duration, bool) {
	for i, ph := range phaseOrder {
		if ph.name == runner.PhaseWorkload && m.phases[i].state != pending {
			return m.phases[i].start, true
		}
	}
	return 0, false
}

// plannedRow is the planned fault at position n of the timeline when it is of f's
// kind and target, else -1. The plan's rows come first, in timeline order.
func (m *Model) plannedRow(f FaultMsg) int {
	if f.N < 0 || f.N >= len(m.plan.Faults) || f.N >= len(m.faults) {
		return -1
	}
	if r := m.faults[f.N]; !r.planned || r.fault != f.Fault || r.target != f.Target {
		return -1
	}
	return f.N
}

func (m *Model) fault(f FaultMsg) {
	off, _ := m.workOffset()
	m.lastAt = max(m.lastAt, off+f.At)
	n := m.plannedRow(f)
	switch f.Phase {
	case history.Start:
		if n >= 0 && !m.faults[n].started {
			r := &m.faults[n]
			r.started, r.start, r.err = true, f.At, f.Err
			return
		}
		for i := range m.faults {
			r := &m.faults[i]
			if r.fault == f.Fault && r.target == f.Target && !r.started {
				r.started, r.start, r.err = true, f.At, f.Err
				return
			}
		}
		m.faults = append(m.faults, faultRow{fault: f.Fault, target: f.Target, started: true, start: f.At, err: f.Err})
	case history.Stop:
		if n >= 0 && m.faults[n].started && !m.faults[n].stopped {
			r := &m.faults[n]
			r.stopped, r.stop = true, f.At
			if f.Err != "" {
				r.err = "heal: " + f.Err
			}
			return
		}
		for i := range m.faults {
			r := &m.faults[i]
			if r.fault == f.Fault && r.target == f.Target && r.started && !r.stopped {
				r.stopped, r.stop = true, f.At
				if f.Err != "" {
					r.err = "heal: " + f.Err
				}
				return
			}
		}
	}
}

func (m *Model) verdict(r invariants.Result) {
	for i := range m.invs {
		if m.invs[i].name == r.Name && m.invs[i].res == nil {
			m.invs[i].res = &r
			return
		}
	}
	m.invs = append(m.invs, invLine{name: r.Name, res: &r})
}

func (m *Model) finish(d DoneMsg) {
	m.done = &d
	for i := range m.phases {
		if m.phases[i].state == running {
			m.phases[i].state, m.phases[i].end = done, m.elapsed()
		}
	}
	if d.Run != nil {
		// The run's judgement of its planned faults marks their rows (a fault never
		// applied or never healed has no record to show).
		for _, ff := range d.Run.FaultFailures {
			if ff.Index >= 0 && ff.Index < len(m.plan.Faults) && ff.Index < len(m.faults) {
				if r := &m.faults[ff.Index]; r.planned && r.fault == ff.Fault && r.target == ff.Target {
					r.failed = ff.What()
				}
			}
		}
	}
	if d.Run != nil && len(d.Run.Results) > 0 {
		// The run's results are the final word, whatever VerdictMsg arrived or not.
		m.invs = nil
		for _, r := range d.Run.Results {
			m.invs = append(m.invs, invLine{name: r.Name, res: &r})
		}
	}
}
