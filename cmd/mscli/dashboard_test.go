package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports/tui"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
)

func TestNodeOfReadsTheTestbedLines(t *testing.T) {
	for _, c := range []struct {
		line, node, state string
		ok                bool
	}{
		{"starting bank/0 on 127.0.0.1:36673", "bank/0", "starting", true},
		{"bank/1 ready (pid 28917) in 26ms", "bank/1", "ready", true},
		{"broker ready (pid 28900) in 52ms", "broker", "ready", true},
		{"bank/0: wiped and restored from \"snap\"", "bank/0", "wiped and restored from \"snap\"", true},
		{"starting local testbed in .mscli/runs/x", "", "", false},
		{"ready after 135ms", "", "", false},
		{"bank: database postgres is SQLite on the local testbed", "", "", false},
	} {
		n, ok := nodeOf(c.line, time.Second)
		if ok != c.ok || n.Node != c.node || n.State != c.state {
			t.Errorf("%q: got %+v %v, want %s %q %v", c.line, n, ok, c.node, c.state, c.ok)
		}
	}
}

// TestDashboardFeedTranslatesTheRun feeds the runner's events and hooks as a run
// would and checks what the dashboard is sent.
func TestDashboardFeedTranslatesTheRun(t *testing.T) {
	s, err := scenarios.Find("bank-idempotency")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	d := newDashboardFeed(pl, "local")
	next := func() any {
		t.Helper()
		select {
		case m := <-d.events:
			return m
		default:
			t.Fatal("nothing was sent")
			return nil
		}
	}
	pm, ok := next().(tui.PlanMsg)
	if !ok || pm.Scenario != "bank-idempotency" || len(pm.Faults) != len(pl.Faults) || len(pm.Invariants) != len(pl.Invariants) || pm.Testbed != "local" {
		t.Fatalf("first message: %+v", pm)
	}
	d.progress(runner.Event{At: 10 * time.Millisecond, Phase: "testbed", Msg: "starting bank/0 on 127.0.0.1:1"})
	if n, ok := next().(tui.NodeMsg); !ok || n.Node != "bank/0" || !n.Busy {
		t.Errorf("a node line is a NodeMsg: %+v", n)
	}
	d.progress(runner.Event{At: time.Second, Phase: "workload", Msg: "8 clients"})
	if p, ok := next().(tui.PhaseMsg); !ok || p.Phase != tui.PhaseWorkload || !d.working.Load() {
		t.Errorf("workload: %+v", p)
	}
	d.progress(runner.Event{At: 3 * time.Second, Phase: "faults", Msg: "start kill bank/0"})
	d.fault(history.Fault{Time: int64(2 * time.Second), Phase: history.Start, Fault: "kill", Target: "bank/0"})
	if f, ok := next().(tui.FaultMsg); !ok || f.At != 2*time.Second || f.Fault != "kill" {
		t.Errorf("a fault record is a FaultMsg on the workload clock, the faults event is dropped: %+v", f)
	}
	if n, ok := next().(tui.NodeMsg); !ok || n.Node != "bank/0" || n.State != "killed" || n.At != 3*time.Second {
		t.Errorf("a kill marks its node at run time 1s+2s: %+v", n)
	}
	d.counter.Add(history.Op{Process: 1, Type: history.Invoke, Time: 1})
	d.counter.Add(history.Op{Process: 1, Type: history.Ok, Time: 5})
	d.progress(runner.Event{At: 21 * time.Second, Phase: "heal", Msg: "healed"})
	if o, ok := next().(tui.OpsMsg); !ok || o.Ok != 1 || d.working.Load() {
		t.Errorf("the heal sends the last numbers and stops them: %+v", o)
	}
	next()
	d.result(invariants.Result{Name: "durable", Verdict: invariants.Fail})
	if v, ok := next().(tui.VerdictMsg); !ok || v.Result.Name != "durable" {
		t.Errorf("a result is a VerdictMsg: %+v", v)
	}
	d.progress(runner.Event{At: 22 * time.Second, Phase: "down", Msg: "stopping the testbed"})
	next()
	d.progress(runner.Event{At: 23 * time.Second, Phase: "testbed", Msg: "testbed down"})
	if p, ok := next().(tui.PhaseMsg); !ok || p.Phase != tui.PhaseDown {
		t.Errorf("the testbed's last line belongs to the down phase: %+v", p)
	}
}

func TestProgressIsPlainLinesWithoutATerminal(t *testing.T) {
	if tui.IsTerminal(&bytes.Buffer{}) {
		t.Fatal("a buffer is no terminal")
	}
}
