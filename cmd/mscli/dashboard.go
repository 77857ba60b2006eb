package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/reports/tui"
	"github.com/mscli/mscli/runner"
)

// runWithProgress runs a plan with its progress on stderr: the live dashboard when
// stderr is a terminal and --no-tui was not given, otherwise timestamped lines (CI
// logs, pipes).
func runWithProgress(ctx context.Context, stderr io.Writer, noTUI bool, pl *plan.Plan, o runner.Options) (*reports.Run, error) {
	if noTUI || !tui.IsTerminal(stderr) {
		o.Progress = progressLines(stderr)
		return runner.Run(ctx, pl, o)
	}
	return runDashboard(ctx, stderr, pl, o)
}

// opsEvery is how often the dashboard gets the workload's numbers: a sparkline
// sample each.
const opsEvery = 500 * time.Millisecond

// runDashboard runs the plan under the live dashboard. q (or ctrl+c) cancels the
// run's context: the runner then heals the faults and brings the testbed down while
// the dashboard keeps showing it; ctrl+c again exits at once, as a second ^C does.
func runDashboard(ctx context.Context, stderr io.Writer, pl *plan.Plan, o runner.Options) (*reports.Run, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d := newDashboardFeed(pl, o.TestbedName)
	o.Progress, o.OnOp, o.OnFault, o.OnResult = d.progress, d.counter.Add, d.fault, d.result

	shown := make(chan error, 1)
	go func() {
		err := tui.RunDashboard(context.Background(), d.events, cancel)
		if errors.Is(err, tui.ErrForceQuit) {
			fmt.Fprintln(stderr, "mscli: interrupted again, exiting without cleanup")
			os.Exit(int(runner.ExitInterrupted))
		}
		shown <- err
	}()
	stopOps := d.sendOps()
	res, err := runner.Run(ctx, pl, o)
	stopOps()
	d.events <- tui.DoneMsg{Run: res, Err: err}
	close(d.events)
	if derr := <-shown; derr != nil {
		fmt.Fprintf(stderr, "mscli: %v\n", derr)
	}
	return res, err
}

// dashboardFeed translates the runner's events and hooks into dashboard messages.
type dashboardFeed struct {
	events  chan any
	counter tui.OpCounter
	working atomic.Bool // the workload is running: send its numbers
	down    atomic.Bool // the testbed is being brought down
	mu      sync.Mutex
	began   time.Time
	atWork  time.Duration // when the workload started, on the run clock
}

func newDashboardFeed(pl *plan.Plan, testbed string) *dashboardFeed {
	d := &dashboardFeed{events: make(chan any, 256), began: time.Now()}
	d.events <- planMsg(pl, testbed)
	return d
}

func planMsg(pl *plan.Plan, testbed string) tui.PlanMsg {
	m := tui.PlanMsg{Scenario: pl.Scenario, Seed: pl.Seed, Testbed: testbed, Duration: pl.Duration.D()}
	for _, f := range pl.Faults {
		m.Faults = append(m.Faults, tui.PlannedFault{Fault: f.Kind, Target: f.Target, At: f.At.D(), For: f.For.D()})
	}
	for _, inv := range pl.Invariants {
		m.Invariants = append(m.Invariants, inv.Name)
	}
	return m
}

// The testbed's progress lines that are about one node.
var (
	nodeStarting = regexp.MustCompile(`^starting (\S+) on \S+$`)
	nodeReady    = regexp.MustCompile(`^(\S+) ready\b`)
	nodeData     = regexp.MustCompile(`^(\S+/\d+): (wiped.*|snapshot.*)$`)
)

// nodeOf reads a testbed progress line as a node's state, if it is one.
func nodeOf(msg string, at time.Duration) (tui.NodeMsg, bool) {
	if m := nodeStarting.FindStringSubmatch(msg); m != nil {
		return tui.NodeMsg{Node: m[1], State: "starting", Busy: true, At: at}, true
	}
	if m := nodeReady.FindStringSubmatch(msg); m != nil {
		return tui.NodeMsg{Node: m[1], State: "ready", At: at}, true
	}
	if m := nodeData.FindStringSubmatch(msg); m != nil {
		return tui.NodeMsg{Node: m[1], State: m[2], At: at}, true
	}
	return tui.NodeMsg{}, false
}

func (d *dashboardFeed) progress(e runner.Event) {
	switch e.Phase {
	case "faults":
		return // shown from OnFault, with the record's times
	case tui.PhaseDown:
		d.down.Store(true)
	case tui.PhaseTestbed:
		if n, ok := nodeOf(e.Msg, e.At); ok {
			d.events <- n
			return
		}
		if d.down.Load() { // "testbed down": the end of the last phase
			e.Phase = tui.PhaseDown
		}
	case tui.PhaseWorkload:
		d.mu.Lock()
		d.atWork = e.At
		d.mu.Unlock()
		d.working.Store(true)
	case tui.PhaseHeal:
		d.working.Store(false)
		d.events <- d.counter.Snapshot()
	}
	d.events <- tui.PhaseMsg{Phase: e.Phase, Msg: e.Msg, At: e.At}
}

// nodeFaults are the faults whose target is a node, with the state they leave it in
// when they start and when they stop.
var nodeFaults = map[string][2]string{
	"kill":    {"killed", "restarted"},
	"pause":   {"paused", "resumed"},
	"restart": {"restarting", "restarted"},
	"wipe":    {"wiped", "restored"},
}

func (d *dashboardFeed) fault(f history.Fault) {
	d.events <- tui.FaultOf(f)
	states, ok := nodeFaults[f.Fault]
	if !ok {
		return
	}
	d.mu.Lock()
	at := d.atWork + time.Duration(f.Time)
	d.mu.Unlock()
	n := tui.NodeMsg{Node: f.Target, State: states[0], At: at, Err: f.Error}
	if f.Phase == history.Stop {
		n.State = states[1]
	}
	d.events <- n
}

func (d *dashboardFeed) result(r invariants.Result) { d.events <- tui.VerdictMsg{Result: r} }

// sendOps sends the workload's numbers every opsEvery while it runs.
func (d *dashboardFeed) sendOps() (stop func()) {
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(opsEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				if d.working.Load() {
					d.events <- d.counter.Snapshot()
				}
			}
		}
	}()
	return func() { close(quit); <-finished }
}
