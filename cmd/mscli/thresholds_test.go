package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// A scenario's thresholds end to end, on the local testbed: the clean bank keeps every
// invariant, but p99 < 1ms cannot hold through a latency fault, so the run fails (exit
// 1) with the measured p99 beside the bound, while the generous thresholds pass; mscli
// check judges them again the same from the run directory.
func TestThresholdsE2E(t *testing.T) {
	code, res, stderr := runScenario(t, "local", "testdata/bank-thresholds.yaml", t.TempDir())
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a breached threshold)\n%s", code, stderr)
	}
	if res.Verdict != invariants.Fail {
		t.Errorf("verdict %s, want fail", res.Verdict)
	}
	byName := map[string]invariants.Result{}
	for _, r := range res.Results {
		byName[r.Name] = r
		if !strings.HasPrefix(r.Name, invariants.ThresholdPrefix) && r.Verdict != invariants.Pass {
			t.Errorf("invariant %s: %s %q; the clean bank must keep it", r.Name, r.Verdict, r.Summary)
		}
	}
	for _, inv := range []string{"idempotent", "durable", "conservation", "ordered", "converges"} {
		if _, ok := byName[inv]; !ok {
			t.Errorf("invariant %s was not judged", inv)
		}
	}

	tight := byName["threshold: p99 < 1ms"]
	p99 := time.Duration(tight.Measures["value_ns"])
	if tight.Verdict != invariants.Fail || tight.Violations != 1 || p99 < time.Millisecond || tight.Measures["bound_ns"] != int64(time.Millisecond) {
		t.Errorf("p99 < 1ms: %s %q, measures %v: want fail with the measured p99 above 1ms", tight.Verdict, tight.Summary, tight.Measures)
	}
	if !strings.HasPrefix(tight.Summary, "p99 = ") || !strings.Contains(tight.Summary, ", bound < 1ms") || tight.Checked == 0 {
		t.Errorf("p99 < 1ms: summary %q (checked %d) must give the figure and the bound", tight.Summary, tight.Checked)
	}
	for _, name := range []string{"p99 < 30s", "p99 during faults < 30s", "error-rate < 100%", "ok-count > 10", "converge-time < 1m", "faults-applied == 100%"} {
		r, ok := byName["threshold: "+name]
		if !ok || r.Verdict != invariants.Pass {
			t.Errorf("threshold %s: %s %q, want pass", name, r.Verdict, r.Summary)
		}
	}
	if gen := byName["threshold: p99 < 30s"]; gen.Measures["value_ns"] != tight.Measures["value_ns"] {
		t.Errorf("two thresholds on p99 measured %v and %v", gen.Measures, tight.Measures)
	}

	// The re-check, from the records and result.json: the same verdicts and figures.
	c := exec.Command(mscliBinary(t), "check", res.Dir, "--format", "json")
	var out bytes.Buffer
	c.Stdout = &out
	err := c.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("mscli check: %v, want exit 1", err)
	}
	var again reports.Run
	if err := json.Unmarshal(out.Bytes(), &again); err != nil {
		t.Fatal(err)
	}
	if len(again.Results) != len(res.Results) {
		t.Fatalf("check judged %d results, the run %d", len(again.Results), len(res.Results))
	}
	for i, r := range again.Results {
		if was := res.Results[i]; strings.HasPrefix(r.Name, invariants.ThresholdPrefix) && (r.Name != was.Name || r.Verdict != was.Verdict || r.Summary != was.Summary) {
			t.Errorf("check: %s %s %q; the run: %s %s %q", r.Name, r.Verdict, r.Summary, was.Name, was.Verdict, was.Summary)
		}
	}
}
