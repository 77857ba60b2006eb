package tui

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
	"github.com/mscli/mscli/testbed"
)

func feedPlan(t *testing.T) *plan.Plan {
	t.Helper()
	s, err := scenarios.Find("bank-idempotency")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

// next is the feed's next message; the test fails if none was sent.
func next(t *testing.T, f *Feed) any {
	t.Helper()
	select {
	case m := <-f.events:
		return m
	default:
		t.Fatal("nothing was sent")
		return nil
	}
}

// TestFeedTranslatesTheRun feeds the runner's events and hooks as a run would and
// checks what the dashboard is sent.
func TestFeedTranslatesTheRun(t *testing.T) {
	pl := feedPlan(t)
	f := NewFeed(pl, "local")
	pm, ok := next(t, f).(PlanMsg)
	if !ok || pm.Scenario != "bank-idempotency" || len(pm.Faults) != len(pl.Faults) || len(pm.Invariants) != len(pl.Invariants) || pm.Testbed != "local" {
		t.Fatalf("first message: %+v", pm)
	}
	f.Event(runner.Event{At: 10 * time.Millisecond, Phase: runner.PhaseTestbed, Msg: "starting bank/0 on 127.0.0.1:1", Node: "bank/0", State: testbed.NodeStarting})
	if n, ok := next(t, f).(NodeMsg); !ok || n.Node != "bank/0" || n.State != "starting" || !n.Busy {
		t.Errorf("a node event is a NodeMsg: %+v", n)
	}
	// Text that reads like a node's is a phase line: only the typed fields make a node.
	f.Event(runner.Event{At: 20 * time.Millisecond, Phase: runner.PhaseTestbed, Msg: "bank/1 ready (pid 28917) in 26ms"})
	if p, ok := next(t, f).(PhaseMsg); !ok || p.Phase != runner.PhaseTestbed || p.Msg != "bank/1 ready (pid 28917) in 26ms" {
		t.Errorf("a plain testbed event is a PhaseMsg: %+v", p)
	}
	f.Event(runner.Event{At: time.Second, Phase: runner.PhaseWorkload, Msg: "8 clients"})
	if p, ok := next(t, f).(PhaseMsg); !ok || p.Phase != runner.PhaseWorkload || !f.working.Load() {
		t.Errorf("workload: %+v", p)
	}
	rec := history.Fault{Time: int64(2 * time.Second), Phase: history.Start, Fault: "kill", Target: "bank/0"}
	f.Event(runner.Event{At: 3 * time.Second, Phase: runner.PhaseFaults, Msg: "start kill bank/0", Fault: &rec})
	if m, ok := next(t, f).(FaultMsg); !ok || m.At != 2*time.Second || m.Fault != "kill" {
		t.Errorf("a fault event is a FaultMsg on the workload clock: %+v", m)
	}
	if n, ok := next(t, f).(NodeMsg); !ok || n.Node != "bank/0" || n.State != "killed" || n.At != 3*time.Second {
		t.Errorf("a kill marks its node at run time 1s+2s: %+v", n)
	}
	f.Event(runner.Event{At: 3 * time.Second, Phase: runner.PhaseFaults, Msg: "start kill bank/0"})
	f.counter.Add(history.Op{Process: 1, Type: history.Invoke, Time: 1})
	f.counter.Add(history.Op{Process: 1, Type: history.Ok, Time: 5})
	f.Event(runner.Event{At: 21 * time.Second, Phase: runner.PhaseHeal, Msg: "healed"})
	if o, ok := next(t, f).(OpsMsg); !ok || o.Ok != 1 || f.working.Load() {
		t.Errorf("a faults event without its record sends nothing; the heal sends the last numbers and stops them: %+v", o)
	}
	if p, ok := next(t, f).(PhaseMsg); !ok || p.Phase != runner.PhaseHeal {
		t.Errorf("heal: %+v", p)
	}
	f.Result(invariants.Result{Name: "durable", Verdict: invariants.Fail})
	if v, ok := next(t, f).(VerdictMsg); !ok || v.Result.Name != "durable" {
		t.Errorf("a result is a VerdictMsg: %+v", v)
	}
	f.Event(runner.Event{At: 22 * time.Second, Phase: runner.PhaseDown, Msg: "stopping the testbed"})
	f.Event(runner.Event{At: 23 * time.Second, Phase: runner.PhaseDown, Msg: "testbed down"})
	next(t, f)
	if p, ok := next(t, f).(PhaseMsg); !ok || p.Phase != runner.PhaseDown || p.Msg != "testbed down" {
		t.Errorf("the testbed's last event is the down phase's: %+v", p)
	}
	f.Done(nil, nil)
	if d, ok := next(t, f).(DoneMsg); !ok || d.Run != nil {
		t.Errorf("done: %+v", d)
	}
	if _, open := <-f.events; open {
		t.Error("Done closes the events")
	}
}

// TestTestbedNodeEventReachesTheDashboard runs the runner with a testbed that reports
// a node by its typed fields, with a line that says nothing about it, and one plain
// step that reads like a node's line: the dashboard shows the first node and its state,
// and not the second.
func TestTestbedNodeEventReachesTheDashboard(t *testing.T) {
	pl := feedPlan(t)
	f := NewFeed(pl, "local")
	o := runner.Options{Dir: t.TempDir(), TestbedName: "local",
		Testbed: func(_ context.Context, _ *plan.Plan, tb testbed.Options) (runner.System, error) {
			tb.Node("bank/0", testbed.NodeReady, "something unrelated")
			tb.Progressf("bank/1 ready (pid 28917) in 26ms")
			return nil, errors.New("no system in this test")
		}}
	f.Hook(&o)
	res, err := runner.Run(context.Background(), pl, o)
	if err == nil {
		t.Fatal("the run went on without a system")
	}
	f.Done(res, err)

	var m tea.Model = NewDashboard(DashboardOptions{Renderer: plain(), Width: 100})
	for msg := range f.events {
		m = feed(m, msg)
	}
	dm := m.(Model)
	if len(dm.nodes) != 1 || dm.nodes[0].name != "bank/0" || dm.nodes[0].state != string(testbed.NodeReady) {
		t.Fatalf("nodes: %+v, want bank/0 ready alone", dm.nodes)
	}
	// The node's line under "starting nodes"; the plain step is only the phase's line.
	screen := m.View()
	if !regexp.MustCompile(`(?m)^ +✓ bank/0 +ready +\S+$`).MatchString(screen) || regexp.MustCompile(`(?m)^ +\S bank/1 `).MatchString(screen) {
		t.Errorf("screen:\n%s", screen)
	}
}

func TestProgressIsPlainLinesWithoutATerminal(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) {
		t.Fatal("a buffer is no terminal")
	}
}
