package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// synthPlan is the plan of a recorded synthetic run: four faults and the invariants
// writeSynthRun's records satisfy.
func synthPlan() *plan.Plan {
	d := func(s float64) plan.Duration { return plan.Duration(s * float64(time.Second)) }
	return &plan.Plan{
		Scenario: "bank-synth", Seed: 1, Duration: d(20),
		Faults: []plan.Fault{
			{At: d(3), For: d(4), Kind: "latency", Target: "client->bank", Params: map[string]string{"latency": "250ms"}, Source: "scenario"},
			{At: d(5), Kind: "kill", Target: "bank/0", Params: map[string]string{"restart-after": "1s"}, Source: "scenario"},
			{At: d(9), For: d(3), Kind: "partition", Target: "bank->broker", Source: "scenario"},
			{At: d(10), Kind: "duplicate", Target: "bank.commands", Params: map[string]string{"ratio": "0.1"}, Source: "scenario"},
		},
		Invariants: []plan.Invariant{{Name: "idempotent"}, {Name: "durable"}, {Name: "conservation"}, {Name: "ordered"}},
	}
}

// recordRun writes a run directory as a run leaves it: plan.json, a passing history
// and effects, and faults.jsonl with a start and a stop record per planned fault, the
// start carrying applyErr when it is set.
func recordRun(t *testing.T, applyErr string) (string, *plan.Plan) {
	t.Helper()
	dir := t.TempDir()
	if err := writeSynthRun(dir, 400, 8); err != nil {
		t.Fatal(err)
	}
	pl := synthPlan()
	if err := WritePlan(dir, pl); err != nil {
		t.Fatal(err)
	}
	w, err := history.Create(filepath.Join(dir, FaultsFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range pl.Faults {
		t0 := int64(f.At) + int64(time.Millisecond)
		stop := t0 + int64(f.For)
		if applyErr != "" {
			stop = t0 + int64(time.Millisecond) // nothing to undo: stopped at once
		}
		for _, r := range []history.Fault{
			{Time: t0, Phase: history.Start, Fault: f.Kind, Target: f.Target, Params: f.Params, N: i, Error: applyErr},
			{Time: stop, Phase: history.Stop, Fault: f.Kind, Target: f.Target, Params: f.Params, N: i},
		} {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// The run ended (result.json): its records are whole.
	if err := WriteResults(dir, &reports.Run{Scenario: pl.Scenario, Seed: pl.Seed, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	return dir, pl
}

// mscli check of a recorded run in which every fault record carries an error: the
// invariants hold, but the run had none of its chaos — exit 2, never 0.
func TestCheckRunWithoutChaosIsInconclusive(t *testing.T) {
	ctx := context.Background()
	ok, _ := recordRun(t, "")
	r, err := Check(ctx, ok)
	if err != nil {
		t.Fatal(err)
	}
	if CodeOfVerdict(r.Verdict) != ExitOK || len(r.FaultFailures) != 0 {
		t.Fatalf("the control run (every fault applied) must pass: %s, %+v, %+v", r.Verdict, r.FaultFailures, r.Results)
	}

	dir, _ := recordRun(t, "toxiproxy: dial tcp 127.0.0.1:8474: connect: connection refused")
	r, err = Check(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if invariants.Worst(r.Results) != invariants.Pass {
		t.Fatalf("the invariants must hold, so only the faults make it inconclusive: %+v", r.Results)
	}
	if r.Verdict != invariants.Unknown || CodeOfVerdict(r.Verdict) != ExitInconclusive {
		t.Errorf("verdict %s (exit %d), want unknown (exit 2)", r.Verdict, CodeOfVerdict(r.Verdict))
	}
	if len(r.FaultFailures) != 4 || r.FaultFailures[0].Phase != reports.PhaseApply || r.FaultFailures[0].Fault != "latency" {
		t.Errorf("fault failures: %+v", r.FaultFailures)
	}
	var out bytes.Buffer
	if err := reports.WriteText(&out, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "verdict: UNKNOWN — inconclusive: 4 of 4 planned faults failed to apply: latency client->bank: toxiproxy: dial tcp") {
		t.Errorf("check's output must say why:\n%s", out.String())
	}

	// No fault record at all: the plan's four faults were never applied.
	if err := os.WriteFile(filepath.Join(dir, FaultsFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err = Check(ctx, dir); err != nil || CodeOfVerdict(r.Verdict) != ExitInconclusive || len(r.FaultFailures) != 4 || !r.FaultFailures[3].Missing {
		t.Errorf("a run without fault records: %v, %s, %+v", err, r.Verdict, r.FaultFailures)
	}

	// A violated invariant still fails the run: fail > unknown.
	applyTwice(t, dir)
	if r, err = Check(ctx, dir); err != nil || CodeOfVerdict(r.Verdict) != ExitViolated || len(r.FaultFailures) != 4 {
		t.Errorf("a duplicated effect with failed faults: %v, %s, %+v", err, r.Verdict, r.Results)
	}
}

// The exit-code table says what exit 2 covers.
func TestExitCodesSayFailedFaultsAreInconclusive(t *testing.T) {
	for _, c := range ExitCodes {
		if c.Code == ExitInconclusive && !strings.Contains(c.Meaning, "a planned fault failed to apply or heal") {
			t.Errorf("exit 2 reads %q", c.Meaning)
		}
	}
}

// A run directory whose mscli stopped before the end (no result.json), or whose run
// could not complete, holds partial records: check says so and never passes it, though
// every invariant holds on what was recorded; a violation on them still fails.
func TestCheckPartialRunIsNeverAPass(t *testing.T) {
	ctx := context.Background()
	dir, pl := recordRun(t, "")
	if err := os.Remove(filepath.Join(dir, ResultFile)); err != nil {
		t.Fatal(err)
	}
	r, err := Check(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if invariants.Worst(r.Results) != invariants.Pass || r.Verdict != invariants.Unknown || CodeOfVerdict(r.Verdict) != ExitInconclusive {
		t.Fatalf("cut short: verdict %s over %+v, want unknown with every invariant holding", r.Verdict, r.Results)
	}
	var out bytes.Buffer
	if err := reports.WriteText(&out, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "the run was cut short") {
		t.Errorf("check does not say the run was cut short:\n%s", out.String())
	}
	var junit, md bytes.Buffer
	if err := reports.WriteJUnit(&junit, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(junit.String(), `name="`+reports.CompleteCase+`"`) || !strings.Contains(junit.String(), "the run was cut short") {
		t.Errorf("junit.xml does not show the partial run as an error:\n%s", junit.String())
	}
	if err := reports.WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "The run is incomplete") {
		t.Errorf("the Markdown summary does not say the run is incomplete:\n%s", md.String())
	}

	if err := WriteResults(dir, &reports.Run{Scenario: pl.Scenario, Seed: pl.Seed, Dir: dir, Error: "docker: the engine went away"}); err != nil {
		t.Fatal(err)
	}
	if r, err = Check(ctx, dir); err != nil || r.Verdict != invariants.Unknown || !strings.Contains(reports.VerdictReason(r), "could not complete: docker: the engine went away") {
		t.Fatalf("could not complete: %v, verdict %s, reason %q", err, r.Verdict, reports.VerdictReason(r))
	}

	applyTwice(t, dir)
	if r, err = Check(ctx, dir); err != nil || r.Verdict != invariants.Fail {
		t.Errorf("a violation in partial records: %v, verdict %s, want fail", err, r.Verdict)
	}
}

// applyTwice records the run's first effect a second time: an operation applied twice.
func applyTwice(t *testing.T, dir string) {
	t.Helper()
	effects := filepath.Join(dir, EffectsFile)
	data, err := os.ReadFile(effects)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	if err := os.WriteFile(effects, append(data, append(first, '\n')...), 0o644); err != nil {
		t.Fatal(err)
	}
}
