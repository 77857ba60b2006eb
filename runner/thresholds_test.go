package runner

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/reports"
)

// mscli check judges a plan's thresholds after its invariants, from the records and
// result.json's convergence: a breach fails a run whose invariants hold, with the
// figure and the bound in the text report; a generous one passes.
func TestCheckJudgesThresholds(t *testing.T) {
	ctx := context.Background()
	dir, pl := recordRun(t, "")
	for _, s := range []string{"p99 < 1ns", "p99 < 30s", "faults-applied == 100%", "converge-time < 5s", "error-rate during faults <= 100%"} {
		th, err := plan.ParseThreshold(s)
		if err != nil {
			t.Fatal(err)
		}
		pl.Thresholds = append(pl.Thresholds, th)
	}
	if err := WritePlan(dir, pl); err != nil {
		t.Fatal(err)
	}
	conv := &reports.Converge{Converged: true, After: 1500 * time.Millisecond, Polls: 16}
	if err := WriteResults(dir, &reports.Run{Scenario: pl.Scenario, Seed: pl.Seed, Dir: dir, Converge: conv}); err != nil {
		t.Fatal(err)
	}
	r, err := Check(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pl.Invariants); len(r.Results) != n+5 || invariants.Worst(r.Results[:n]) != invariants.Pass {
		t.Fatalf("want the %d invariants, passing, then 5 thresholds: %+v", n, r.Results)
	}
	th := r.Results[len(pl.Invariants):]
	// The synthetic history is over within a millisecond, before the first fault:
	// nothing was in flight during one, so that threshold is unknown.
	want := []invariants.Verdict{invariants.Fail, invariants.Pass, invariants.Pass, invariants.Pass, invariants.Unknown}
	for i, res := range th {
		if res.Name != "threshold: "+pl.Thresholds[i].Text || res.Verdict != want[i] {
			t.Errorf("threshold %d: %s %s %q, want %s", i, res.Name, res.Verdict, res.Summary, want[i])
		}
	}
	if s := th[3].Summary; s != "converge-time = 1.5s (after the last heal, 16 polls), bound < 5s" {
		t.Errorf("converge-time from result.json: %q", s)
	}
	if r.Verdict != invariants.Fail || CodeOfVerdict(r.Verdict) != ExitViolated {
		t.Errorf("verdict %s, want fail (exit 1)", r.Verdict)
	}
	var out bytes.Buffer
	if err := reports.WriteText(&out, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FAIL    threshold: p99 < 1ns", ", bound < 1ns", "verdict: FAIL — violated: threshold: p99 < 1ns"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the text report lacks %q:\n%s", want, out.String())
		}
	}

	// Checked again, the same results.
	again, err := Check(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range th {
		a, b := th[i], again.Results[len(pl.Invariants)+i]
		if a.Verdict != b.Verdict || a.Summary != b.Summary {
			t.Errorf("threshold %d judged twice: %q then %q", i, a.Summary, b.Summary)
		}
	}
}
