package tui

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current screens")

// plain is a renderer without colour, so golden screens are text.
func plain() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return r
}

// testdata is the golden files' folder, absolute: some tests change directory.
var testdata = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(wd, "testdata")
}()

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(testdata, name)
	got = strings.TrimRight(got, "\n") + "\n"
	if *update {
		if err := os.MkdirAll(testdata, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("screen differs from %s (run with -update if intended):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// clock is a settable fake time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) set(d time.Duration) { c.t = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(d) }
func newClock() *clock               { c := &clock{}; c.set(0); return c }
func feed(m tea.Model, msgs ...tea.Msg) tea.Model {
	for _, msg := range msgs {
		m, _ = m.Update(msg)
	}
	return m
}

func testPlan() PlanMsg {
	return PlanMsg{Scenario: "bank-idempotency", Seed: 7, Testbed: "local", Duration: 20 * time.Second,
		Faults: []PlannedFault{
			{Fault: "latency", Target: "client->bank", At: 3 * time.Second, For: 4 * time.Second},
			{Fault: "kill", Target: "bank/0", At: 5 * time.Second},
			{Fault: "partition", Target: "bank->broker", At: 9 * time.Second, For: 3 * time.Second},
		},
		Invariants: []string{"idempotent", "durable", "conservation", "ordered"}}
}

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func TestDashboardScreens(t *testing.T) {
	c := newClock()
	var stops atomic.Int32
	var m tea.Model = NewDashboard(DashboardOptions{Plan: testPlan(), Renderer: plain(), Now: c.now, Width: 100,
		Stop: func() { stops.Add(1) }})
	m = feed(m,
		PhaseMsg{Phase: runner.PhaseTestbed, Msg: "starting local testbed in .mscli/runs/x", At: 0},
		NodeMsg{Node: "broker", State: "starting", Busy: true, At: sec(0.1)},
		NodeMsg{Node: "broker", State: "ready", At: sec(0.4)},
		NodeMsg{Node: "bank/0", State: "ready", At: sec(0.9)},
		NodeMsg{Node: "bank/1", State: "starting", Busy: true, At: sec(0.5)},
	)
	c.set(sec(1))
	m = feed(m, tickMsg{})
	golden(t, "dashboard-starting.golden", m.View())

	m = feed(m,
		NodeMsg{Node: "bank/1", State: "ready", At: sec(1.2)},
		PhaseMsg{Phase: runner.PhaseTestbed, Msg: "ready after 1.2s", At: sec(1.2), Done: true},
		PhaseMsg{Phase: runner.PhaseWorkload, Msg: "8 clients at 200 ops/s for 20s against bank", At: sec(1.2)},
	)
	var ok, fail, info int64
	for i := range 8 {
		rate := 200.0
		if i >= 3 {
			rate = 120 // the latency fault
		}
		ok += int64(rate) - int64(i%3)
		fail += int64(i % 3)
		if i >= 5 {
			info += 4
		}
		p99 := 20 * time.Millisecond
		if i >= 3 {
			p99 = 270 * time.Millisecond
		}
		m = feed(m, OpsMsg{Ok: ok, Fail: fail, Info: info, InFlight: 8, OpsPerSec: rate, P50: 12 * time.Millisecond, P99: p99})
	}
	m = feed(m,
		FaultMsg{Phase: history.Start, Fault: "latency", Target: "client->bank", At: sec(3)},
		PhaseMsg{Phase: runner.PhaseFaults, Msg: "start latency client->bank", At: sec(3)},
		FaultMsg{Phase: history.Start, Fault: "kill", Target: "bank/0", At: sec(5)},
		NodeMsg{Node: "bank/0", State: "killed", At: sec(6.2)},
		FaultMsg{Phase: history.Stop, Fault: "kill", Target: "bank/0", At: sec(6)},
		NodeMsg{Node: "bank/0", State: "restarting", Busy: true, At: sec(7.2)},
	)
	c.set(sec(7.7)) // the workload clock (fault times) is 1.2s behind the run clock
	m = feed(m, tickMsg{}, tickMsg{})
	golden(t, "dashboard-workload.golden", m.View())

	m = feed(m,
		FaultMsg{Phase: history.Stop, Fault: "latency", Target: "client->bank", At: sec(7)},
		NodeMsg{Node: "bank/0", State: "ready", At: sec(7.6)},
		FaultMsg{Phase: history.Start, Fault: "partition", Target: "bank->broker", At: sec(9)},
		FaultMsg{Phase: history.Stop, Fault: "partition", Target: "bank->broker", At: sec(12), Err: "proxy gone"},
		PhaseMsg{Phase: runner.PhaseHeal, Msg: "workload stopped; every fault healed", At: sec(21.2), Done: true},
		PhaseMsg{Phase: runner.PhaseConverge, Msg: "read models agree", At: sec(21.2)},
		PhaseMsg{Phase: runner.PhaseCheck, Msg: "checking 4 invariants", At: sec(22.0)},
		VerdictMsg{Result: invariants.Result{Name: "idempotent", Verdict: invariants.Pass, Summary: "3120 operations checked"}},
		VerdictMsg{Result: invariants.Result{Name: "durable", Verdict: invariants.Fail, Summary: "2 of 3120 operations violate it"}},
	)
	c.set(sec(22.3))
	m = feed(m, tickMsg{})
	golden(t, "dashboard-checking.golden", m.View())

	run := &reports.Run{Scenario: "bank-idempotency", Seed: 7, Dir: ".mscli/runs/x", Verdict: invariants.Fail,
		Ops:    reports.OpCounts{Counts: history.Counts{Invoked: 3130, Ok: 3050, Fail: 30, Info: 40}},
		Faults: reports.FaultCounts{Planned: 3, Applied: 3, Healed: 2, Errors: 1},
		FaultFailures: []reports.FaultFailure{{Index: 2, Fault: "partition", Target: "bank->broker", At: sec(9),
			Phase: reports.PhaseHeal, Error: "proxy gone"}},
		Results: []invariants.Result{
			{Name: "idempotent", Verdict: invariants.Pass, Summary: "3120 operations checked"},
			{Name: "durable", Verdict: invariants.Fail, Summary: "2 of 3120 operations violate it"},
			{Name: "conservation", Verdict: invariants.Pass, Summary: "20 keys checked"},
			{Name: "ordered", Verdict: invariants.Unknown, Summary: "ran out of time"},
		}}
	c.set(sec(23))
	m, cmd := m.Update(DoneMsg{Run: run})
	if cmd == nil || cmd() != tea.Quit() {
		t.Error("DoneMsg must quit the program")
	}
	golden(t, "dashboard-done.golden", m.View())
	if stops.Load() != 0 {
		t.Error("stop called without a key")
	}
}

func TestDashboardStopAndForceQuit(t *testing.T) {
	var stops atomic.Int32
	var m tea.Model = NewDashboard(DashboardOptions{Renderer: plain(), Now: newClock().now, Stop: func() { stops.Add(1) }})
	m, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	if cmd == nil {
		t.Fatal("q returned no command to call stop")
	}
	if cmd(); stops.Load() != 1 {
		t.Fatalf("stop called %d times", stops.Load())
	}
	if !strings.Contains(m.View(), "stopping…") || !m.(Model).Stopping() {
		t.Errorf("after q the dashboard must say it is stopping:\n%s", m.View())
	}
	m, cmd = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	if cmd != nil {
		t.Error("a second q must not stop again")
	}
	m, cmd = m.Update(tea.KeyMsg{Type: tea.KeyCtrlC})
	if cmd == nil || cmd() != tea.Quit() || !m.(Model).forced {
		t.Error("ctrl+c while stopping must quit at once")
	}
	if stops.Load() != 1 {
		t.Errorf("stop called %d times", stops.Load())
	}
}

// TestDashboardRedrawsOnlyOnTick: a flood of messages between two ticks must not
// render a frame each.
func TestDashboardRedrawsOnlyOnTick(t *testing.T) {
	var m tea.Model = NewDashboard(DashboardOptions{Plan: testPlan(), Renderer: plain(), Now: newClock().now})
	m = feed(m, tickMsg{})
	before := m.(Model).renderCnt
	for i := range 5000 {
		m = feed(m, OpsMsg{Ok: int64(i), OpsPerSec: 5000})
	}
	if n := m.(Model).renderCnt; n != before {
		t.Fatalf("%d redraws for 5000 OpsMsg", n-before)
	}
	frame := m.View()
	m = feed(m, tickMsg{})
	if m.(Model).renderCnt != before+1 || m.View() == frame {
		t.Error("a tick must redraw with the new numbers")
	}
	_, cmd := m.Update(tickMsg{})
	if cmd == nil {
		t.Error("a tick must schedule the next one")
	}
}

func TestRunDashboardEndsOnDone(t *testing.T) {
	events := make(chan any)
	var out bytes.Buffer
	errc := make(chan error, 1)
	go func() {
		errc <- runDashboard(context.Background(), events, func() {}, &out, plain(), tea.WithInput(nil))
	}()
	events <- testPlan()
	events <- PhaseMsg{Phase: runner.PhaseWorkload, Msg: "8 clients", At: sec(1)}
	events <- DoneMsg{Run: &reports.Run{Scenario: "bank-idempotency", Verdict: invariants.Pass,
		Results: []invariants.Result{{Name: "idempotent", Verdict: invariants.Pass}}}}
	// Messages after the end must not block the sender.
	events <- PhaseMsg{Phase: runner.PhaseDown, Msg: "late"}
	close(events)
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunDashboard did not return after DoneMsg")
	}
	if !strings.Contains(out.String(), "verdict: PASS") {
		t.Errorf("the final frame lacks the verdict:\n%q", out.String())
	}
}

func TestRunDashboardEndsWhenContextIsDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- runDashboard(ctx, make(chan any), nil, io.Discard, plain(), tea.WithInput(nil))
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if err != nil && !errors.Is(err, ErrForceQuit) {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunDashboard did not return after its context ended")
	}
}

// BenchmarkDashboardOps is the cost of one OpsMsg: what the dashboard pays per update
// whatever the operation rate behind it.
func BenchmarkDashboardOps(b *testing.B) {
	var m tea.Model = NewDashboard(DashboardOptions{Plan: testPlan(), Renderer: plain(), Now: newClock().now})
	i := int64(0)
	for b.Loop() {
		i += 500
		m, _ = m.Update(OpsMsg{Ok: i, Fail: i / 100, OpsPerSec: 5000, P50: time.Millisecond, P99: 9 * time.Millisecond})
	}
}

// BenchmarkDashboardRedraw is the cost of one frame with every section full; the
// dashboard draws one per tick (10/s).
func BenchmarkDashboardRedraw(b *testing.B) {
	c := newClock()
	var m tea.Model = NewDashboard(DashboardOptions{Plan: testPlan(), Renderer: lipgloss.NewRenderer(io.Discard, termenv.WithProfile(termenv.TrueColor)), Now: c.now, Width: 120})
	for i := range 6 {
		m = feed(m, NodeMsg{Node: "node/" + string(rune('0'+i)), State: "ready", At: sec(float64(i))})
	}
	m = feed(m, PhaseMsg{Phase: runner.PhaseWorkload, Msg: "running", At: sec(1)},
		FaultMsg{Phase: history.Start, Fault: "latency", Target: "client->bank", At: sec(3)})
	for i := range samples {
		m = feed(m, OpsMsg{Ok: int64(i * 5000), Fail: int64(i * 10), OpsPerSec: 5000, P50: time.Millisecond, P99: 9 * time.Millisecond})
	}
	c.set(sec(5))
	for b.Loop() {
		m, _ = m.Update(tickMsg{})
	}
}

func TestDashboardStoppedRunHasNoVerdict(t *testing.T) {
	var m tea.Model = NewDashboard(DashboardOptions{Plan: testPlan(), Renderer: plain(), Now: newClock().now})
	m = feed(m, PhaseMsg{Phase: runner.PhaseWorkload, Msg: "8 clients", At: sec(1)},
		DoneMsg{Run: &reports.Run{Scenario: "bank-idempotency", Dir: "runs/x"}, Err: context.Canceled})
	v := m.View()
	if strings.Contains(v, "PASS") || !strings.Contains(v, "stopped: the run was interrupted") {
		t.Errorf("an interrupted run has no verdict:\n%s", v)
	}
	if !strings.HasSuffix(v, "\n") {
		t.Error("the final frame must end with a newline: the program erases the cursor's line on exit")
	}
}

// noChaosRun is the result of a run in which every invariant held and no planned fault
// took effect: two failed to apply, the third was never started.
func noChaosRun() *reports.Run {
	return &reports.Run{Scenario: "bank-idempotency", Seed: 7, Dir: ".mscli/runs/x", Verdict: invariants.Unknown,
		Ops:    reports.OpCounts{Counts: history.Counts{Invoked: 3130, Ok: 3130}},
		Faults: reports.FaultCounts{Planned: 3, Errors: 2},
		FaultFailures: []reports.FaultFailure{
			{Index: 0, Fault: "latency", Target: "client->bank", At: sec(3), Phase: reports.PhaseApply, Error: "toxiproxy: connection refused"},
			{Index: 1, Fault: "kill", Target: "bank/0", At: sec(5), Phase: reports.PhaseApply, Error: "process already exited"},
			{Index: 2, Fault: "partition", Target: "bank->broker", At: sec(9), Phase: reports.PhaseApply, Missing: true, Error: "no start record in faults.jsonl"},
		},
		Results: []invariants.Result{
			{Name: "idempotent", Verdict: invariants.Pass, Summary: "3130 operations checked"},
			{Name: "durable", Verdict: invariants.Pass, Summary: "3130 operations checked"},
			{Name: "conservation", Verdict: invariants.Pass, Summary: "20 keys checked"},
			{Name: "ordered", Verdict: invariants.Pass, Summary: "20 keys checked"},
		}}
}

// A run whose planned faults did not take effect ends on a screen that says so first,
// fault by fault, and whose verdict line says why it is no pass.
func TestDashboardFinalScreenShowsFaultsThatFailed(t *testing.T) {
	c := newClock()
	var m tea.Model = NewDashboard(DashboardOptions{Plan: testPlan(), Renderer: plain(), Now: c.now, Width: 110})
	m = feed(m,
		PhaseMsg{Phase: runner.PhaseTestbed, Msg: "ready after 1.2s", At: sec(1.2), Done: true},
		PhaseMsg{Phase: runner.PhaseWorkload, Msg: "8 clients at 200 ops/s for 20s against bank", At: sec(1.2)},
		FaultMsg{Phase: history.Start, Fault: "latency", Target: "client->bank", N: 0, At: sec(3), Err: "toxiproxy: connection refused"},
		FaultMsg{Phase: history.Stop, Fault: "latency", Target: "client->bank", N: 0, At: sec(3)},
		FaultMsg{Phase: history.Start, Fault: "kill", Target: "bank/0", N: 1, At: sec(5), Err: "process already exited"},
		FaultMsg{Phase: history.Stop, Fault: "kill", Target: "bank/0", N: 1, At: sec(5)},
		PhaseMsg{Phase: runner.PhaseCheck, Msg: "checking 4 invariants", At: sec(22)},
	)
	c.set(sec(23))
	m = feed(m, DoneMsg{Run: noChaosRun()})
	v := m.View()
	golden(t, "dashboard-nochaos.golden", v)
	lines := strings.Split(v, "\n")
	if len(lines) < 6 || !strings.Contains(lines[2], "! 3 of 3 planned faults failed to apply: the run is inconclusive, not a pass") ||
		!strings.Contains(lines[3], "✗ latency client->bank, planned at 3s: failed to apply: toxiproxy: connection refused") ||
		!strings.Contains(lines[5], "✗ partition bank->broker, planned at 9s: never applied: no start record in faults.jsonl") {
		t.Errorf("the failed faults must come first on the final screen:\n%s", v)
	}
	if !strings.Contains(v, " verdict: UNKNOWN — inconclusive: 3 of 3 planned faults failed to apply: latency client->bank: toxiproxy: con") {
		t.Errorf("the verdict line must say why it is inconclusive:\n%s", v)
	}
	if !strings.Contains(v, "partition bank->broker ") || !strings.Contains(v, "never applied") {
		t.Errorf("the fault never started is marked on the timeline:\n%s", v)
	}
	if strings.Contains(v, "PASS\n") || strings.Contains(v, "verdict: PASS") {
		t.Errorf("a run without its chaos is no pass:\n%s", v)
	}
}

// Two latency faults on one link overlap; the records' positions in the timeline put
// the short one's failed heal on its own row.
func TestDashboardPairsOverlappingFaultsByPosition(t *testing.T) {
	plan := testPlan()
	plan.Faults = []PlannedFault{
		{Fault: "latency", Target: "client->bank", At: sec(1), For: sec(10)},
		{Fault: "latency", Target: "client->bank", At: sec(3), For: sec(2)},
	}
	var m tea.Model = NewDashboard(DashboardOptions{Plan: plan, Renderer: plain(), Now: newClock().now})
	m = feed(m,
		PhaseMsg{Phase: runner.PhaseWorkload, Msg: "running", At: 0},
		FaultMsg{Phase: history.Start, Fault: "latency", Target: "client->bank", N: 0, At: sec(1)},
		FaultMsg{Phase: history.Start, Fault: "latency", Target: "client->bank", N: 1, At: sec(3)},
		FaultMsg{Phase: history.Stop, Fault: "latency", Target: "client->bank", N: 1, At: sec(5), Err: "toxic not found"},
	)
	rows := m.(Model).faults
	if len(rows) != 2 || rows[0].stopped || rows[0].err != "" || !rows[1].stopped || rows[1].err != "heal: toxic not found" {
		t.Errorf("rows: %+v", rows)
	}
	// Without positions (n 0 in every record) a stop still closes a started row.
	m = NewDashboard(DashboardOptions{Plan: plan, Renderer: plain(), Now: newClock().now})
	m = feed(m,
		FaultMsg{Phase: history.Start, Fault: "latency", Target: "client->bank", At: sec(1)},
		FaultMsg{Phase: history.Start, Fault: "latency", Target: "client->bank", At: sec(3)},
		FaultMsg{Phase: history.Stop, Fault: "latency", Target: "client->bank", At: sec(5)},
	)
	if rows := m.(Model).faults; len(rows) != 2 || !rows[0].started || !rows[1].started || !rows[0].stopped {
		t.Errorf("rows without positions: %+v", rows)
	}
}
