package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/mscli/mscli/reports/tui"
	"github.com/mscli/mscli/runner"
)

func newExploreCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "explore [run-dir | runs-root]",
		Short: "Browse recorded runs in the terminal: invariants, witnesses, history, timeline",
		Long: `explore opens a terminal UI on recorded runs. Given a run directory it opens that
run; given any other folder (default ` + runner.DefaultRoot + `) it lists the runs below it
with their scenario, seed, date and verdict.

From a run, open an invariant to see its verdict and witnesses; open a witness to see
the history records around it (the witness's own lines marked) and the faults that
were active at that moment. t shows the run's timeline of operations, errors,
latency and faults; on a saga's witness, s shows that saga's steps and compensations
across its services in time order, with the client's request and the faults between;
/ searches the history by operation id or key; ? lists every key;
esc goes back; q quits. A run of a million operations opens at once: only result.json
is read up front and the history is indexed in the background.`,
		Example: `  mscli explore
  mscli explore .mscli/runs/20261122T101500Z-bank-idempotency-1-3fa2
  mscli explore /tmp/runs`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return runner.InvalidInput("explore takes at most one folder, got %d\nsee '%s --help'", len(args), c.CommandPath())
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			path := runner.DefaultRoot
			if len(args) == 1 {
				path = args[0]
			}
			if _, err := os.Stat(path); err != nil {
				return runner.InvalidInput("%v", err)
			}
			if !tui.IsTerminal(c.ErrOrStderr()) {
				return runner.InvalidInput("explore draws on a terminal and stderr is none; 'mscli report <run-dir>' prints a run's result instead")
			}
			return tui.RunExplorer(c.Context(), path)
		},
	}
}
