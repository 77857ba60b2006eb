package tui

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/runner"
)

// frameClock records when the program wrote to the terminal: one write per frame.
type frameClock struct {
	mu     sync.Mutex
	writes []time.Time
}

func (f *frameClock) Write(p []byte) (int, error) {
	f.mu.Lock()
	f.writes = append(f.writes, time.Now())
	f.mu.Unlock()
	return len(p), nil
}

func TestOpCounterRatesAndLatency(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &OpCounter{Now: func() time.Time { return now }}
	if m := c.Snapshot(); m.OpsPerSec != 0 || m.Ok != 0 {
		t.Fatalf("empty counter: %+v", m)
	}
	ms := int64(time.Millisecond)
	for i := range 100 {
		proc := i % 4
		c.Add(history.Op{Process: proc, Type: history.Invoke, Time: int64(i) * 10 * ms})
		typ := history.Ok
		if i%10 == 0 {
			typ = history.Info
		}
		c.Add(history.Op{Process: proc, Type: typ, Time: int64(i)*10*ms + int64(1+i%50)*ms})
	}
	c.Add(history.Op{Process: 9, Type: history.Invoke, Time: 5})
	now = now.Add(2 * time.Second)
	m := c.Snapshot()
	if m.Ok != 90 || m.Info != 10 || m.InFlight != 1 {
		t.Errorf("totals: %+v", m)
	}
	if m.OpsPerSec != 50 {
		t.Errorf("100 completions in 2s: %v ops/s", m.OpsPerSec)
	}
	if m.P50 != 25*time.Millisecond || m.P99 != 50*time.Millisecond {
		t.Errorf("latencies 1..50ms twice: p50 %v p99 %v", m.P50, m.P99)
	}
	now = now.Add(time.Second)
	if m := c.Snapshot(); m.OpsPerSec != 0 || m.P99 != 0 || m.Ok != 90 {
		t.Errorf("a quiet interval has no rate nor latency but keeps the totals: %+v", m)
	}
}

// BenchmarkDashboardLive5000 runs the real dashboard program (bubbletea, a colour
// renderer, the redraw timer) while 5,000 operations a second (10,000 history records)
// go through an OpCounter, and the numbers reach the dashboard every 500ms as the run
// command sends them. Each iteration is one second of that. It reports how often the
// terminal was redrawn: the issue wants a frame at least every 100ms.
func BenchmarkDashboardLive5000(b *testing.B) {
	const opsPerSec = 5000
	out := &frameClock{}
	events := make(chan any, 256)
	stopped := make(chan struct{}, 1)
	done := make(chan error, 1)
	r := lipgloss.NewRenderer(out, termenv.WithProfile(termenv.TrueColor))
	go func() {
		done <- runDashboard(context.Background(), events, func() { stopped <- struct{}{} }, out, r, tea.WithInput(nil))
	}()
	events <- PlanMsg{Scenario: "bank-idempotency", Seed: 1, Testbed: "local", Duration: time.Minute,
		Faults:     []PlannedFault{{Fault: "latency", Target: "client->bank", At: time.Second, For: 20 * time.Second}},
		Invariants: []string{"idempotent", "durable", "conservation", "ordered"}}
	events <- PhaseMsg{Phase: runner.PhaseWorkload, Msg: "8 clients at 5000 ops/s"}
	events <- FaultMsg{Phase: history.Start, Fault: "latency", Target: "client->bank", At: time.Second}

	var counter OpCounter
	start := time.Now()
	var recorded int64
	// The workload: 5 operations every millisecond, each an invoke and a completion.
	gen := func(until time.Time) {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var i int64
		for now := range tick.C {
			if now.After(until) {
				return
			}
			due := int64(now.Sub(start).Seconds() * opsPerSec)
			for ; i < due; i++ {
				t := int64(time.Since(start))
				counter.Add(history.Op{Process: int(i % 8), Type: history.Invoke, Time: t})
				counter.Add(history.Op{Process: int(i % 8), Type: history.Ok, Time: t + int64(time.Millisecond)})
			}
			recorded = i
		}
	}
	stopOps := make(chan struct{})
	opsDone := make(chan struct{})
	go func() {
		defer close(opsDone)
		tk := time.NewTicker(500 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stopOps:
				return
			case <-tk.C:
				events <- counter.Snapshot()
			}
		}
	}()

	measured := time.Now()
	for b.Loop() {
		gen(time.Now().Add(time.Second))
	}
	elapsed := time.Since(measured)
	close(stopOps)
	<-opsDone
	events <- DoneMsg{}
	close(events)
	if err := <-done; err != nil {
		b.Fatal(err)
	}

	out.mu.Lock()
	var gaps []time.Duration
	for i := 1; i < len(out.writes); i++ {
		if out.writes[i].Before(measured) || out.writes[i].After(measured.Add(elapsed)) {
			continue
		}
		gaps = append(gaps, out.writes[i].Sub(out.writes[i-1]))
	}
	out.mu.Unlock()
	if len(gaps) == 0 {
		b.Fatal("no frame was drawn")
	}
	slices.Sort(gaps)
	b.ReportMetric(float64(recorded)/time.Since(start).Seconds(), "ops/s")
	b.ReportMetric(float64(len(gaps))/elapsed.Seconds(), "frames/s")
	b.ReportMetric(float64(gaps[len(gaps)/2])/1e6, "p50-frame-gap-ms")
	b.ReportMetric(float64(gaps[len(gaps)*99/100])/1e6, "p99-frame-gap-ms")
	b.ReportMetric(float64(gaps[len(gaps)-1])/1e6, "max-frame-gap-ms")
}
