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
	c := &cobra.Command{
		Use:   "clean",
		Short: "Remove what killed runs left behind: processes, and containers, networks and volumes",
		Long: `clean finds what runs that did not end cleanly (mscli itself was killed) left behind and
removes it: on the local testbed the nodes' processes — only when provably one of mscli's:
listed in a run's pid file, running 'mscli fixture …', and carrying that run's id —; on
the docker testbed every container, network and volume labelled mscli.run. Run it when no
run is under way.`,
		Example: `  mscli clean
  mscli clean --root /path/to/project
  mscli clean --run 20261122T101500Z-bank-idempotency-1`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			out := c.OutOrStdout()
			opts := testbed.CleanOptions{Root: root, Run: run}
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
	c.Flags().StringVar(&run, "run", "", "only the containers, networks and volumes of this run id (the run directory's name)")
	return c
}
