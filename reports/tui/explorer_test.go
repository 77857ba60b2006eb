package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// settle runs a command the way the program would and feeds its message back, for
// the explorer's own background work (runs list, indexing, search); the cursor's blink
// and other timers are dropped.
func settle(t *testing.T, m tea.Model, cmd tea.Cmd) tea.Model {
	t.Helper()
	if cmd == nil {
		return m
	}
	msg := cmd()
	switch msg := msg.(type) {
	case recordsMsg:
		if msg.hist != nil {
			msg.hist.took = 0 // the only thing that differs between two runs
		}
		m, cmd = m.Update(msg)
		return settle(t, m, cmd)
	case runsMsg, searchMsg, sagaMsg:
		m, cmd = m.Update(msg)
		return settle(t, m, cmd)
	}
	return m
}

func press(t *testing.T, m tea.Model, keys ...string) tea.Model {
	t.Helper()
	for _, k := range keys {
		var cmd tea.Cmd
		m, cmd = m.Update(keyMsg(k))
		if k != "/" { // focusing the search box starts the cursor's blink timer
			m = settle(t, m, cmd)
		}
	}
	return m
}

// writeRuns writes a folder of two runs: a failing one with records and a passing one
// with only its result.
func writeRuns(t *testing.T) string {
	t.Helper()
	t.Chdir(t.TempDir())
	day := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	if err := writeSynthRun(filepath.Join("runs", "20260101T100000Z-bank-idempotency-7"), 3000, day); err != nil {
		t.Fatal(err)
	}
	pass := filepath.Join("runs", "20251231T090000Z-bank-ordering-3")
	if err := os.MkdirAll(pass, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := reports.WriteFile(filepath.Join(pass, resultFile), &reports.Run{Scenario: "bank-ordering", Seed: 3, Started: day.Add(-25 * time.Hour),
		Verdict: invariants.Pass, Results: []invariants.Result{{Name: "ordered", Verdict: invariants.Pass, Summary: "20 keys checked"}}}); err != nil {
		t.Fatal(err)
	}
	stopped := filepath.Join("runs", "20251230T080000Z-bank-idempotency-1")
	if err := os.MkdirAll(stopped, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := reports.WriteFile(filepath.Join(stopped, resultFile), &reports.Run{Scenario: "bank-idempotency", Seed: 1,
		Started: day.Add(-50 * time.Hour), Error: "context canceled"}); err != nil {
		t.Fatal(err)
	}
	return "runs"
}

func newTestExplorer(t *testing.T, path string) tea.Model {
	t.Helper()
	e, err := NewExplorer(path, ExplorerOptions{Renderer: plain(), Width: 110, Height: 32})
	if err != nil {
		t.Fatal(err)
	}
	return settle(t, e, e.Init())
}

// TestExplorerDownToAWitness walks the explorer from the runs list to the history
// around a failing invariant's witness, comparing each screen with its golden file.
func TestExplorerDownToAWitness(t *testing.T) {
	m := newTestExplorer(t, writeRuns(t))
	golden(t, "explore-runs.golden", m.View())
	if !strings.Contains(m.View(), "› 2026-01-01 10:00") {
		t.Fatalf("the newest run must come first, selected:\n%s", m.View())
	}
	if !strings.Contains(m.View(), "? UNKNOWN interrupted") {
		t.Errorf("a run stopped before its checks has no verdict, and says why:\n%s", m.View())
	}

	m = press(t, m, "enter")
	golden(t, "explore-run.golden", m.View())

	m = press(t, m, "j", "enter")
	golden(t, "explore-invariant.golden", m.View())
	if !strings.Contains(m.View(), "durable") || !strings.Contains(m.View(), "witnesses (1 kept)") {
		t.Fatalf("the second invariant is the failing durable one:\n%s", m.View())
	}

	m = press(t, m, "enter")
	golden(t, "explore-witness.golden", m.View())
	v := m.View()
	for _, want := range []string{"▶ #", "faults active between", "kill bank/0", "latency client->bank", "bank/write operation id w-"} {
		if !strings.Contains(v, want) {
			t.Errorf("the witness screen lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "partition") {
		t.Errorf("the partition started later: it was not active:\n%s", v)
	}
	// The completion, 20ms later, is further down: both of the witness's records are
	// marked.
	m = press(t, m, "G")
	if n := strings.Count(v, "▶ #") + strings.Count(m.View(), "▶ #"); n < 2 {
		t.Errorf("the witness's invoke and completion must be marked:\n%s\n%s", v, m.View())
	}

	m = press(t, m, "esc", "esc", "esc")
	if !strings.Contains(m.View(), "runs in runs") {
		t.Fatalf("esc three times must come back to the runs list:\n%s", m.View())
	}
}

func TestExplorerTimelineSearchAndHelp(t *testing.T) {
	m := newTestExplorer(t, filepath.Join(writeRuns(t), "20260101T100000Z-bank-idempotency-7"))
	if !strings.Contains(m.View(), "history 6000 records indexed") {
		t.Fatalf("a run directory opens on its invariants, indexed:\n%s", m.View())
	}
	m = press(t, m, "t")
	golden(t, "explore-timeline.golden", m.View())

	m = press(t, m, "esc", "/")
	for _, r := range "w-0001234" {
		m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	m = press(t, m, "enter")
	golden(t, "explore-search.golden", m.View())
	if got := strings.Count(m.View(), "w-0001234"); got != 4 { // crumb, heading, invoke and completion
		t.Errorf("searching an op id must list its two records, got %d mentions:\n%s", got, m.View())
	}
	m = press(t, m, "enter")
	if !strings.Contains(m.View(), "▶ #") {
		t.Errorf("opening a search hit shows the history around it:\n%s", m.View())
	}

	m = press(t, m, "?")
	golden(t, "explore-help.golden", m.View())
	m = press(t, m, "x")
	if strings.Contains(m.View(), "any key closes this help") {
		t.Error("any key must close the help")
	}
	_, cmd := m.Update(keyMsg("q"))
	if cmd == nil || cmd() != tea.Quit() {
		t.Error("q must quit")
	}
}

func TestExplorerRejectsAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewExplorer(f, ExplorerOptions{}); err == nil {
		t.Error("a file is no run directory")
	}
}

// BenchmarkExplorerOpen1M is opening a run of a million operations (two million
// history records): result.json, the index of history.jsonl and the timeline, up to
// the run's screen and its timeline drawn. The issue asks for under 2s.
func BenchmarkExplorerOpen1M(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "run")
	if err := writeSynthRun(dir, 1_000_000, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		e, err := NewExplorer(dir, ExplorerOptions{Renderer: plain()})
		if err != nil {
			b.Fatal(err)
		}
		var m tea.Model = e
		m, _ = m.Update(e.Init()())
		if !strings.Contains(m.View(), "history 2000000 records indexed") {
			b.Fatalf("not indexed:\n%s", m.View())
		}
		m, _ = m.Update(keyMsg("t"))
		if !strings.Contains(m.View(), "ops/s") {
			b.Fatalf("no timeline:\n%s", m.View())
		}
	}
	if st, err := os.Stat(filepath.Join(dir, historyFile)); err == nil {
		b.ReportMetric(float64(st.Size())/1e6, "history-MB")
	}
}

// A recorded run whose planned faults did not take effect: the runs list says so, and
// the run's page shows them first, each with its target and error.
func TestExplorerShowsFaultsThatFailed(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := filepath.Join("runs", "20260102T100000Z-bank-idempotency-7")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := noChaosRun()
	r.Dir, r.Testbed, r.Started, r.Wall = dir, "local", time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC), 23*time.Second
	if err := reports.WriteFile(filepath.Join(dir, resultFile), r); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{historyFile, faultsFile} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := newTestExplorer(t, "runs")
	if v := m.View(); !strings.Contains(v, "? UNKNOWN faults failed") {
		t.Errorf("the runs list must say the run's faults failed:\n%s", v)
	}
	m = press(t, m, "enter")
	v := m.View()
	golden(t, "explore-nochaos.golden", v)
	lines := strings.Split(v, "\n")
	if len(lines) < 7 || !strings.HasPrefix(lines[2], "? UNKNOWN  bank-idempotency") ||
		!strings.Contains(lines[3], "! 3 of 3 planned faults failed to apply: the run is inconclusive, not a pass") ||
		!strings.Contains(lines[4], "✗ latency client->bank, planned at 3s: failed to apply: toxiproxy: connection refused") ||
		!strings.Contains(lines[6], "✗ partition bank->broker, planned at 9s: never applied: no start record in faults.jsonl") {
		t.Errorf("the failed faults must come first on the run's page:\n%s", v)
	}
}
