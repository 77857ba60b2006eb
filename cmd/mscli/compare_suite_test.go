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
	"github.com/mscli/mscli/suite"
)

// writeSuite writes a suite.json of one scenario's runs, one per p99 (and ops/s 100).
func writeSuite(t *testing.T, scenario string, p99s ...time.Duration) string {
	t.Helper()
	dir := t.TempDir()
	s := reports.Suite{Dir: dir, Testbed: "local"}
	for i, p := range p99s {
		r := comparedResult(100, p, invariants.Pass)
		r.Scenario, r.Seed = scenario, int64(i+1)
		s.Runs = append(s.Runs, reports.SuiteRun{Scenario: scenario, Seed: r.Seed, Run: r})
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, suite.SuiteFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Two suites compare by the median over their seeds: one slow seed does not move it,
// a slower median does; a scenario the current suite did not run is a regression.
func TestCompareSuites(t *testing.T) {
	ms := time.Millisecond
	base := writeSuite(t, "bank-idempotency", 50*ms, 52*ms, 48*ms, 51*ms, 49*ms)
	oneSlow := writeSuite(t, "bank-idempotency", 50*ms, 500*ms, 48*ms, 51*ms, 49*ms)
	slower := writeSuite(t, "bank-idempotency", 80*ms, 85*ms, 90*ms, 51*ms, 82*ms)
	other := writeSuite(t, "db-loss-restore", 50*ms)

	code, out, stderr := mscli(t, "compare", base, oneSlow)
	if code != 0 || !strings.Contains(out, "median of 5 seed(s)") {
		t.Errorf("one slow seed: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = mscli(t, "compare", base, slower)
	if code != 1 || !strings.Contains(out, "p99") {
		t.Errorf("a slower median: exit %d, want 1\n%s", code, out)
	}
	code, out, _ = mscli(t, "compare", base, other, "--format", "json")
	var cmps []reports.Comparison
	if err := json.Unmarshal([]byte(out), &cmps); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if code != 1 || len(cmps) != 2 || !strings.Contains(strings.Join(cmps[0].Breaches, ";"), "not in the current suite") {
		t.Errorf("a scenario missing: exit %d, %+v", code, cmps)
	}
	run := writeResult(t, comparedResult(100, 50*ms, invariants.Pass))
	if code, _, stderr := mscli(t, "compare", base, run); code != 4 || !strings.Contains(stderr, "compare a suite with a suite") {
		t.Errorf("a suite with a run: exit %d, %s", code, stderr)
	}
}
