package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/mscli/mscli/testbed"
)

func newCleanCmd() *cobra.Command {
	var root, run string
	var force bool
	c := &cobra.Command{
		Use:   "clean",
		Short: "Remove what killed runs left behind: processes, and containers, networks and volumes",
		Long: `clean finds what runs that did not end cleanly (mscli itself was killed) left behind and
removes it: on the local testbed the nodes' processes — only when provably one of mscli's:
listed in a run's pid file, running 'mscli fixture …', and carrying that run's id —; on
the docker testbed the containers, networks, volumes and built images labelled mscli.run.
Every run records its owner (the mscli process, its host and start time): a run whose
mscli is still running, or ran on another host sharing the engine, is left alone and
said so, so a clean in one CI job never breaks another's run (on Linux: elsewhere no
owner is recorded). --force removes those too.`,
		Example: `  mscli clean
  mscli clean --root /path/to/project
  mscli clean --run 20261122T101500Z-bank-idempotency-1-3fa2
  mscli clean --force`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			out := c.OutOrStdout()
			opts := testbed.CleanOptions{Root: root, Run: run, Force: force,
				Note: func(line string) { fmt.Fprintln(out, "clean: "+line) }}
			var errs []error
			// From the fallback up (local, then docker): the reverse of auto's order.
			for _, tb := range slices.Backward(testbed.All()) {
				if tb.Clean == nil {
					continue
				}
				removed, err := tb.Clean(c.Context(), opts)
				var unavailable *testbed.Unavailable
				if errors.As(err, &unavailable) {
					fmt.Fprintln(out, "clean: "+unavailable.Why)
					continue
				}
				for _, r := range removed {
					fmt.Fprintln(out, r)
				}
				if err == nil || len(removed) > 0 {
					fmt.Fprintf(out, "clean: %d %s\n", len(removed), tb.Cleaned)
				}
				if err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
	}
	c.Flags().StringVar(&root, "root", ".", "project folder whose .mscli/runs to clean")
	c.Flags().BoolVar(&force, "force", false, "also remove what live runs hold (their mscli still running, or on another host)")
	c.Flags().StringVar(&run, "run", "", "only what this run id (the run directory's name) left: its processes, containers, networks and volumes")
	return c
}
