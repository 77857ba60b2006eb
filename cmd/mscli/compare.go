package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/suite"
)

func newCompareCmd() *cobra.Command {
	var format, tolerance string
	c := &cobra.Command{
		Use:   "compare <baseline-run-dir> <run-dir> | <baseline-suite-dir> <suite-dir>",
		Short: "Set a run's figures and verdicts beside a baseline run's; exit 1 on a regression",
		Long: `compare reads the result.json of two run directories and prints their figures side
by side with the change: ops/s, ok/fail/info counts, p50 and p99 latency, the time to
converge, faults applied (and healed) of planned, each invariant's and threshold's verdict and
violations (matched by name), and the verdict. Runs of different scenarios, testbeds
or injected bugs are compared with a warning.

It is a gate on regressions against a baseline run: the exit code is 1 when ops/s fell,
or p50, p99 or the time to converge rose, by more than --tolerance; when the run did
not converge and the baseline did; when an invariant or threshold that passed in the
baseline fails, is unknown or was not checked now, or has more violations; or when the
verdict is worse (pass, unknown, fail). Otherwise 0. The figures that breached are
named last. A directory without result.json is invalid input (4).

Two suite directories (mscli run with several seeds) are compared scenario by
scenario, each as the median of its runs over their seeds (checks: their worst verdict,
violations summed): one run against another varies too much on a shared machine for a
gate on latency, the median of a sweep much less. A scenario of the baseline that the
suite did not run is a regression.`,
		Example: `  mscli compare .mscli/runs/20261122T101500Z-bank-idempotency-1-3fa2 .mscli/runs/20261123T091200Z-bank-idempotency-1-77c0
  mscli compare baseline/ run/ --tolerance 10%
  mscli compare baseline/ run/ --format markdown >> "$GITHUB_STEP_SUMMARY"
  mscli compare baseline-suite/ mscli-suite/ --tolerance 15%`,
		Args: exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			tol, err := reports.ParseTolerance(tolerance)
			if err != nil {
				return runner.InvalidInput("--tolerance: %v", err)
			}
			if !validComparisonFormat(format) {
				return runner.InvalidInput("unknown format %q: want one of %s", format, strings.Join(reports.ComparisonFormats, "|"))
			}
			if isSuiteDir(args[0]) || isSuiteDir(args[1]) {
				return compareSuites(c.OutOrStdout(), args[0], args[1], tol, format)
			}
			base, err := comparedRun(args[0])
			if err != nil {
				return err
			}
			cur, err := comparedRun(args[1])
			if err != nil {
				return err
			}
			cmp := reports.Compare(base, cur, tol)
			if err := reports.WriteComparison(c.OutOrStdout(), cmp, format); err != nil {
				return err
			}
			if cmp.Regressed() {
				return exitCode(runner.ExitViolated)
			}
			return nil
		},
	}
	c.Flags().StringVar(&format, "format", "text", "output format: "+strings.Join(reports.ComparisonFormats, "|"))
	c.Flags().StringVar(&tolerance, "tolerance", "20%", "how far ops/s may fall, and p50, p99 and the time to converge may rise, before it is a regression")
	return c
}

func validComparisonFormat(f string) bool {
	for _, k := range reports.ComparisonFormats {
		if f == k {
			return true
		}
	}
	return false
}

// comparedRun reads a run directory's result.json; anything else is invalid input,
// with what to pass instead.
func comparedRun(dir string) (*reports.Run, error) {
	r, err := reportFrom(dir)
	if err == nil {
		return r, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		if st, serr := os.Stat(dir); serr != nil || !st.IsDir() {
			return nil, runner.InvalidInput("%s is no run directory: pass one under %s (<time>-<scenario>-<seed>-<tag>/)", dir, runner.DefaultRoot)
		}
		return nil, runner.InvalidInput("%s has no %s: compare needs a run that finished; a run stopped before the end has none (run it again; 'mscli check %s' judges what it recorded)", dir, runner.ResultFile, dir)
	}
	return nil, runner.InvalidInput("%s: %v: its %s cannot be read; run the scenario again for a new baseline", dir, err, runner.ResultFile)
}

func isSuiteDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, suite.SuiteFile))
	return err == nil
}

// compareSuites compares two suite directories (reports.CompareSuites).
func compareSuites(w io.Writer, baseDir, curDir string, tol float64, format string) error {
	var ss [2]*reports.Suite
	for i, dir := range []string{baseDir, curDir} {
		if !isSuiteDir(dir) {
			return runner.InvalidInput("%s is no suite directory (no %s): compare a suite with a suite, or a run with a run", dir, suite.SuiteFile)
		}
		s, err := suite.ReadFile(dir)
		if err != nil {
			return runner.InvalidInput("%v", err)
		}
		ss[i] = s
	}
	cmps := reports.CompareSuites(ss[0], ss[1], tol)
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(cmps); err != nil {
			return err
		}
	} else {
		for i, c := range cmps {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if err := reports.WriteComparison(w, c, format); err != nil {
				return err
			}
		}
	}
	for _, c := range cmps {
		if c.Regressed() {
			return exitCode(runner.ExitViolated)
		}
	}
	return nil
}
