package shrink

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/suite"
)

// Report is a shrink's record, shrink.json: what it started from, every candidate it
// judged with its runs, what it kept and how the confirmation went.
type Report struct {
	Run       string        `json:"run"` // the run directory shrunk
	Scenario  string        `json:"scenario"`
	Seed      int64         `json:"seed"`
	Bugs      []string      `json:"bugs,omitempty"`
	Testbed   string        `json:"testbed"`
	Invariant string        `json:"invariant"`
	Tries     int           `json:"tries"`
	Rate      float64       `json:"rate"`
	Confirm   int           `json:"confirm"`
	Parallel  int           `json:"parallel"`
	Budget    time.Duration `json:"budget_ns"`
	Original  int           `json:"original_faults"`
	// Kept are the kept faults' numbers in the run's timeline (from 1, as `mscli run
	// --dry-run` lists them); Faults are the faults, windows as shortened.
	Kept   []int        `json:"kept"`
	Faults []plan.Fault `json:"faults"`
	Steps  []Step       `json:"steps"`
	// Runs counts every run made, the confirmation's included; Wall is the shrink's
	// time from start to end.
	Runs        int           `json:"runs"`
	Wall        time.Duration `json:"wall_ns"`
	OutOfBudget bool          `json:"out_of_budget,omitempty"`
	// ConfirmFails of Confirm runs of scenario.yaml failed the invariant; Confirmed
	// when that is at the rate.
	ConfirmFails int    `json:"confirm_fails"`
	Confirmed    bool   `json:"confirmed"`
	Result       string `json:"result"`
}

// Step is one candidate judged (or the confirmation).
type Step struct {
	N      int                      `json:"step"`
	Phase  string                   `json:"phase"`  // ddmin, window, confirm
	Faults []int                    `json:"faults"` // numbers in the run's timeline
	For    map[string]plan.Duration `json:"for,omitempty"`
	Runs   []RunRecord              `json:"runs,omitempty"`
	Fails  int                      `json:"fails"`
	// Verdict: fails (still fails at the rate), passes, invalid (the scenario format
	// refuses the candidate), out of budget, error.
	Verdict string `json:"verdict"`
	Note    string `json:"note,omitempty"`
}

// RunRecord is one run of a candidate.
type RunRecord struct {
	Dir     string        `json:"dir,omitempty"`
	Verdict string        `json:"verdict,omitempty"` // the run's
	Target  string        `json:"target"`            // the invariant's
	Failed  bool          `json:"failed"`
	Wall    time.Duration `json:"wall_ns"`
	Error   string        `json:"error,omitempty"`
}

func (r *Report) write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, RecordFile), append(b, '\n'), 0o644)
}

// WriteText writes the result for a person: what was kept, the confirmation, the
// runs and time it took, and where the files are.
func (r *Report) WriteText(w io.Writer, out string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s seed %d: %d of %d faults kept\n", r.Scenario, r.Seed, len(r.Faults), r.Original)
	for i, f := range r.Faults {
		stop := "instant"
		if f.For > 0 {
			stop = "for " + f.For.String()
		}
		fmt.Fprintf(&b, "  #%-3d at %-8s %-12s %-9s %s\n", r.Kept[i], f.At, stop, f.Kind, f.Target)
	}
	if r.OutOfBudget {
		fmt.Fprintf(&b, "the budget (%s) ran out before the shrink was done: this is the smallest schedule found by then\n", r.Budget)
	}
	fmt.Fprintf(&b, "%s (%d runs, %s)\n", r.Result, r.Runs, r.Wall.Round(time.Second))
	fmt.Fprintf(&b, "scenario: %s\nrecord:   %s\n", filepath.Join(out, ScenarioFile), filepath.Join(out, RecordFile))
	_, err := io.WriteString(w, b.String())
	return err
}

// SuiteRunner makes a shrink's runs with package suite: n jobs of the same plan, with
// the bugs switched on, o.Root set to the job's.
func SuiteRunner(o suite.Options, bugs []string) Runner {
	return func(ctx context.Context, j Job, n int) []Trial {
		jobs := make([]suite.Job, n)
		for i := range jobs {
			jobs[i] = suite.Job{Plan: j.Plan, Bugs: bugs, Source: j.Source, File: j.File}
		}
		so := o
		so.Root = j.Root
		so.Parallel = max(so.Parallel, n)
		out := make([]Trial, 0, n)
		for _, oc := range suite.Exec(ctx, jobs, so, nil) {
			t := Trial{Run: oc.Run, Err: oc.Err}
			if oc.Skipped != "" && t.Err == nil {
				t.Err = ctx.Err()
				if t.Err == nil {
					t.Err = fmt.Errorf("the run was skipped")
				}
			}
			out = append(out, t)
		}
		return out
	}
}

func joinNumbers(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprintf("#%d", n)
	}
	return strings.Join(parts, " ")
}

func bugFlags(bugs []string) string {
	var b strings.Builder
	for _, bug := range bugs {
		b.WriteString(" --inject-bug " + bug)
	}
	return b.String()
}

func bugList(bugs []string) string {
	if len(bugs) == 0 {
		return "no bugs injected"
	}
	return "bugs: " + strings.Join(bugs, ", ")
}
