package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// needTool finds a tool the end-to-end tests drive; it may be missing on a developer's
// machine (skip), never in CI, where `make deps` installs it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI (make deps installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// recordRun records one real failing run (the bank with its double-apply bug on the
// local testbed) under root and returns its run directory.
func recordRun(t *testing.T, bin, root string) string {
	t.Helper()
	cmd := exec.Command(bin, "run", "bank-idempotency", "--testbed", "local", "--seed", "3",
		"--inject-bug", "double-apply", "--no-tui", "--format", "text", "--out", root)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("run with double-apply: %v, want exit 1\n%s", err, out)
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "*-bank-idempotency-3-*"))
	if len(dirs) != 1 {
		t.Fatalf("want one run directory under %s, got %v", root, dirs)
	}
	return dirs[0]
}

// TestRecordedFailingRun records a real failing run, then explores it in a terminal
// and renders its reports.
func TestRecordedFailingRun(t *testing.T) {
	bin := mscliBinary(t)
	needTool(t, "tmux")
	dir := recordRun(t, bin, t.TempDir())
	t.Run("explore in a terminal", func(t *testing.T) { testExploreInATerminal(t, bin, dir) })
	t.Run("reports", func(t *testing.T) { testRecordedRunHasItsReports(t, dir) })
}

// tmux drives a program in a real terminal on a private tmux server (its socket in
// the test's temporary directory).
type tmux struct {
	t      *testing.T
	bin    string
	socket string
}

func newTmux(t *testing.T, w, h int, command ...string) *tmux {
	t.Helper()
	tm := &tmux{t: t, bin: needTool(t, "tmux"), socket: filepath.Join(t.TempDir(), "tmux")}
	args := append([]string{"new-session", "-d", "-s", "t", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h)}, command...)
	tm.run(args...)
	t.Cleanup(func() { _ = exec.Command(tm.bin, "-S", tm.socket, "kill-server").Run() })
	return tm
}

func (tm *tmux) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command(tm.bin, append([]string{"-S", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (tm *tmux) keys(keys ...string) {
	tm.t.Helper()
	tm.run(append([]string{"send-keys", "-t", "t"}, keys...)...)
}

func (tm *tmux) screen() string { tm.t.Helper(); return tm.run("capture-pane", "-p", "-t", "t") }

// waitForSelected polls the screen until its selected row (the one that starts with
// "› ") is name's: a verdict's symbol and word, then the name.
func (tm *tmux) waitForSelected(what, name string) string {
	tm.t.Helper()
	return tm.poll(what, func(s string) string {
		for _, l := range strings.Split(s, "\n") {
			row, ok := strings.CutPrefix(l, "› ")
			if f := strings.Fields(row); ok && len(f) > 2 && f[2] == name {
				return ""
			}
		}
		return fmt.Sprintf("the selected row on %q", name)
	})
}

// waitForGone polls the screen until it no longer holds gone.
func (tm *tmux) waitForGone(what, gone string) string {
	tm.t.Helper()
	return tm.poll(what, func(s string) string {
		if strings.Contains(s, gone) {
			return fmt.Sprintf("%q to go", gone)
		}
		return ""
	})
}

// waitFor polls the screen until it holds every want.
func (tm *tmux) waitFor(what string, want ...string) string {
	tm.t.Helper()
	return tm.poll(what, func(s string) string {
		for _, w := range want {
			if !strings.Contains(s, w) {
				return fmt.Sprintf("%q", w)
			}
		}
		return ""
	})
}

// poll captures the screen until missing finds nothing missing on it (it says what it
// waits for otherwise).
func (tm *tmux) poll(what string, missing func(screen string) string) string {
	tm.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := tm.screen()
		m := missing(s)
		if m == "" {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("%s: still waiting for %s after 15 s:\n%s", what, m, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testExploreInATerminal drives `mscli explore` in tmux on a real recorded failing
// run: the runs list, the run, its failing invariant, a witness with the history
// around it and the faults active then, the timeline, the keys help and quitting.
func testExploreInATerminal(t *testing.T, bin, dir string) {
	res, err := reports.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	failing := -1
	for i, r := range res.Results {
		if r.Verdict == invariants.Fail && len(r.Witnesses) > 0 {
			failing = i
			break
		}
	}
	if failing < 0 {
		t.Fatalf("the double-apply run has no failing invariant with a witness: %+v", res.Results)
	}
	inv := res.Results[failing]
	wit := inv.Witnesses[0]

	tm := newTmux(t, 130, 45, bin, "explore", filepath.Dir(dir))
	tm.waitFor("runs list", "runs in", "bank-idempotency", "FAIL", filepath.Base(dir))

	tm.keys("Enter")
	tm.waitFor("run page", "invariants", inv.Name, "history", "records indexed")

	// A key is sent only once the screen shows the last one's effect: keys that reach
	// the program in one read are one message to it ("jj" is no j, and an Escape just
	// before "/" makes alt+/).
	last := len(res.Results) - 1
	tm.keys("G")
	tm.waitForSelected("cursor on the last invariant", res.Results[last].Name)
	tm.keys("g")
	tm.waitForSelected("cursor on the first invariant", res.Results[0].Name)
	for i := 1; i <= failing; i++ {
		tm.keys("j")
		tm.waitForSelected("cursor on "+res.Results[i].Name, res.Results[i].Name)
	}
	tm.keys("Enter")
	tm.waitFor("failing invariant", "witnesses (", wit.Note)

	tm.keys("Enter")
	s := tm.waitFor("witness", "witness 1", "faults active between", "history.jsonl, ±", "▶ #")
	if wit.ID != "" && !strings.Contains(s, wit.ID) {
		t.Errorf("the witness screen does not name its operation %s:\n%s", wit.ID, s)
	}
	if len(wit.Ops) > 0 && !strings.Contains(s, wit.Ops[0].ID) {
		t.Errorf("the history around the witness lacks its operation:\n%s", s)
	}

	tm.keys("t")
	tm.waitFor("timeline", "ops/s", "errors/s", "p99 latency", "faults")
	tm.keys("?")
	tm.waitFor("help", "keys", "search op id or key", "any key closes this help")
	tm.keys("Escape")
	tm.waitForGone("help closed", "any key closes this help")
	tm.keys("Escape")
	tm.waitFor("back at the witness", "faults active between")
	tm.keys("/")
	tm.waitFor("search prompt", "/op id or key")
	tm.keys(wit.Key, "Enter")
	tm.waitFor("search", "records whose id or key is", wit.Key)

	tm.keys("q")
	// The session ends with its only program, and the private server with it.
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command(tm.bin, "-S", tm.socket, "has-session", "-t", "t").Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit:\n%s", tm.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testRecordedRunHasItsReports: a run directory holds report.html, and the report
// command renders Markdown and HTML from a recorded run.
func testRecordedRunHasItsReports(t *testing.T, dir string) {
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatalf("the run directory has no report.html: %v", err)
	}
	for _, want := range []string{"<svg", "Throughput", `class="t-fail"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(string(page), "src=\"http") || strings.Contains(string(page), "href=\"http") {
		t.Error("report.html must be self-contained")
	}
	code, md, stderr := mscli(t, "report", dir, "--format", "markdown")
	if code != 0 || !strings.Contains(md, "| ") || !strings.Contains(md, "FAIL") {
		t.Errorf("report --format markdown: exit %d\n%s\n%s", code, md, stderr)
	}
	code, html, stderr := mscli(t, "report", dir, "--format", "html")
	if code != 0 || !strings.HasPrefix(strings.ToLower(strings.TrimSpace(html)), "<!doctype html>") || !strings.Contains(html, "<svg") {
		t.Errorf("report --format html: exit %d, %d bytes\n%s", code, len(html), stderr)
	}
}

// TestRunDashboardInATerminal runs the bank scenario in a real terminal: the live
// dashboard shows the nodes, the workload's numbers and the fault timeline; q stops
// the run cleanly (faults healed, every node process gone) with exit 130.
func TestRunDashboardInATerminal(t *testing.T) {
	bin := mscliBinary(t)
	needTool(t, "tmux")
	root := t.TempDir()
	status := filepath.Join(root, "status")
	script := fmt.Sprintf("%s run bank-idempotency --testbed local --seed 2 --out %s/runs --format json > %s/stdout; echo $? > %s; sleep 60",
		bin, root, root, status)
	tm := newTmux(t, 130, 45, "sh", "-c", script)
	tm.waitFor("dashboard", "mscli run bank-idempotency", "starting nodes", "bank/0", "workload", "ops/s", "faults", "invariants", "q stop the run")
	okCount := regexp.MustCompile(`ok (\d+) · fail`)
	deadline := time.Now().Add(15 * time.Second)
	for {
		m := okCount.FindStringSubmatch(tm.screen())
		if m != nil && m[1] != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dashboard never counted an acknowledged operation:\n%s", tm.screen())
		}
		time.Sleep(200 * time.Millisecond)
	}
	tm.keys("q")
	tm.waitFor("stopped", "stopped: the run was interrupted", "testbed down")
	deadline = time.Now().Add(30 * time.Second)
	var code []byte
	for {
		if b, err := os.ReadFile(status); err == nil && len(b) > 0 {
			code = b
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run did not end after q:\n%s", tm.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.TrimSpace(string(code)) != "130" {
		t.Errorf("exit %s after q, want 130", code)
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "runs", "*"))
	if len(dirs) != 1 {
		t.Fatalf("run directories: %v", dirs)
	}
	res, err := reports.ReadFile(filepath.Join(dirs[0], "result.json"))
	if err != nil || !strings.Contains(res.Error, "canceled") {
		t.Errorf("result.json must record the interruption: %v %+v", err, res)
	}
	faults, err := history.ReadFile[history.Fault](filepath.Join(dirs[0], "faults.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	open := map[string]int{}
	for _, f := range faults {
		if f.Phase == history.Start {
			open[f.Fault+" "+f.Target]++
		} else {
			open[f.Fault+" "+f.Target]--
		}
	}
	for f, n := range open {
		if n != 0 {
			t.Errorf("fault %s started %d more times than it was healed", f, n)
		}
	}
	pids, err := os.ReadFile(filepath.Join(dirs[0], "pids"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(pids)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("node %s (pid %d) still runs after q", f[1], pid)
		}
	}
}
