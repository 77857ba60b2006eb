package main

import (
	"github.com/spf13/cobra"

	"github.com/mscli/mscli/runner"
)

func newCheckCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "check <run-dir>",
		Short: "Re-check a recorded run's invariants offline",
		Long: `check reads a run directory (plan.json, history.jsonl, faults.jsonl, effects.jsonl),
runs the plan's invariants again, matches the fault records to the planned faults and
prints the verdicts, the faults that failed to apply or heal first. It starts nothing
and writes nothing; the exit code is the verdict's (0 pass, 1 fail, 2 unknown: a
checker returned unknown, a planned fault failed to apply or heal, or the records are
partial — the run could not complete, or has no result.json or a last record cut
short because its mscli was stopped before the end).`,
		Example: `  mscli check .mscli/runs/20261122T101500Z-bank-idempotency-1-3fa2
  mscli check ./run --format json | jq .verdict`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			r, err := runner.Check(c.Context(), args[0])
			if err != nil {
				return err
			}
			if err := render(c.OutOrStdout(), r, format); err != nil {
				return err
			}
			return exitCode(runner.CodeOfVerdict(r.Verdict))
		},
	}
	c.Flags().StringVar(&format, "format", "text", "output format: "+formatNames)
	return c
}

func newReportCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "report <run-dir>",
		Short: "Render a recorded run's result as text, JSON, JUnit XML, Markdown or HTML",
		Example: `  mscli report .mscli/runs/20261122T101500Z-bank-idempotency-1-3fa2
  mscli report ./run --format junit > junit.xml
  mscli report ./run --format html > report.html
  mscli report ./run --format markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			r, err := reportFrom(args[0])
			if err != nil {
				return runner.InvalidInput("%s has no result to report (%v); 'mscli check %s' judges a run without one", args[0], err, args[0])
			}
			return render(c.OutOrStdout(), r, format)
		},
	}
	c.Flags().StringVar(&format, "format", "text", "output format: "+formatNames)
	return c
}
