// Package shrink makes a failing run's fault timeline as small as it can while the
// failure stays: delta debugging (ddmin) over the run's faults, then halving the
// windows of those left, every candidate run again with the run's seed, bugs,
// workload and testbed, several times since outcomes vary, and kept only when it fails
// the same invariant at a stated rate. Faults keep their absolute start times, so
// removing one does not move the others (nor the draws seeded by a fault's start).
// The smallest schedule is written as a scenario file — the run's own, with its
// faults: replaced and its nemesis removed (scenarios.WithFaults) — and confirmed by
// runs of that file. `mscli shrink` is its command; the runs go through package suite.
package shrink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
)

// Defaults of Options.
const (
	DefaultTries     = 3
	DefaultRate      = 0.8
	DefaultConfirm   = 5
	DefaultBudget    = 30 * time.Minute
	DefaultMinWindow = 500 * time.Millisecond
)

// Files and folders of a shrink, under <run-dir>/shrink/.
const (
	Folder       = "shrink"
	ScenarioFile = "scenario.yaml"
	RecordFile   = "shrink.json"
	RunsFolder   = "runs"
)

// Options configure a shrink. A zero Tries, Rate, Confirm, Budget or MinWindow is
// its default; Check says whether values are usable as given, as the command line
// gives them (where 0 is not a default but a mistake).
type Options struct {
	// Tries is how many runs judge a candidate at most (DefaultTries).
	Tries int
	// Rate is the share of a candidate's tries that must fail the invariant for it to
	// still fail, and of the confirmation's runs for the result to be confirmed
	// (DefaultRate).
	Rate float64
	// Confirm is how many runs of the written scenario confirm the result
	// (DefaultConfirm).
	Confirm int
	// Parallel is how many runs go at once (at least 1).
	Parallel int
	// Budget bounds the shrink's time: once another wave of runs and the confirmation
	// would not fit, it stops shrinking and confirms what it has (DefaultBudget).
	Budget time.Duration
	// MinWindow is the shortest window the window pass halves a fault to
	// (DefaultMinWindow).
	MinWindow time.Duration
	// Out is the folder that receives scenario.yaml, shrink.json and runs/ (default
	// <run-dir>/shrink); it must not exist yet.
	Out string
	// Run makes the runs (SuiteRunner).
	Run Runner
	// Log receives the progress lines; may be nil.
	Log io.Writer

	clock func() time.Time // tests
}

func (o Options) now() time.Time {
	if o.clock != nil {
		return o.clock()
	}
	return time.Now()
}

// defaults fills in the zero fields, then checks them.
func (o *Options) defaults() error {
	if o.Tries == 0 {
		o.Tries = DefaultTries
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.Confirm == 0 {
		o.Confirm = DefaultConfirm
	}
	if o.Budget == 0 {
		o.Budget = DefaultBudget
	}
	if o.MinWindow == 0 {
		o.MinWindow = DefaultMinWindow
	}
	o.Parallel = max(o.Parallel, 1)
	if err := o.Check(); err != nil {
		return err
	}
	if o.Run == nil {
		return errors.New("shrink: no Runner")
	}
	return nil
}

// Check says whether the options' values can be used as they are, named as the flags
// of `mscli shrink` name them (invalid input, exit 4): Tries and Confirm from 1 to
// 100, Rate more than 0 and at most 1, Budget and MinWindow more than 0, Parallel at
// least 1.
func (o Options) Check() error {
	switch {
	case o.Tries < 1 || o.Tries > 100:
		return runner.InvalidInput("--tries %d: want 1 to 100", o.Tries)
	case o.Confirm < 1 || o.Confirm > 100:
		return runner.InvalidInput("--confirm %d: want 1 to 100", o.Confirm)
	case o.Rate <= 0 || o.Rate > 1 || math.IsNaN(o.Rate):
		return runner.InvalidInput("--rate %v: want more than 0, at most 1 (the share of a candidate's runs that must fail)", o.Rate)
	case o.Budget <= 0:
		return runner.InvalidInput("--budget %s: want more than 0 (the time for the whole shrink)", o.Budget)
	case o.MinWindow <= 0:
		return runner.InvalidInput("--min-window %s: want more than 0 (the shortest window the window pass halves a fault to)", o.MinWindow)
	case o.Parallel < 1:
		return runner.InvalidInput("--parallel %d: want 1 or more", o.Parallel)
	}
	return nil
}

// Shrink shrinks the failing run in.Dir: ddmin over its faults, the window pass, then
// the confirmation — runs of the scenario file it writes. It returns the record
// (shrink.json), written with scenario.yaml into o.Out, also when it stops on an
// error: the record then says how far it got. The error is for a shrink that could
// not go on (a run that could not finish twice: runner.ExitCouldNotRun; ^C: the
// context's error); the result's Confirmed says whether the schedule failed at the
// rate in the confirmation.
func Shrink(ctx context.Context, in *Input, o Options) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if o.Out == "" {
		o.Out = filepath.Join(in.Dir, Folder)
	}
	// The candidates are read as the file the shrink writes.
	written := filepath.Join(o.Out, ScenarioFile)
	in.File = written
	if _, err := os.Stat(o.Out); err == nil {
		return nil, runner.InvalidInput("%s already exists (an earlier shrink): remove it to shrink again", o.Out)
	}
	runs := filepath.Join(o.Out, RunsFolder)
	if err := os.MkdirAll(runs, 0o755); err != nil {
		return nil, runner.CouldNotRun(err)
	}
	began := o.now()
	all := in.Plan.Faults
	rep := &Report{Run: filepath.Clean(in.Dir), Scenario: in.Plan.Scenario, Seed: in.Plan.Seed, Bugs: in.Result.Bugs, Testbed: in.Testbed,
		Invariant: in.Target, Tries: o.Tries, Rate: o.Rate, Confirm: o.Confirm, Parallel: o.Parallel, Budget: o.Budget,
		Original: len(all)}
	s := &search{n: len(all), windows: make([]bool, len(all)), minFor: plan.Duration(o.MinWindow)}
	for i, f := range all {
		s.windows[i] = f.For > 0
	}
	req := scenarios.Requires(all)
	s.closeFn = func(set []int) []int { return scenarios.Close(set, req) }
	j := &judge{o: o, target: in.Target, search: s, log: o.Log, began: began, deadline: began.Add(o.Budget),
		cache: map[string]bool{}, total: len(all)}
	j.prepare = func(c Candidate, final bool) (Job, error) {
		p, src, err := in.candidate(c, comment(in, c, final, rep))
		return Job{Plan: p, Source: src, Root: runs}, err
	}
	s.test = j.fails
	j.logf("%s seed %d (%s): %d faults; a candidate still fails when %s fails in %d of %d runs; budget %s",
		in.Plan.Scenario, in.Plan.Seed, bugList(in.Result.Bugs), len(all), in.Target, need(o.Rate, o.Tries), o.Tries, o.Budget)

	finish := func(best Candidate, err error) (*Report, error) {
		rep.Steps, rep.Runs = j.steps, j.runs
		rep.Kept = numbers(best.Keep)
		rep.Faults = best.Faults(all)
		rep.Wall = o.now().Sub(began)
		if werr := rep.write(o.Out); werr != nil && err == nil {
			err = runner.CouldNotRun(werr)
		}
		return rep, err
	}

	keep, err := s.ddmin(ctx)
	best := Candidate{Keep: keep}
	if err == nil {
		var short map[int]plan.Duration
		short, err = s.shorten(ctx, keep, all)
		best.Short = short
	}
	if isBudget(err) {
		rep.OutOfBudget = true
		j.logf("the budget (%s) is up: confirming the smallest schedule found so far", o.Budget)
		err = nil
	}
	if err != nil {
		rep.Result = "stopped: " + err.Error()
		return finish(best, err)
	}

	// The confirmation: runs of the scenario file itself, loaded from where it is
	// written, as `mscli run` will load it.
	job, err := j.prepare(best, true)
	if err != nil {
		rep.Result = "stopped: " + err.Error()
		return finish(best, runner.CouldNotRun(fmt.Errorf("write the smallest schedule as a scenario: %w", err)))
	}
	if err := os.WriteFile(written, job.Source, 0o644); err != nil {
		return finish(best, runner.CouldNotRun(err))
	}
	if job, err = confirmJob(written, job); err != nil {
		rep.Result = "stopped: " + err.Error()
		return finish(best, runner.CouldNotRun(err))
	}
	j.logf("confirming %s with %d runs of %s", describe(best, len(all)), o.Confirm, written)
	step := Step{N: len(j.steps) + 1, Phase: "confirm", Faults: numbers(best.Keep), For: shortFor(best.Short)}
	for done := 0; done < o.Confirm; {
		n := min(o.Parallel, o.Confirm-done)
		recs, err := j.run(ctx, job, n)
		step.Runs = append(step.Runs, recs...)
		if err != nil {
			step.Verdict, step.Note = "error", err.Error()
			j.steps = append(j.steps, step)
			rep.Result = "stopped: " + err.Error()
			return finish(best, err)
		}
		for _, r := range recs {
			if r.Failed {
				step.Fails++
			}
		}
		done += n
		j.logf("confirmation: %d of %s failed %s%s", step.Fails, plural(done, "run"), in.Target, j.estimateConfirm(o.Confirm-done))
	}
	rep.ConfirmFails = step.Fails
	rep.Confirmed = step.Fails >= need(o.Rate, o.Confirm)
	step.Verdict = "passes"
	if rep.Confirmed {
		step.Verdict = "fails"
	}
	j.steps = append(j.steps, step)
	rep.Result = fmt.Sprintf("fails %s in %d/%d re-runs", in.Target, step.Fails, o.Confirm)
	return finish(best, nil)
}

// confirmJob is the confirmation's job: the scenario file written at path, loaded and
// planned with the seed as `mscli run <path>` would, which must be the job's plan.
func confirmJob(path string, job Job) (Job, error) {
	s, err := scenarios.Load(path)
	if err != nil {
		return job, fmt.Errorf("the scenario written as %s does not load: %w", path, err)
	}
	p, err := s.Plan(job.Plan.Seed)
	if err != nil {
		return job, fmt.Errorf("the scenario written as %s does not plan: %w", path, err)
	}
	a, _ := p.JSON()
	b, _ := job.Plan.JSON()
	if !bytes.Equal(a, b) {
		return job, fmt.Errorf("the scenario written as %s plans to another plan than the candidate it was written from", path)
	}
	return Job{Plan: p, Source: s.Source, Root: job.Root, File: path}, nil
}

// estimateConfirm is the tail of a confirmation progress line.
func (j *judge) estimateConfirm(left int) string {
	if left <= 0 {
		return ""
	}
	waves := (left + j.o.Parallel - 1) / j.o.Parallel
	return fmt.Sprintf(" — %s left, ~%s", plural(left, "run"), (time.Duration(waves) * j.meanWall()).Round(time.Second))
}

// comment heads the faults: of a candidate's scenario file.
func comment(in *Input, c Candidate, final bool, rep *Report) string {
	what := "A candidate of `mscli shrink`"
	if final {
		what = "The smallest schedule `mscli shrink` found"
	}
	kept := "no fault"
	switch len(c.Keep) {
	case 0:
	case 1:
		kept = "fault " + joinNumbers(numbers(c.Keep))
	default:
		kept = "faults " + joinNumbers(numbers(c.Keep))
	}
	lines := []string{
		fmt.Sprintf("%s: %s of the %d of run", what, kept, len(in.Plan.Faults)),
		fmt.Sprintf("%s (seed %d), each at its own start.", filepath.Base(in.Dir), in.Plan.Seed),
	}
	if in.nemesis {
		lines = append(lines, "The nemesis is removed; those of its draws that were kept are above.")
	}
	lines = append(lines, "Run it with: mscli run <this file> --seed "+fmt.Sprint(in.Plan.Seed)+bugFlags(rep.Bugs))
	return strings.Join(lines, "\n")
}
