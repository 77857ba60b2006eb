package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/reports/tui"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
)

type runOptions struct {
	seed     int64
	seeds    string
	runs     int
	parallel int
	failFast bool
	suiteDir string
	dryRun   bool
	testbed  string
	out      string
	bugs     []string
	format   string
	binary   string
	noTUI    bool
}

func newRunCmd() *cobra.Command {
	var o runOptions
	c := &cobra.Command{
		Use:   "run <scenario|file|folder|glob>...",
		Short: "Run a scenario: start the system, drive it, inject faults, check invariants",
		Long: `run loads a scenario (a built-in name from 'mscli list' or a YAML file), plans it
from the seed, starts the system on a testbed, drives the workload while the faults are
applied on the same clock, heals everything, waits for the read models to converge and
checks the invariants. Results go to stdout (--format), progress to stderr; the run
directory (.mscli/runs/<time>-<scenario>-<seed>-<tag>/, see --out) keeps plan.json,
history.jsonl, faults.jsonl, effects.jsonl, result.json, junit.xml, report.html and logs/.

With --dry-run it prints the plan's timeline (topology, workload, every fault with its
start, stop and target, the invariants) and starts nothing. The same file and seed
always give the same plan; timing in a real network still varies, so the plan — not the
outcome — is what the seed reproduces.

--inject-bug switches on a known bug of the fixtures ('mscli list' shows which
invariant each one should trip): the run must then exit 1.

Several scenarios (names, files, folders of them, globs such as 'saga-*'), or several
seeds (--seeds 1-20, or --runs N for N seeds drawn and printed), make a suite: one run
per scenario and seed, --parallel at a time, each with its own testbed, under a suite
directory (<out>/<time>-suite-<tag>/, or --suite-dir) that also holds junit.xml (a test
suite per scenario), summary.md (for a CI job summary) and suite.json. It ends with a
table of seed × verdict, the invariants that failed on which seeds, and the command that
reproduces each failing run; its exit code is the worst of its runs' (interrupted >
invalid input > violated > could not run > inconclusive > ok).`,
		Example: `  mscli run bank-idempotency
  mscli run bank-idempotency --seed 7 --dry-run
  mscli run bank-idempotency --inject-bug double-apply
  mscli run db-loss-restore --testbed docker
  mscli run ./my-scenario.yaml --format json | jq .verdict
  mscli run bank-idempotency db-loss-restore --seeds 1-5 --parallel 2
  mscli run scenarios/ --runs 10 --inject-bug double-apply --format github`,
		Args: minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.checkSweep(c); err != nil {
				return err
			}
			names, err := scenarios.Expand(args)
			if err != nil {
				return runner.InvalidInput("%v", err)
			}
			seeds, err := o.seedList(c)
			if err != nil {
				return err
			}
			if len(names) == 1 && len(seeds) == 1 && o.suiteDir == "" {
				o.seed = seeds[0]
				return runRun(c, names[0], o)
			}
			return runSuite(c, names, seeds, o)
		},
	}
	f := c.Flags()
	f.Int64Var(&o.seed, "seed", 1, "seed for the plan (fault timeline and operation sequence)")
	f.StringVar(&o.seeds, "seeds", "", "run each scenario once per seed: a list of seeds and ranges, such as 1-20 or 1-5,8")
	f.IntVar(&o.runs, "runs", 0, "run each scenario on N seeds drawn at random (and printed)")
	f.IntVar(&o.parallel, "parallel", 1, "runs of a suite at once, each with its own testbed (ports, containers, labels)")
	f.BoolVar(&o.failFast, "fail-fast", false, "start no more runs of a suite once one has not passed")
	f.StringVar(&o.suiteDir, "suite-dir", "", "the suite directory to write (default <out>/<time>-suite-<tag>/); makes even one run a suite")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the planned timeline and start nothing")
	f.StringVar(&o.testbed, "testbed", "auto", "where to run: auto (docker when an engine answers, else local), docker or local")
	f.StringVar(&o.out, "out", runner.DefaultRoot, "folder that receives the run directory")
	f.StringArrayVar(&o.bugs, "inject-bug", nil, "switch on a known fixture bug (repeatable; see 'mscli list')")
	f.StringVar(&o.format, "format", "text", "result format on stdout: "+formatNames)
	f.StringVar(&o.binary, "binary", "", "mscli binary that runs the nodes (default: this one)")
	_ = f.MarkHidden("binary")
	f.BoolVar(&o.noTUI, "no-tui", false, "print timestamped progress lines instead of the live dashboard (the default when stderr is no terminal)")
	return c
}

func runRun(c *cobra.Command, arg string, o runOptions) error {
	s, err := findScenario(arg)
	if err != nil {
		return err
	}
	pl, err := s.Plan(o.seed)
	if err != nil {
		return err
	}
	if _, ok := formats[o.format]; !ok {
		return runner.InvalidInput("unknown format %q: want one of %s", o.format, formatNames)
	}
	if err := runner.CheckBugs(pl, o.bugs); err != nil {
		return err
	}
	if o.dryRun {
		return pl.WriteTimeline(c.OutOrStdout())
	}
	name, tb, why, err := runner.PickTestbedFor(o.testbed, pl)
	if err != nil {
		return err
	}
	stderr := c.ErrOrStderr()
	fmt.Fprintln(stderr, why)
	// A fault this testbed cannot apply is refused now, not recorded as failed later.
	if err := s.CheckTestbed(name); err != nil {
		return err
	}
	res, err := runWithProgress(c.Context(), stderr, o.noTUI, pl, runner.Options{
		Root:        o.out,
		TestbedName: name,
		Testbed:     tb,
		Bugs:        o.bugs,
		Binary:      o.binary,
		Source:      s.Source,
		File:        scenarioFile(arg),
	})
	if res != nil && len(res.Results) > 0 {
		if rerr := render(c.OutOrStdout(), res, o.format); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil {
		if res != nil {
			fmt.Fprintf(stderr, "run directory: %s\n", res.Dir)
		}
		return err
	}
	return exitCode(runner.CodeOfVerdict(reports.RunVerdict(res)))
}

// runWithProgress runs a plan with its progress on stderr: the live dashboard when
// stderr is a terminal and --no-tui was not given, otherwise timestamped lines (CI
// logs, pipes).
func runWithProgress(ctx context.Context, stderr io.Writer, noTUI bool, pl *plan.Plan, o runner.Options) (*reports.Run, error) {
	if noTUI || !tui.IsTerminal(stderr) {
		o.Progress = runner.ProgressLines(stderr)
		return runner.Run(ctx, pl, o)
	}
	return tui.RunLive(ctx, pl, o, func() {
		fmt.Fprintln(stderr, "mscli: interrupted again, exiting without cleanup")
		os.Exit(int(runner.ExitInterrupted))
	}, func(err error) { fmt.Fprintf(stderr, "mscli: %v\n", err) })
}

// findScenario resolves a catalog name or file; whatever goes wrong is the input's fault
// (exit 4), a missing file included.
func findScenario(arg string) (*scenarios.Scenario, error) {
	s, err := scenarios.Find(arg)
	if err != nil {
		var el scenarios.ErrorList
		if errors.As(err, &el) {
			return nil, err
		}
		return nil, runner.InvalidInput("%v", err)
	}
	return s, nil
}
