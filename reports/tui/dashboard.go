package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// The phases of a run, in order, as the runner names them (runner.Event.Phase), with
// "images" before them for the docker testbed's image builds.
const (
	PhaseImages   = "images"
	PhaseTestbed  = "testbed"
	PhaseWorkload = "workload"
	PhaseHeal     = "heal"
	PhaseConverge = "converge"
	PhaseCheck    = "check"
	PhaseDown     = "down"
)

var phaseOrder = []struct{ name, label string }{
	{PhaseImages, "images"},
	{PhaseTestbed, "starting nodes"},
	{PhaseWorkload, "workload"},
	{PhaseHeal, "healing"},
	{PhaseConverge, "converging"},
	{PhaseCheck, "checking"},
	{PhaseDown, "stopping testbed"},
}

// PlanMsg tells the dashboard what the run will do, so it can show the planned faults
// on the timeline and the invariants still to check. Send it first (or put it in
// DashboardOptions.Plan).
type PlanMsg struct {
	Scenario string
	Seed     int64
	Testbed  string
	// Duration is the workload's duration: the fault timeline's scale.
	Duration   time.Duration
	Faults     []PlannedFault
	Invariants []string
}

// PlannedFault is one fault of the plan's timeline.
type PlannedFault struct {
	Fault, Target string
	At, For       time.Duration // For 0: a one-shot fault (a kill)
}

// PhaseMsg reports progress of a phase. A message for a later phase ends the earlier
// ones; Done ends this one; Err marks it failed. Msg is the latest thing it did. A
// phase the dashboard does not know is ignored: the runner's "faults" events are
// shown from FaultMsg.
type PhaseMsg struct {
	Phase string
	Msg   string
	At    time.Duration // since the run started
	Done  bool
	Err   string
}

// NodeMsg reports a node of the testbed (broker, bank/0, postgres…): one line each,
// under "starting nodes". Busy shows a spinner (starting, restarting, stopping).
type NodeMsg struct {
	Node  string
	State string
	At    time.Duration
	Busy  bool
	Err   string
}

// OpsMsg is the workload's progress. Ok, Fail and Info are totals so far (as
// workload.Progress has them), so a lost or coalesced message costs nothing; the
// error rate is computed between successive messages. OpsPerSec, P50 and P99 are over
// the sender's last interval; zero latencies mean unknown.
type OpsMsg struct {
	Ok, Fail, Info int64
	InFlight       int64
	OpsPerSec      float64
	P50, P99       time.Duration
}

// FaultMsg reports a fault record as the scheduler writes it.
type FaultMsg struct {
	Phase  history.Phase // history.Start or history.Stop
	Fault  string
	Target string
	// N is the fault's position in the plan's timeline (the record's n): it picks the
	// planned row when two faults of one kind on one target overlap. A position that
	// does not name a planned fault of this kind and target is ignored.
	N int
	// At is on the workload's clock, as the record's t and the plan's fault times are:
	// since the workload phase started.
	At  time.Duration
	Err string
}

// FaultOf translates a fault record.
func FaultOf(f history.Fault) FaultMsg {
	return FaultMsg{Phase: f.Phase, Fault: f.Fault, Target: f.Target, N: f.N, At: time.Duration(f.Time), Err: f.Error}
}

// VerdictMsg reports one invariant's verdict, as the checkers finish.
type VerdictMsg struct {
	Result invariants.Result
}

// DoneMsg ends the run: the dashboard draws its final frame and returns. Err is the
// run's error, if it could not complete. The final frame shows the run's fault
// failures (reports.Run.FaultFailures) at the top and the verdict's reason.
type DoneMsg struct {
	Run *reports.Run
	Err error
}

// ErrForceQuit is returned by RunDashboard when ctrl+c was pressed again while the run
// was stopping: the caller should exit at once, as a second ^C does everywhere in
// mscli.
var ErrForceQuit = errors.New("interrupted twice")

// DefaultTick is the redraw interval: the terminal writes a frame at its next flush
// (120 per second), so frames are at most DefaultTick+8ms apart, inside the 100ms a
// live view must keep.
const DefaultTick = 80 * time.Millisecond

// MinTick is the shortest redraw interval: the dashboard redraws on a timer, never per
// message, so its cost does not grow with the rate of operations.
const MinTick = 50 * time.Millisecond

// DashboardOptions configure a dashboard.
type DashboardOptions struct {
	Plan PlanMsg
	// Stop is called (once, from its own goroutine) when the user presses q or ctrl+c:
	// the caller then stops the run cleanly and keeps sending messages until DoneMsg.
	Stop func()
	// Tick is the redraw interval (DefaultTick if zero, MinTick if smaller).
	Tick time.Duration
	// Renderer makes the styles; nil is lipgloss's default renderer.
	Renderer *lipgloss.Renderer
	// Now is the clock (time.Now if nil); tests fix it.
	Now func() time.Time
	// Width is the width to draw until the terminal reports its size (default 100).
	Width int
}

// samples is how many OpsMsg the sparklines remember: at the workload's default of
// one per second, two minutes.
const samples = 120

type phaseState int

const (
	pending phaseState = iota
	running
	done
	failed
)

type phaseLine struct {
	state      phaseState
	msg        string
	start, end time.Duration
}

type nodeLine struct {
	name, state, err string
	at               time.Duration
	busy             bool
}

type faultRow struct {
	fault, target      string
	planned            bool
	plannedAt, planFor time.Duration
	started, stopped   bool
	start, stop        time.Duration
	err                string
	// failed is the run's judgement of this planned fault when it did not apply or
	// heal (reports.FaultFailure.What), set by DoneMsg.
	failed string
}

type invLine struct {
	name string
	res  *invariants.Result
}

// ring is a fixed window of samples, oldest first when read.
type ring struct {
	v    [samples]float64
	n, i int
}

func (r *ring) push(x float64) {
	r.v[r.i] = x
	r.i = (r.i + 1) % samples
	r.n = min(r.n+1, samples)
}

func (r *ring) values() []float64 {
	out := make([]float64, r.n)
	for k := range r.n {
		out[k] = r.v[(r.i-r.n+k+samples)%samples]
	}
	return out
}

func (r *ring) last() float64 {
	if r.n == 0 {
		return 0
	}
	return r.v[(r.i-1+samples)%samples]
}

// Model is the live run dashboard. Build it with NewDashboard.
type Model struct {
	opts   DashboardOptions
	st     styles
	width  int
	begun  time.Time
	now    time.Time
	frames []string
	frame  int

	plan      PlanMsg
	phases    []phaseLine
	current   int // index in phaseOrder of the running phase, -1 before any
	lastAt    time.Duration
	nodes     []nodeLine
	nodeIdx   map[string]int
	faults    []faultRow
	invs      []invLine
	ops       OpsMsg
	haveOps   bool
	opsRate   ring
	errRate   ring
	p50, p99  ring
	done      *DoneMsg
	stopping  bool
	forced    bool
	closed    bool
	rendered  string
	renderCnt int
}

type tickMsg time.Time

// eventsClosedMsg ends the dashboard when its event channel closes without a DoneMsg.
type eventsClosedMsg struct{}

// NewDashboard returns a dashboard for one run.
func NewDashboard(opts DashboardOptions) Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Tick == 0 {
		opts.Tick = DefaultTick
	}
	opts.Tick = max(opts.Tick, MinTick)
	if opts.Width <= 0 {
		opts.Width = 100
	}
	m := Model{
		opts: opts, st: newStyles(opts.Renderer), width: opts.Width,
		frames: spinner.MiniDot.Frames, current: -1, nodeIdx: map[string]int{},
		phases: make([]phaseLine, len(phaseOrder)),
	}
	m.begun = opts.Now()
	m.now = m.begun
	m = m.withPlan(opts.Plan)
	return m
}

func (m Model) withPlan(p PlanMsg) Model {
	m.plan = p
	m.faults = m.faults[:0:0]
	for _, f := range p.Faults {
		m.faults = append(m.faults, faultRow{fault: f.Fault, target: f.Target, planned: true, plannedAt: f.At, planFor: f.For})
	}
	known := map[string]bool{}
	for _, l := range m.invs {
		known[l.name] = true
	}
	for _, name := range p.Invariants {
		if !known[name] {
			m.invs = append(m.invs, invLine{name: name})
		}
	}
	return m
}

// Init starts the redraw timer.
func (m Model) Init() tea.Cmd { return m.tick() }

func (m Model) tick() tea.Cmd {
	return tea.Tick(m.opts.Tick, func(t time.Time) tea.Msg { return tickMsg(t) })
}

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
		// The runner's "faults" events come as FaultMsg; other phases have no line.
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
		if ph.name == PhaseWorkload && m.phases[i].state != pending {
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

// elapsed is the run clock: the timer's, but never behind what messages reported.
func (m Model) elapsed() time.Duration {
	return max(m.now.Sub(m.begun), m.lastAt)
}

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

// Stopping reports whether the user asked the run to stop.
func (m Model) Stopping() bool { return m.stopping }

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
		if ph.name == PhaseImages && pl.state == pending {
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
		if ph.name == PhaseTestbed {
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

// RunDashboard draws a dashboard on stderr until a DoneMsg arrives, events closes or
// ctx is done. It reads the terminal's keys: q or ctrl+c calls stop (once), and the
// caller keeps sending events while it stops the run; a second ctrl+c returns
// ErrForceQuit at once. The first message may be a PlanMsg. Use it only when stderr is
// a terminal; otherwise print progress lines.
func RunDashboard(ctx context.Context, events <-chan any, stop func()) error {
	return runDashboard(ctx, events, stop, os.Stderr, lipgloss.NewRenderer(os.Stderr))
}

// runDashboard is RunDashboard on any output; a nil input reads no keys (tests).
func runDashboard(ctx context.Context, events <-chan any, stop func(), out io.Writer, r *lipgloss.Renderer, extra ...tea.ProgramOption) error {
	m := NewDashboard(DashboardOptions{Stop: stop, Renderer: r})
	opts := append([]tea.ProgramOption{tea.WithOutput(out), tea.WithoutSignalHandler(), tea.WithFPS(120)}, extra...)
	p := tea.NewProgram(m, opts...)
	finished := make(chan struct{})
	go func() {
		// Forward events while the program runs, then drain them: the sender must never
		// block on a dashboard that is gone (ctrl+c twice, or messages after DoneMsg).
		for {
			select {
			case <-ctx.Done():
				p.Send(eventsClosedMsg{})
				return
			case msg, ok := <-events:
				if !ok {
					p.Send(eventsClosedMsg{})
					return
				}
				select {
				case <-finished:
				default:
					p.Send(msg)
				}
			}
		}
	}()
	final, err := p.Run()
	close(finished)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	if fm, ok := final.(Model); ok && fm.forced {
		return ErrForceQuit
	}
	return nil
}

// IsTerminal reports whether w is a terminal the dashboard can draw on.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(f.Fd())
}
