package tui

import (
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/mscli/mscli/invariants"
)

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

// elapsed is the run clock: the timer's, but never behind what messages reported.
func (m Model) elapsed() time.Duration {
	return max(m.now.Sub(m.begun), m.lastAt)
}

// Stopping reports whether the user asked the run to stop.
func (m Model) Stopping() bool { return m.stopping }
