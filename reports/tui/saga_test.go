package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// writeSagaRun writes a small recorded run of orders across three services (orders,
// inventory, payments): o-12 is cancelled, its charge refunded and its reservation
// released while a latency fault slowed the path to payments; o-13 completes. The
// failing saga-atomic invariant's witness holds o-12's steps and compensations only,
// as a checker keeps them: its end is in effects.jsonl and its request in
// history.jsonl.
func writeSagaRun(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sec, ms := int64(time.Second), int64(time.Millisecond)
	write := func(name string, recs ...any) {
		w, err := history.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	op := func(i, at int64, proc int, typ history.OpType, f, key, id string) history.Op {
		return history.Op{Index: i, Time: at, Process: proc, Type: typ, F: f, Key: key, ID: id}
	}
	write(historyFile,
		op(0, sec, 0, history.Invoke, "order", "c-4", "o-12"),
		op(1, sec+20*ms, 1, history.Invoke, "withdraw", "acct-a", "w-1"),
		op(2, sec+40*ms, 1, history.Ok, "withdraw", "acct-a", "w-1"),
		op(3, sec+800*ms, 0, history.Info, "order", "c-4", "o-12"),
		op(4, 2*sec, 0, history.Invoke, "order", "c-5", "o-13"),
		op(5, 2*sec+400*ms, 0, history.Ok, "order", "c-5", "o-13"))
	latency := history.Fault{Time: sec + 200*ms, Phase: history.Start, Fault: "latency", Target: "orders->payments", Params: map[string]string{"latency": "300ms"}}
	write(faultsFile, latency,
		history.Fault{Time: sec + 450*ms, Phase: history.Stop, Fault: "latency", Target: "orders->payments"},
		history.Fault{Time: 3 * sec, Phase: history.Start, Fault: "kill", Target: "inventory/0", N: 1},
		history.Fault{Time: 4 * sec, Phase: history.Stop, Fault: "kill", Target: "inventory/0", N: 1})
	steps := []history.Effect{
		{Service: "inventory", View: "saga", Kind: "reserve", Saga: "o-12", Step: "reserve", Key: "item-3", ID: "o-12/reserve", Amount: -2, At: sec + 100*ms},
		{Service: "payments", View: "saga", Kind: "charge", Saga: "o-12", Step: "charge", Key: "c-4", ID: "o-12/charge", Amount: -50, At: sec + 250*ms},
		{Service: "payments", View: "saga", Kind: "refund", Saga: "o-12", Step: "charge", Undo: true, Key: "c-4", ID: "o-12/refund", Amount: 50, At: sec + 500*ms},
		{Service: "inventory", View: "saga", Kind: "release", Saga: "o-12", Step: "reserve", Undo: true, Key: "item-3", ID: "o-12/release", Amount: 2, At: sec + 600*ms},
	}
	write(effectsFile,
		steps[0], steps[3],
		history.Effect{Service: "inventory", View: "saga", Kind: "reserve", Saga: "o-13", Step: "reserve", Key: "item-1", ID: "o-13/reserve", Amount: -1, At: 2*sec + 100*ms},
		history.Effect{Service: "orders", View: "write", Kind: "operation", ID: "o-12", State: "rejected", At: sec + 700*ms},
		history.Effect{Service: "orders", View: "write", Kind: "operation", ID: "o-13", State: "applied", At: 2*sec + 300*ms},
		history.Effect{Service: "orders", View: "write", Kind: "order", Key: "c-5", ID: "o-13", Amount: 20, At: 2*sec + 300*ms},
		steps[1], steps[2],
		history.Effect{Service: "payments", View: "saga", Kind: "charge", Saga: "o-13", Step: "charge", Key: "c-5", ID: "o-13/charge", Amount: -20, At: 2*sec + 200*ms},
		history.Effect{Service: "bank", View: "write", Kind: "debit", Key: "acct-a", ID: "w-1", Amount: -10, At: sec + 30*ms})
	r := &reports.Run{Scenario: "saga-orders", Seed: 5, Testbed: "local", Dir: dir,
		Started: time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC), Wall: 5 * time.Second,
		Results: []invariants.Result{
			{Name: "saga-atomic", Verdict: invariants.Fail, Summary: "1 of 2 sagas violate it", Violations: 1, Checked: 2,
				Witnesses: []invariants.Witness{{ID: "o-12", Key: "c-4", Note: "cancelled, but a step was compensated twice",
					Effects: steps, Faults: []history.Fault{latency}}}},
			{Name: "saga-conservation", Verdict: invariants.Pass, Summary: "2 sagas checked", Checked: 2},
		},
		Verdict: invariants.Fail}
	if err := reports.WriteFile(filepath.Join(dir, resultFile), r); err != nil {
		t.Fatal(err)
	}
}

// From a saga witness, s shows its saga across the services: the client's request,
// each step and compensation, its end and the faults started and healed meanwhile,
// in time order.
func TestExplorerSagaTimeline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "20260103T100000Z-saga-orders-5")
	writeSagaRun(t, dir)
	m := newTestExplorer(t, dir)
	if strings.Contains(m.View(), "saga timeline") {
		t.Errorf("s is listed only where it opens a saga:\n%s", m.View())
	}
	m = press(t, m, "enter")
	if !strings.Contains(m.View(), "s saga timeline") {
		t.Errorf("on a saga witness in the list, the key line lists s:\n%s", m.View())
	}
	m = press(t, m, "enter")
	v := m.View()
	if !strings.Contains(v, "saga o-12 · s: its steps across the services") || !strings.Contains(v, "s saga timeline") {
		t.Fatalf("the witness page says which saga it is about and lists s:\n%s", v)
	}

	m = press(t, m, "s")
	v = m.View()
	golden(t, "explore-saga.golden", v)
	want := []string{
		"+1.000s  client     invoke   order c-4 o-12",
		"+1.100s  inventory  reserve  item-3 -2",
		"+1.200s  fault      start    latency orders->payments (latency: 300ms)",
		"+1.250s  payments   charge   c-4 -50",
		"+1.450s  fault      heal     latency orders->payments",
		"+1.500s  payments   refund   c-4 +50 ↩ undo of charge",
		"+1.600s  inventory  release  item-3 +2 ↩ undo of reserve",
		"+1.700s  orders     end      state rejected",
		"+1.800s  client     info     order c-4 o-12",
	}
	at := -1
	for _, w := range want {
		i := strings.Index(v, w)
		if i < 0 {
			t.Fatalf("the saga page lacks the row %q:\n%s", w, v)
		}
		if i < at {
			t.Errorf("the row %q is out of time order:\n%s", w, v)
		}
		at = i
	}
	for _, w := range []string{"saga o-12 · ends rejected · compensated · request order info after 800ms\nacross inventory, payments, orders\n", "mscli explore › saga-orders seed 5 › saga-atomic › witness 1 › saga o-12"} {
		if !strings.Contains(v, w) {
			t.Errorf("the saga page lacks %q:\n%s", w, v)
		}
	}
	for _, no := range []string{"o-13", "w-1", "kill"} {
		if strings.Contains(v, no) {
			t.Errorf("the saga page shows %q, which is no record of o-12 nor active during it:\n%s", no, v)
		}
	}
	m = press(t, m, "esc")
	if !strings.Contains(m.View(), "› witness 1\n") {
		t.Errorf("esc goes back to the witness:\n%s", m.View())
	}
}

// Where no saga is shown, s says so and the key line does not offer it.
func TestExplorerSagaKeyElsewhere(t *testing.T) {
	m := newTestExplorer(t, filepath.Join(writeRuns(t), "20260101T100000Z-bank-idempotency-7"))
	m = press(t, m, "j", "enter", "enter")
	if strings.Contains(m.View(), "saga") {
		t.Fatalf("a bank witness offers no saga:\n%s", m.View())
	}
	m = press(t, m, "s")
	if v := m.View(); !strings.Contains(v, "this witness names no saga") || !strings.Contains(v, "› witness 1") {
		t.Errorf("s on a witness without a saga stays and says why:\n%s", v)
	}
}

// A run directory without effects.jsonl still shows the witness's own records, and
// says what is missing.
func TestExplorerSagaWithoutEffectsFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	writeSagaRun(t, dir)
	if err := os.Remove(filepath.Join(dir, effectsFile)); err != nil {
		t.Fatal(err)
	}
	m := press(t, newTestExplorer(t, dir), "enter", "enter", "s")
	v := m.View()
	for _, w := range []string{"effects.jsonl: not recorded; the witness's effects only", "+1.100s  inventory  reserve  item-3 -2",
		"+1.600s  inventory  release  item-3 +2 ↩ undo of reserve", "+1.800s  client     info     order c-4 o-12", "no end reported"} {
		if !strings.Contains(v, w) {
			t.Errorf("the saga page lacks %q:\n%s", w, v)
		}
	}
}
