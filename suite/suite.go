// Package suite runs many runs as one: several scenarios, each over several seeds, some
// at once, for a CI gate. It is a client of runner: each run is runner.Run in a run
// directory of its own (its own testbed, ports, containers and labels), and the
// suite's record (reports.Suite) is what its reports render — one JUnit file with a
// test suite per scenario, one Markdown summary, a seed × verdict table and the command
// that reproduces each failing run. mscli shrink runs its candidates through Exec too.
package suite

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
)

// Job is one run to make: a plan (a scenario planned from one seed) and the bugs to
// switch on.
type Job struct {
	Plan *plan.Plan
	Bugs []string
	// Source is the scenario file's text, kept in the run directory when set.
	Source []byte
	// File is the scenario file as the command line named it ("" for a catalog one).
	File string
	// TestbedName and Testbed, when set, run this job instead of Options' testbed (a
	// suite's scenarios may each need another).
	TestbedName string
	Testbed     runner.Testbed
}

// Options configure Exec.
type Options struct {
	// Root is the folder that receives the run directories.
	Root string
	// Parallel is how many runs go at once (at least 1).
	Parallel    int
	TestbedName string
	Testbed     runner.Testbed
	// Binary is the mscli binary the testbed runs nodes from (default: this one).
	Binary string
	// FailFast starts no more runs once one has ended with any exit code but 0; the
	// runs not started are reported skipped (Outcome.Skipped).
	FailFast bool
	// Progress receives every event of every run, with the job's index; may be nil. It
	// is called from several goroutines.
	Progress func(job int, ev runner.Event)
	// Run makes one run (runner.Run when nil): a test's seam, and the shape of one.
	Run func(ctx context.Context, pl *plan.Plan, o runner.Options) (*reports.Run, error)
}

// Outcome is how one job ended.
type Outcome struct {
	Job  int
	Run  *reports.Run // nil when the run could not start (Err says why) or was skipped
	Code runner.ExitCode
	Err  error
	// Skipped says why a job did not start, "" when it did: SkippedFailFast (its code
	// is 0: the run that stopped the suite gives the suite's) or SkippedInterrupted
	// (ExitInterrupted).
	Skipped string
}

// Why a job was skipped (Outcome.Skipped).
const (
	SkippedFailFast    = "an earlier run did not pass and --fail-fast was given"
	SkippedInterrupted = "interrupted before it started"
)

// Exec runs the jobs, at most o.Parallel at once, and returns their outcomes in the
// jobs' order; done, when not nil, sees each outcome as it ends (from one goroutine at a
// time). A cancelled ctx stops every run (each brings its testbed down) and leaves the
// jobs not yet started skipped.
func Exec(ctx context.Context, jobs []Job, o Options, done func(Outcome)) []Outcome {
	par := max(o.Parallel, 1)
	run := o.Run
	if run == nil {
		run = runner.Run
	}
	out := make([]Outcome, len(jobs))
	var (
		mu      sync.Mutex
		stopped bool
		wg      sync.WaitGroup
	)
	next := make(chan int)
	for range min(par, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				mu.Lock()
				failFast := stopped
				mu.Unlock()
				var oc Outcome
				switch {
				case ctx.Err() != nil:
					oc = Outcome{Job: i, Skipped: SkippedInterrupted, Code: runner.ExitInterrupted}
				case failFast:
					oc = Outcome{Job: i, Skipped: SkippedFailFast}
				default:
					oc = one(ctx, i, jobs[i], o, run)
				}
				mu.Lock()
				out[i] = oc
				if o.FailFast && oc.Skipped == "" && oc.Code != runner.ExitOK {
					stopped = true
				}
				if done != nil {
					done(oc)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// one makes one run and says how it ended.
func one(ctx context.Context, i int, j Job, o Options, run func(context.Context, *plan.Plan, runner.Options) (*reports.Run, error)) Outcome {
	ro := runner.Options{
		Root:        o.Root,
		TestbedName: o.TestbedName,
		Testbed:     o.Testbed,
		Bugs:        j.Bugs,
		Binary:      o.Binary,
		Source:      j.Source,
		File:        j.File,
	}
	if j.Testbed != nil {
		ro.TestbedName, ro.Testbed = j.TestbedName, j.Testbed
	}
	if o.Progress != nil {
		ro.Progress = func(ev runner.Event) { o.Progress(i, ev) }
	}
	res, err := run(ctx, j.Plan, ro)
	oc := Outcome{Job: i, Run: res, Err: err}
	switch {
	case err != nil:
		oc.Code = runner.CodeOf(err)
		if oc.Code == runner.ExitCouldNotRun && ctx.Err() != nil {
			oc.Code = runner.ExitInterrupted
		}
		if res != nil && res.Error == "" {
			res.Error = err.Error()
		}
	case res == nil:
		oc.Err = errors.New("the run returned no result")
		oc.Code = runner.ExitCouldNotRun
	default:
		// As the reports judge it: partial records are never a pass.
		oc.Code = runner.CodeOfVerdict(reports.RunVerdict(res))
	}
	// ^C while it ran (its checks, its teardown): the run was interrupted, whatever it
	// judged.
	if ctx.Err() != nil {
		oc.Code = runner.Worst(oc.Code, runner.ExitInterrupted)
	}
	return oc
}

// Code is the suite's exit code: its worst run's (runner.Worst), a run skipped by ^C
// counting as interrupted. A suite of no run is no pass: inconclusive.
func Code(outs []Outcome) runner.ExitCode {
	if len(outs) == 0 {
		return runner.ExitInconclusive
	}
	codes := make([]runner.ExitCode, 0, len(outs))
	for _, oc := range outs {
		codes = append(codes, oc.Code)
	}
	return runner.Worst(codes...)
}

// Label names a job in progress lines: "bank-idempotency#3".
func Label(j Job) string { return fmt.Sprintf("%s#%d", j.Plan.Scenario, j.Plan.Seed) }
