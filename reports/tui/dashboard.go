package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
)

// phaseOrder are the lines of the run's phases, in order: the runner's phases but
// runner.PhaseFaults, whose events are the fault timeline's.
var phaseOrder = []struct {
	name  runner.Phase
	label string
}{
	{runner.PhaseImages, "images"},
	{runner.PhaseTestbed, "starting nodes"},
	{runner.PhaseWorkload, "workload"},
	{runner.PhaseHeal, "healing"},
	{runner.PhaseConverge, "converging"},
	{runner.PhaseCheck, "checking"},
	{runner.PhaseDown, "stopping testbed"},
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
// phase the dashboard does not know is ignored: the runner's faults events are shown
// from FaultMsg.
type PhaseMsg struct {
	Phase runner.Phase
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
