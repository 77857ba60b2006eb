package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/suite"
)

// checkSweep refuses flags that contradict each other.
func (o runOptions) checkSweep(c *cobra.Command) error {
	set := func(n string) bool { return c.Flags().Changed(n) }
	switch {
	case set("seed") && set("seeds"), set("seed") && set("runs"), set("seeds") && set("runs"):
		return runner.InvalidInput("give one of --seed, --seeds and --runs")
	case o.parallel < 1:
		return runner.InvalidInput("--parallel %d: want 1 or more", o.parallel)
	}
	return nil
}

// seedList is the seeds to run: --seeds, --runs N drawn now, else --seed.
func (o runOptions) seedList(c *cobra.Command) ([]int64, error) {
	switch {
	case o.seeds != "":
		s, err := suite.ParseSeeds(o.seeds)
		if err != nil {
			return nil, runner.InvalidInput("--%v", err)
		}
		return s, nil
	case c.Flags().Changed("runs"):
		s, err := suite.DrawSeeds(rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0)), o.runs)
		if err != nil {
			return nil, runner.InvalidInput("--%v", err)
		}
		fmt.Fprintf(c.ErrOrStderr(), "seeds drawn: %s (--seeds %s runs them again)\n", joinInts(s), joinInts(s))
		return s, nil
	}
	return []int64{o.seed}, nil
}

func joinInts(s []int64) string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprint(x)
	}
	return strings.Join(out, ",")
}

// runSuite runs every scenario on every seed: every scenario, seed and bug is checked
// before the first run starts, so bad input costs nothing.
func runSuite(c *cobra.Command, names []string, seeds []int64, o runOptions) error {
	if o.format == "html" {
		return runner.InvalidInput("--format html is one run's report: a suite writes each run's report.html in its run directory")
	}
	if _, ok := formats[o.format]; !ok {
		return runner.InvalidInput("unknown format %q: want one of %s", o.format, formatNames)
	}
	stdout, stderr := c.OutOrStdout(), c.ErrOrStderr()
	var (
		jobs    []suite.Job
		entries []suite.Entry
		tbNames = map[string]bool{}
	)
	for _, name := range names {
		s, err := findScenario(name)
		if err != nil {
			return err
		}
		var tbName string
		var tb runner.Testbed
		for i, seed := range seeds {
			pl, err := s.Plan(seed)
			if err != nil {
				return err
			}
			if i == 0 {
				if err := runner.CheckBugs(pl, o.bugs); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
			}
			if i == 0 && !o.dryRun {
				n, t, why, err := runner.PickTestbedFor(o.testbed, pl)
				if err != nil {
					return err
				}
				if err := s.CheckTestbed(n); err != nil {
					return err
				}
				if !tbNames[n] {
					fmt.Fprintln(stderr, why)
				}
				tbName, tb, tbNames[n] = n, t, true
			}
			jobs = append(jobs, suite.Job{Plan: pl, Bugs: o.bugs, Source: s.Source, File: scenarioFile(name), TestbedName: tbName, Testbed: tb})
			entries = append(entries, suite.Entry{Scenario: name, Repro: suite.Repro(name, seed, tbName, o.bugs)})
		}
	}
	if o.dryRun {
		for _, j := range jobs {
			fmt.Fprintf(stdout, "=== %s, seed %d\n", j.Plan.Scenario, j.Plan.Seed)
			if err := j.Plan.WriteTimeline(stdout); err != nil {
				return err
			}
		}
		return nil
	}
	began := time.Now()
	dir, err := suite.NewDir(o.out, o.suiteDir, began)
	if err != nil {
		return runner.CouldNotRun(err)
	}
	rec := &reports.Suite{Dir: dir, Bugs: o.bugs, Started: began.UTC(), Testbed: strings.Join(keys(tbNames), ",")}
	fmt.Fprintf(stderr, "suite: %d scenario(s) × %d seed(s) = %d runs, %d at a time, in %s\n",
		len(names), len(seeds), len(jobs), min(o.parallel, len(jobs)), dir)
	outs := suite.Exec(c.Context(), jobs, suite.Options{
		Root: dir, Parallel: o.parallel, Binary: o.binary, FailFast: o.failFast,
		Progress: suiteProgress(stderr, jobs),
	}, func(oc suite.Outcome) { fmt.Fprintln(stderr, outcomeLine(jobs[oc.Job], oc)) })
	rec.Wall = time.Since(began)
	suite.Record(rec, jobs, entries, outs)
	if err := suite.WriteFiles(rec); err != nil {
		return runner.CouldNotRun(err)
	}
	if err := renderSuite(stdout, rec, o.format); err != nil {
		return err
	}
	return exitCode(runner.ExitCode(rec.Code))
}

// scenarioFile is arg when it names a file, "" for a catalog name.
func scenarioFile(arg string) string {
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		return arg
	}
	return ""
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// suiteProgress prints a suite's progress: each run's phases as it enters them and
// its check line, prefixed with the run — not every record, since several runs share
// the lines.
func suiteProgress(w io.Writer, jobs []suite.Job) func(int, runner.Event) {
	var mu sync.Mutex
	last := make([]runner.Phase, len(jobs))
	return func(i int, ev runner.Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Phase == last[i] && ev.Phase != runner.PhaseCheck {
			return
		}
		last[i] = ev.Phase
		fmt.Fprintf(w, "%s [%s] %7.2fs %-9s %s\n", time.Now().Format("15:04:05"), suite.Label(jobs[i]), ev.At.Seconds(), ev.Phase, ev.Msg)
	}
}

// outcomeLine says how one run of a suite ended.
func outcomeLine(j suite.Job, oc suite.Outcome) string {
	label := suite.Label(j)
	switch {
	case oc.Skipped != "":
		return fmt.Sprintf("%s [%s] skipped: %s", time.Now().Format("15:04:05"), label, oc.Skipped)
	case oc.Run == nil:
		return fmt.Sprintf("%s [%s] exit %d: %v", time.Now().Format("15:04:05"), label, oc.Code, oc.Err)
	}
	v := strings.ToUpper(string(reports.RunVerdict(oc.Run)))
	why := reports.VerdictReason(oc.Run)
	if oc.Err != nil {
		why = oc.Err.Error()
	}
	line := fmt.Sprintf("%s [%s] %s, exit %d, in %s: %s", time.Now().Format("15:04:05"), label, v, oc.Code, oc.Run.Wall.Round(time.Second), oc.Run.Dir)
	if why != "" {
		line += " — " + why
	}
	return line
}

// renderSuite writes the suite's result on stdout in the --format asked for.
func renderSuite(w io.Writer, s *reports.Suite, format string) error {
	switch format {
	case "json":
		return suite.WriteJSON(w, s)
	case "junit":
		return reports.WriteSuiteJUnit(w, s)
	case "markdown":
		return reports.WriteSuiteMarkdown(w, s)
	case "github":
		var runs []*reports.Run
		for _, r := range s.Runs {
			if r.Run != nil {
				runs = append(runs, r.Run)
			}
		}
		if err := reports.WriteGitHub(w, runs...); err != nil {
			return err
		}
	}
	return reports.WriteSuiteText(w, s)
}
