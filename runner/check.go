package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/reports"
)

// Check re-judges a recorded run directory offline: it reads the plan and the records,
// runs the plan's invariants, matches the fault records to the plan's faults, and
// returns the result (keeping what result.json said about the run itself, when there
// is one). A planned fault that failed to apply or heal leaves the verdict unknown,
// as in Run, and so does a run that could not complete or has no result.json (cut
// short: its records are partial), as does a file of records whose last line is torn
// (TornRecords). It writes nothing.
func Check(ctx context.Context, dir string) (*reports.Run, error) {
	plan, err := ReadPlan(dir)
	if err != nil {
		return nil, InvalidInput("%s is not a run directory: %v", dir, err)
	}
	in, err := LoadRecorded(dir)
	var torn *TornRecords
	if err != nil && !errors.As(err, &torn) {
		return nil, InvalidInput("read run %s: %v", dir, err)
	}
	r, err := reports.ReadFile(filepath.Join(dir, ResultFile))
	var syntax *json.SyntaxError
	switch {
	case err != nil && !os.IsNotExist(err) && !errors.As(err, &syntax) && !errors.Is(err, io.ErrUnexpectedEOF):
		return nil, InvalidInput("%v", err)
	case err != nil:
		why := "no " + ResultFile + ": its mscli was stopped before the end"
		if !os.IsNotExist(err) { // a result.json cut off as it was written (a full disk)
			why = ResultFile + " is cut off: " + err.Error()
		}
		r = &reports.Run{Scenario: plan.Scenario, Seed: plan.Seed, Dir: dir,
			Incomplete: "the run was cut short (" + why + "); its records are partial"}
		if torn != nil {
			r.Incomplete += ": " + torn.Error()
		}
	case torn != nil && r.Incomplete != "":
		r.Incomplete += "; " + torn.Error()
	case torn != nil:
		r.Incomplete = "the run was cut short: " + torn.Error()
	case r.Error != "" && r.Incomplete == "":
		r.Incomplete = cutShort(r.Error) // a result.json of an mscli before Incomplete was set on errors
	}
	r.Ops = countOps(in.Columns(), r.Ops)
	r.Faults = reports.CountFaults(plan.Faults, in.Faults)
	r.FaultFailures = reports.FaultFailures(plan.Faults, in.Faults)
	ix := invariants.NewIndex(in) // built once: the invariants and the thresholds read it
	r.Results = invariants.CheckIndex(ctx, ix, Specs(plan))
	if len(plan.Thresholds) > 0 {
		r.Results = append(r.Results, invariants.CheckThresholds(ix, plan.Thresholds, thresholdFacts(plan, r))...)
	}
	r.Verdict = reports.RunVerdict(&reports.Run{Results: r.Results, FaultFailures: r.FaultFailures,
		Error: r.Error, Incomplete: r.Incomplete})
	return r, nil
}

// thresholdFacts are what the thresholds' metrics read beyond the records: the plan,
// the planned faults applied and healed (res.Faults), and the wait for the read
// models (res.Converge; result.json's for a re-check).
func thresholdFacts(pl *plan.Plan, res *reports.Run) invariants.RunFacts {
	f := invariants.RunFacts{Plan: pl, FaultsPlanned: res.Faults.Planned, FaultsHealed: res.Faults.Healed}
	if c := res.Converge; c != nil {
		f.Converge = &invariants.Convergence{Converged: c.Converged, After: c.After, Polls: c.Polls}
	}
	return f
}

// countOps counts operations by outcome; rate and latency are kept from prev when the
// history cannot tell them better.
func countOps(recs *history.Records, prev reports.OpCounts) reports.OpCounts {
	c := reports.OpCounts{Rate: prev.Rate, P50: prev.P50, P99: prev.P99}
	for i := range recs.NumOps() {
		c.Add(recs.OpType(i))
	}
	return c
}

// describe is a one-line account of a check, for progress output, with the reason
// of a verdict that is no pass.
func describe(r *reports.Run, took time.Duration) string {
	n := 0 // thresholds
	for _, res := range r.Results {
		if strings.HasPrefix(res.Name, invariants.ThresholdPrefix) {
			n++
		}
	}
	what := fmt.Sprintf("%d invariants", len(r.Results)-n)
	if n > 0 {
		what += fmt.Sprintf(" and %d thresholds", n)
	}
	s := fmt.Sprintf("checked %s in %s: %s", what, took.Round(time.Millisecond), r.Verdict)
	if why := reports.VerdictReason(r); why != "" {
		s += " — " + why
	}
	return s
}
