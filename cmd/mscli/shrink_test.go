package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
	"github.com/mscli/mscli/shrink"
)

// A failing run of a short bank scenario with three faults, of which only the
// duplicate makes double-apply show, shrinks to that one fault; the scenario file it
// writes plans to it alone, and the confirmation runs that file and fails idempotent.
func TestShrinkEndToEnd(t *testing.T) {
	bin := mscliBinary(t)
	began := time.Now()
	out := t.TempDir()
	code, res, stderr := runScenario(t, "local", "testdata/shrink-bank.yaml", out, "--inject-bug", "double-apply")
	if code != 1 || verdicts(res)["idempotent"] != invariants.Fail {
		t.Fatalf("the run to shrink: exit %d, verdicts %v\n%s", code, verdicts(res), stderr)
	}
	if _, err := os.Stat(filepath.Join(res.Dir, runner.ScenarioFile)); err != nil {
		t.Fatalf("the run kept no scenario file: %v", err)
	}

	cmd := exec.Command(bin, "shrink", res.Dir, "--tries", "1", "--confirm", "2", "--budget", "3m")
	var stdout, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("shrink: exit %d\nstdout:\n%s\nstderr:\n%s", ee.ExitCode(), stdout.String(), errb.String())
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("run and shrink took %s\n%s", time.Since(began).Round(time.Second), errb.String())
	if !strings.Contains(stdout.String(), "fails idempotent in 2/2 re-runs") || !strings.Contains(errb.String(), "runs left") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout.String(), errb.String())
	}

	dir := filepath.Join(res.Dir, shrink.Folder)
	file := filepath.Join(dir, shrink.ScenarioFile)
	s, err := scenarios.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Faults) != 1 || pl.Faults[0].Kind != "duplicate" || s.Nemesis != nil {
		t.Fatalf("scenario.yaml plans to %+v", pl.Faults)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rep shrink.Report
	b, err := os.ReadFile(filepath.Join(dir, shrink.RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	last := rep.Steps[len(rep.Steps)-1]
	if !rep.Confirmed || rep.ConfirmFails != 2 || last.Phase != "confirm" || len(last.Runs) != 2 || rep.Runs < 4 {
		t.Fatalf("shrink.json: confirmed %v (%d), %d runs, last step %+v", rep.Confirmed, rep.ConfirmFails, rep.Runs, last)
	}
	// The confirmation's runs are runs of scenario.yaml, and failed idempotent.
	for _, r := range last.Runs {
		kept, err := runner.ReadScenario(r.Dir)
		if err != nil || !bytes.Equal(kept, src) {
			t.Errorf("confirmation run %s did not run scenario.yaml (%v)", r.Dir, err)
		}
		got, err := reports.ReadFile(filepath.Join(r.Dir, runner.ResultFile))
		if err != nil {
			t.Fatal(err)
		}
		if verdicts(got)["idempotent"] != invariants.Fail || got.Faults.Planned != 1 {
			t.Errorf("confirmation run %s: %v, %d faults planned", r.Dir, verdicts(got), got.Faults.Planned)
		}
	}
}

// A run that did not fail has nothing to shrink: invalid input, nothing run.
func TestShrinkRefusesAPassingRun(t *testing.T) {
	s, err := scenarios.Load("testdata/shrink-bank.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := runner.WritePlan(dir, pl); err != nil {
		t.Fatal(err)
	}
	passed := &reports.Run{Scenario: pl.Scenario, Seed: 1, Verdict: invariants.Pass, Results: []invariants.Result{{Name: "idempotent", Verdict: invariants.Pass}}}
	if err := reports.WriteFile(filepath.Join(dir, runner.ResultFile), passed); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := mscli(t, "shrink", dir)
	if code != 4 || !strings.Contains(stderr, "did not fail") {
		t.Errorf("exit %d, want 4:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, shrink.Folder)); err == nil {
		t.Error("a refused shrink made its folder")
	}
}

// A 0 typed for a flag is refused, not taken as its default: exit 4, naming it.
func TestShrinkRefusesZeroFlags(t *testing.T) {
	for _, flag := range []string{"--tries", "--rate", "--confirm", "--budget", "--min-window", "--parallel"} {
		code, _, stderr := mscli(t, "shrink", t.TempDir(), flag, "0")
		if code != 4 || !strings.Contains(stderr, flag+" 0") || !strings.Contains(stderr, "want") {
			t.Errorf("%s 0: exit %d, want 4:\n%s", flag, code, stderr)
		}
	}
}
