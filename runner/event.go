package runner

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/testbed"
)

// Phase is a step of a run. A run goes through them in the order of Phases; faults are
// applied and healed while the workload runs.
type Phase string

// The phases of a run.
const (
	PhaseImages   Phase = "images"   // the testbed finds (or names how to build) its images
	PhaseTestbed  Phase = "testbed"  // the testbed starts its nodes; its node events
	PhaseWorkload Phase = "workload" // the workload runs
	PhaseFaults   Phase = "faults"   // a fault applied or healed, with Event.Fault
	PhaseHeal     Phase = "heal"     // the workload stopped and every fault is healed
	PhaseConverge Phase = "converge" // waiting for the read models
	PhaseCheck    Phase = "check"    // the invariants are checked
	PhaseDown     Phase = "down"     // the testbed is brought down
)

// Phases are the phases in the order a run goes through them.
var Phases = []Phase{PhaseImages, PhaseTestbed, PhaseWorkload, PhaseFaults, PhaseHeal, PhaseConverge, PhaseCheck, PhaseDown}

// Event is a step of a run, for whoever shows its progress (the progress lines, the
// dashboard). Every event has its phase and a line for people in Msg; what an event
// is about is in its typed fields, so nobody reads Msg to find it.
type Event struct {
	At    time.Duration // since the run started
	Phase Phase
	Msg   string
	// Node, for a testbed event about one node, names it, and State is the node's
	// state after the step; Err says what went wrong (State testbed.NodeFailed).
	Node  string
	State testbed.NodeState
	Err   string
	// Fault, in PhaseFaults, is the record of a fault applied (Phase history.Start) or
	// healed (history.Stop), its Error set when that failed. Its time is on the
	// workload's clock, not At's.
	Fault *history.Fault
}

func (o *Options) progress(start time.Time, phase Phase, format string, args ...any) {
	if o.Progress != nil {
		o.Progress(Event{At: time.Since(start), Phase: phase, Msg: fmt.Sprintf(format, args...)})
	}
}

// testbedProgress forwards the testbed's events as the run's: image steps in
// PhaseImages, the rest in PhaseTestbed until down says the testbed is being brought
// down, then in PhaseDown.
func (o *Options) testbedProgress(start time.Time, down *atomic.Bool) func(testbed.Event) {
	return func(e testbed.Event) {
		if o.Progress == nil {
			return
		}
		phase := PhaseTestbed
		switch {
		case e.Images:
			phase = PhaseImages
		case down.Load():
			phase = PhaseDown
		}
		o.Progress(Event{At: time.Since(start), Phase: phase, Msg: e.Msg, Node: e.Node, State: e.State, Err: e.Err})
	}
}

// faultEvent is the event of a fault record.
func faultEvent(at time.Duration, f history.Fault) Event {
	msg := fmt.Sprintf("%s %s %s", f.Phase, f.Fault, f.Target)
	if f.Error != "" {
		msg += ": " + f.Error
	}
	return Event{At: at, Phase: PhaseFaults, Msg: msg, Fault: &f}
}

// ProgressLines prints each event as a timestamped line: the plain progress, for CI
// logs and pipes.
func ProgressLines(w io.Writer) func(Event) {
	var mu sync.Mutex // events come from the runner, the scheduler and the testbed
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%s %7.2fs %-9s %s\n", time.Now().Format("15:04:05"), e.At.Seconds(), e.Phase, e.Msg)
	}
}
