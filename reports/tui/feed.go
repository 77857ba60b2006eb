package tui

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/timing"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/testbed"
)

// OpsEvery is how often the dashboard gets the workload's numbers while it runs: a
// sparkline sample each.
const OpsEvery = 500 * time.Millisecond

// RunLive runs a plan under the live dashboard, drawn on stderr (use it only when
// IsTerminal(os.Stderr)). q (or ctrl+c) cancels the run's context: the runner then
// heals the faults and brings the testbed down while the dashboard keeps showing it.
// ctrl+c again calls forceQuit (nil: the run goes on stopping), which should exit at
// once, as a second ^C does everywhere in mscli. A dashboard that fails is handed to
// warn (may be nil); the run goes on without it. o's Progress, OnOp and OnResult are
// the dashboard's.
func RunLive(ctx context.Context, pl *plan.Plan, o runner.Options, forceQuit func(), warn func(error)) (*reports.Run, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := NewFeed(pl, o.TestbedName)
	f.Hook(&o)

	shown := make(chan error, 1)
	go func() {
		err := RunDashboard(context.Background(), f.Events(), cancel)
		if errors.Is(err, ErrForceQuit) && forceQuit != nil {
			forceQuit()
		}
		shown <- err
	}()
	stopOps := f.SendOps(OpsEvery)
	res, err := runner.Run(ctx, pl, o)
	stopOps()
	f.Done(res, err)
	if derr := <-shown; derr != nil && !errors.Is(derr, ErrForceQuit) && warn != nil {
		warn(derr)
	}
	return res, err
}

// Feed translates a run's events (runner.Event) and hooks into dashboard messages,
// from their typed fields only: a node event is that node's NodeMsg, a fault record a
// FaultMsg (and a NodeMsg for a fault on a node), a phase a PhaseMsg. Its methods may
// be called from several goroutines; Events is read by RunDashboard.
type Feed struct {
	events  chan any
	counter OpCounter
	working atomic.Bool // the workload is running: send its numbers
	mu      sync.Mutex
	atWork  time.Duration // when the workload started, on the run clock
}

// NewFeed returns a feed whose first message is the plan's PlanMsg.
func NewFeed(pl *plan.Plan, testbed string) *Feed {
	f := &Feed{events: make(chan any, 256)}
	f.events <- planOf(pl, testbed)
	return f
}

// planOf is the dashboard's view of a plan.
func planOf(pl *plan.Plan, testbed string) PlanMsg {
	m := PlanMsg{Scenario: pl.Scenario, Seed: pl.Seed, Testbed: testbed, Duration: pl.Duration.D()}
	for _, f := range pl.Faults {
		m.Faults = append(m.Faults, PlannedFault{Fault: f.Kind, Target: f.Target, At: f.At.D(), For: f.For.D()})
	}
	for _, inv := range pl.Invariants {
		m.Invariants = append(m.Invariants, inv.Name)
	}
	return m
}

// Events are the dashboard's messages; Done closes it.
func (f *Feed) Events() <-chan any { return f.events }

// Hook makes the feed the run's progress and live views.
func (f *Feed) Hook(o *runner.Options) {
	o.Progress, o.OnOp, o.OnResult = f.Event, f.counter.Add, f.Result
}

// Event translates one of the run's events.
func (f *Feed) Event(e runner.Event) {
	switch {
	case e.Fault != nil:
		f.fault(*e.Fault)
		return
	case e.Phase == runner.PhaseFaults:
		return // a fault is shown from its record
	case e.Node != "" && e.State != "":
		f.events <- NodeMsg{Node: e.Node, State: string(e.State), Busy: e.State.Busy(), At: e.At, Err: e.Err}
		return
	case e.Phase == runner.PhaseWorkload:
		f.mu.Lock()
		f.atWork = e.At
		f.mu.Unlock()
		f.working.Store(true)
	case e.Phase == runner.PhaseHeal:
		f.working.Store(false)
		f.events <- f.counter.Snapshot()
	}
	f.events <- PhaseMsg{Phase: e.Phase, Msg: e.Msg, At: e.At}
}

// nodeFaults are the faults whose target is a node, with the state they leave it in
// when they start and when they stop.
var nodeFaults = map[string][2]string{
	"kill":    {"killed", "restarted"},
	"pause":   {"paused", "resumed"},
	"restart": {"restarting", "restarted"},
	"wipe":    {string(testbed.NodeWiped), string(testbed.NodeRestored)},
}

func (f *Feed) fault(r history.Fault) {
	f.events <- FaultOf(r)
	states, ok := nodeFaults[r.Fault]
	if !ok {
		return
	}
	f.mu.Lock()
	at := f.atWork + time.Duration(r.Time)
	f.mu.Unlock()
	n := NodeMsg{Node: r.Target, State: states[0], At: at, Err: r.Error}
	if r.Phase == history.Stop {
		n.State = states[1]
	}
	f.events <- n
}

// Result translates a verdict.
func (f *Feed) Result(r invariants.Result) { f.events <- VerdictMsg{Result: r} }

// SendOps sends the workload's numbers every interval while it runs, until stop.
func (f *Feed) SendOps(every time.Duration) (stop func()) {
	return timing.Every(every, func(time.Time) {
		if f.working.Load() {
			f.events <- f.counter.Snapshot()
		}
	})
}

// Done sends the run's end and closes Events.
func (f *Feed) Done(res *reports.Run, err error) {
	f.events <- DoneMsg{Run: res, Err: err}
	close(f.events)
}
