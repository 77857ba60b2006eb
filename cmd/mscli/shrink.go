package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/shrink"
	"github.com/mscli/mscli/suite"
)

type shrinkOptions struct {
	invariant string
	scenario  string
	testbed   string
	binary    string
	o         shrink.Options
}

func newShrinkCmd() *cobra.Command {
	var so shrinkOptions
	c := &cobra.Command{
		Use:   "shrink <run-dir>",
		Short: "Shrink a failing run's fault timeline to the fewest faults that still make it fail",
		Long: `shrink takes a run that failed an invariant and looks for the smallest fault timeline
that still makes it fail: delta debugging (ddmin) over the run's faults, the nemesis'
draws included, then halving the windows of the faults left (down to --min-window).
Every candidate runs with the run's seed, bugs, workload and testbed; since outcomes
vary, each runs up to --tries times and still fails when the invariant fails in at
least --rate of them (a candidate stops as soon as that is decided). Faults keep their
absolute start times, so removing one does not move the others.

The smallest schedule is written as <run-dir>/shrink/scenario.yaml: the run's scenario
file with its faults: replaced by the kept faults, each at its start on its concrete
target, and its nemesis removed (comments elsewhere kept), and dir: set to the folder
of the run's scenario file, so that its relative paths (a service's command, a compose
file) resolve there: the file runs from where it is. It is confirmed by --confirm runs
of that file, loaded from there. <run-dir>/shrink/shrink.json records every candidate and run, and
shrink/runs/ holds their run directories. Progress, with an estimate of the runs and
time left, goes to stderr; --budget bounds the time: when it is up, the shrink stops
and confirms the smallest schedule found by then.

Exit codes: 0 the smallest schedule fails the invariant at the rate in the
confirmation; 1 it does not (the files are written all the same); 3 a run could not
finish, twice; 4 invalid input (a run that did not fail, a flag out of range: 0 is
never a default); 130 interrupted.`,
		Example: `  mscli run bank-idempotency --inject-bug double-apply --testbed local
  mscli shrink .mscli/runs/20261122T101500Z-bank-idempotency-1-3fa2
  mscli shrink ./run --invariant durable --tries 5 --rate 0.6 --budget 1h --parallel 2
  mscli run ./run/shrink/scenario.yaml --seed 1 --inject-bug double-apply`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runShrink(c, args[0], so)
		},
	}
	f := c.Flags()
	f.StringVar(&so.invariant, "invariant", "", "the invariant that must keep failing (default: the first the run failed)")
	f.IntVar(&so.o.Tries, "tries", shrink.DefaultTries, "runs that judge a candidate, at most")
	f.Float64Var(&so.o.Rate, "rate", shrink.DefaultRate, "share of a candidate's runs (and of the confirmation's) that must fail")
	f.IntVar(&so.o.Confirm, "confirm", shrink.DefaultConfirm, "runs of the written scenario that confirm the result")
	f.DurationVar(&so.o.Budget, "budget", shrink.DefaultBudget, "time for the whole shrink; when it is up, confirm what was found")
	f.IntVar(&so.o.Parallel, "parallel", 1, "runs at once")
	f.DurationVar(&so.o.MinWindow, "min-window", shrink.DefaultMinWindow, "shortest window the window pass halves a fault to")
	f.StringVar(&so.testbed, "testbed", "", "where the candidates run (default: the run's testbed)")
	f.StringVar(&so.scenario, "scenario", "", "the scenario file the run was planned from, when the run directory keeps none or does not record its folder")
	f.StringVar(&so.binary, "binary", "", "mscli binary that runs the nodes (default: this one)")
	_ = f.MarkHidden("binary")
	return c
}

func runShrink(c *cobra.Command, dir string, so shrinkOptions) error {
	// The flags hold their defaults unless typed: a 0 typed is refused, not a default.
	if err := so.o.Check(); err != nil {
		return err
	}
	in, err := shrink.Load(dir, so.invariant, so.scenario)
	if err != nil {
		return err
	}
	if so.testbed != "" {
		in.Testbed = so.testbed
	}
	if in.Testbed == "" {
		in.Testbed = "auto"
	}
	name, tb, why, err := runner.PickTestbedFor(in.Testbed, in.Plan)
	if err != nil {
		return err
	}
	in.Testbed = name
	stderr := c.ErrOrStderr()
	fmt.Fprintln(stderr, why)
	so.o.Log = stderr
	so.o.Run = shrink.SuiteRunner(suite.Options{Parallel: so.o.Parallel, TestbedName: name, Testbed: tb, Binary: so.binary}, in.Result.Bugs)
	rep, err := shrink.Shrink(c.Context(), in, so.o)
	if err != nil {
		return err
	}
	out := so.o.Out
	if out == "" {
		out = filepath.Join(dir, shrink.Folder)
	}
	if err := rep.WriteText(c.OutOrStdout(), out); err != nil {
		return err
	}
	if !rep.Confirmed {
		fmt.Fprintf(stderr, "mscli: not confirmed: the schedule failed %s in %d of %d runs, below --rate %v; the failure is rarer than that with these faults (try more --tries, or a lower --rate)\n",
			rep.Invariant, rep.ConfirmFails, rep.Confirm, rep.Rate)
		return exitCode(runner.ExitViolated)
	}
	return nil
}
