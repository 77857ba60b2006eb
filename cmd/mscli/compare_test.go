package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
)

// writeResult makes a run directory holding only a result.json.
func writeResult(t *testing.T, r *reports.Run) string {
	t.Helper()
	dir := t.TempDir()
	r.Dir = dir
	if err := reports.WriteFile(filepath.Join(dir, runner.ResultFile), r); err != nil {
		t.Fatal(err)
	}
	return dir
}

func comparedResult(rate float64, p99 time.Duration, durable invariants.Verdict) *reports.Run {
	v := invariants.Pass
	if durable != invariants.Pass {
		v = durable
	}
	return &reports.Run{Scenario: "bank-idempotency", Seed: 1, Testbed: "local",
		Ops:      reports.OpCounts{Rate: rate, P50: 5 * time.Millisecond, P99: p99},
		Faults:   reports.FaultCounts{Planned: 3, Applied: 3, Healed: 3},
		Converge: &reports.Converge{Converged: true, After: 800 * time.Millisecond},
		Results: []invariants.Result{
			{Name: "idempotent", Verdict: invariants.Pass, Summary: "all once"},
			{Name: "durable", Verdict: durable, Summary: "durable"},
		},
		Verdict: v,
	}
}

func TestCompareGatesOnRegressions(t *testing.T) {
	base := writeResult(t, comparedResult(100, 50*time.Millisecond, invariants.Pass))
	same := writeResult(t, comparedResult(95, 55*time.Millisecond, invariants.Pass))
	slow := writeResult(t, comparedResult(70, 80*time.Millisecond, invariants.Pass))
	broken := writeResult(t, comparedResult(100, 50*time.Millisecond, invariants.Fail))

	code, out, stderr := mscli(t, "compare", base, same)
	if code != 0 || !strings.Contains(out, "no regression beyond the tolerance of 20%") {
		t.Errorf("within tolerance: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = mscli(t, "compare", base, slow)
	if code != 1 || !strings.Contains(out, "REGRESSED beyond the tolerance of 20%: ops/s -30.0% (100.0 → 70.0); p99 +60.0% (50ms → 80ms)") {
		t.Errorf("regressed: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, _ := mscli(t, "compare", base, slow, "--tolerance", "75%"); code != 0 {
		t.Errorf("--tolerance 75%%: exit %d\n%s", code, out)
	}
	code, out, _ = mscli(t, "compare", base, broken, "--format", "json")
	var c reports.Comparison
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if code != 1 || len(c.Breaches) != 2 || c.Breaches[0] != "durable: pass → fail" || c.Current.Dir != broken {
		t.Errorf("invariant flipped: exit %d, %+v", code, c)
	}
	code, out, _ = mscli(t, "compare", base, broken, "--format", "markdown")
	if code != 1 || !strings.HasPrefix(out, "## ❌ regressed") || !strings.Contains(out, "| durable | pass | fail | ❌ regressed |") {
		t.Errorf("markdown: exit %d\n%s", code, out)
	}
}

func TestCompareRefusesWhatIsNoFinishedRun(t *testing.T) {
	base := writeResult(t, comparedResult(100, 50*time.Millisecond, invariants.Pass))
	cutShort := t.TempDir()
	if err := os.WriteFile(filepath.Join(cutShort, runner.HistoryFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	suite := t.TempDir()
	if err := os.WriteFile(filepath.Join(suite, "suite.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	garbled := t.TempDir()
	if err := os.WriteFile(filepath.Join(garbled, runner.ResultFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{base, cutShort}, "has no result.json: compare needs a run that finished"},
		{[]string{filepath.Join(base, "nope"), base}, "is no run directory: pass one under .mscli/runs"},
		{[]string{base, suite}, "compare a suite with a suite, or a run with a run"},
		{[]string{garbled, base}, "its result.json cannot be read"},
		{[]string{base, base, "--tolerance", "20"}, `--tolerance: tolerance "20": write it as a percentage`},
		{[]string{base, base, "--format", "junit"}, `unknown format "junit": want one of text|json|markdown`},
		{[]string{base}, "accepts 2 arg(s)"},
	} {
		code, _, stderr := mscli(t, append([]string{"compare"}, tc.args...)...)
		if code != 4 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 4 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// check --format github of a run whose faults failed: the run's line and a warning
// annotation, and check's exit code unchanged.
func TestCheckFormatGitHub(t *testing.T) {
	dir := writeNoChaosRun(t)
	code, out, stderr := mscli(t, "check", dir, "--format", "github")
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s%s", code, out, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "bank-nochaos (seed 3): UNKNOWN — inconclusive: 2 of 2 planned faults failed to apply") ||
		!strings.HasPrefix(lines[1], "::warning title=bank-nochaos (seed 3)%3A faults::2 of 2 planned faults failed to apply: latency client->bank") {
		t.Errorf("github:\n%s", out)
	}
}
