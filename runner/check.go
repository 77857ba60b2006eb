package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// Check re-judges a recorded run directory offline: it reads the plan and the records,
// runs the plan's invariants, matches the fault records to the plan's faults, and
// returns the result (keeping what result.json said about the run itself, when there
// is one). A planned fault that failed to apply or heal leaves the verdict unknown,
// as in Run, and so does a run that could not complete or has no result.json (cut
// short: its records are partial). It writes nothing.
func Check(ctx context.Context, dir string) (*reports.Run, error) {
	plan, err := ReadPlan(dir)
	if err != nil {
		return nil, InvalidInput("%s is not a run directory: %v", dir, err)
	}
	in, err := LoadRecorded(dir)
	if err != nil {
		return nil, InvalidInput("read run %s: %v", dir, err)
	}
	r, err := reports.ReadFile(filepath.Join(dir, ResultFile))
	if err != nil {
		if !os.IsNotExist(err) {
			return nil, InvalidInput("%v", err)
		}
		r = &reports.Run{Scenario: plan.Scenario, Seed: plan.Seed, Dir: dir,
			Incomplete: "the run was cut short (no " + ResultFile + ": its mscli was stopped before the end); its records are partial"}
	}
	r.Ops = countOps(in.Ops, r.Ops)
	r.Faults = reports.CountFaults(plan.Faults, in.Faults)
	r.FaultFailures = reports.FaultFailures(plan.Faults, in.Faults)
	r.Results = invariants.Check(ctx, in, Specs(plan))
	r.Verdict = reports.RunVerdict(&reports.Run{Results: r.Results, FaultFailures: r.FaultFailures,
		Error: r.Error, Incomplete: r.Incomplete})
	return r, nil
}

// countOps counts operations by outcome; rate and latency are kept from prev when the
// history cannot tell them better.
func countOps(ops []history.Op, prev reports.OpCounts) reports.OpCounts {
	c := reports.OpCounts{Rate: prev.Rate, P50: prev.P50, P99: prev.P99}
	for _, o := range ops {
		c.Add(o.Type)
	}
	return c
}

// describe is a one-line account of a check, for progress output, with the reason
// of a verdict that is no pass.
func describe(r *reports.Run, took time.Duration) string {
	s := fmt.Sprintf("checked %d invariants in %s: %s", len(r.Results), took.Round(time.Millisecond), r.Verdict)
	if why := reports.VerdictReason(r); why != "" {
		s += " — " + why
	}
	return s
}
