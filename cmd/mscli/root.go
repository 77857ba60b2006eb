package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mscli/mscli/runner"
)

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "mscli",
		Short: "Run distributed failure scenarios against microservices and check their invariants",
		Long: `mscli starts a broker, databases and services, drives them with a workload that
records a history, injects faults (latency, resets, partitions, kills, pauses, data
loss, duplicate messages), and then checks invariants: idempotency, durability of
acknowledged writes, conservation, ordering and convergence.

Exit codes:
` + exitCodeTable(),
		Example: `  mscli list
  mscli run bank-idempotency --dry-run --seed 7
  mscli validate my-scenario.yaml`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return runner.InvalidInput("%v\nsee '%s --help'", err, c.CommandPath())
	})
	root.AddCommand(
		newVersionCmd(),
		newListCmd(),
		newValidateCmd(),
		newRunCmd(),
		newCheckCmd(),
		newCompareCmd(),
		newShrinkCmd(),
		newReportCmd(),
		newExploreCmd(),
		newCleanCmd(),
		newFixtureCmd(),
		newImagesCmd(),
	)
	return root
}

func exitCodeTable() string {
	var b strings.Builder
	for _, c := range runner.ExitCodes {
		fmt.Fprintf(&b, "  %3d  %s\n", c.Code, c.Meaning)
	}
	return b.String()
}

// exactArgs is cobra.ExactArgs with the error marked as invalid input.
func exactArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(c, args); err != nil {
			return runner.InvalidInput("%v\nsee '%s --help'", err, c.CommandPath())
		}
		return nil
	}
}

func minArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(c, args); err != nil {
			return runner.InvalidInput("%v\nsee '%s --help'", err, c.CommandPath())
		}
		return nil
	}
}
