package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mscli/mscli/testbed/docker"
	"github.com/mscli/mscli/testbed/local"
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
			killed, err := local.Clean(c.Context(), root)
			for _, k := range killed {
				fmt.Fprintln(c.OutOrStdout(), k)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "clean: %d leftover process(es) stopped\n", len(killed))
			ctx, cancel := context.WithTimeout(c.Context(), 3*time.Second)
			_, perr := docker.Ping(ctx, 3*time.Second)
			cancel()
			if perr != nil {
				fmt.Fprintln(c.OutOrStdout(), "clean: no Docker engine answers; no containers to remove")
				return nil
			}
			removed, err := docker.CleanRun(c.Context(), run)
			for _, r := range removed {
				fmt.Fprintln(c.OutOrStdout(), r)
			}
			fmt.Fprintf(c.OutOrStdout(), "clean: %d leftover container(s), network(s) and volume(s) removed\n", len(removed))
			return err
		},
	}
	c.Flags().StringVar(&root, "root", ".", "project folder whose .mscli/runs to clean")
	c.Flags().StringVar(&run, "run", "", "only the containers, networks and volumes of this run id (the run directory's name)")
	return c
}
