package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate <file|name>...",
		Short: "Check scenario files and report every error with file:line:col",
		Long: `validate loads each scenario, checks it (unknown keys, types, durations, links and
nodes its faults name, faults on targets their kind cannot act on on any testbed, faults
that end after the scenario) and plans it once. It prints every error as
file:line:col: message and exits 4 if any file is invalid. What only one testbed can
apply is valid; 'mscli run' refuses it on the other.`,
		Example: `  mscli validate scenarios/catalog/*.yaml
  mscli validate bank-idempotency`,
		Args: minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			bad := 0
			for _, a := range args {
				s, err := scenarios.Find(a)
				if err == nil {
					_, err = s.Plan(1)
				}
				if err != nil {
					bad++
					var el scenarios.ErrorList
					if errors.As(err, &el) {
						for _, e := range el {
							fmt.Fprintln(c.ErrOrStderr(), e)
						}
					} else {
						fmt.Fprintf(c.ErrOrStderr(), "%s: %v\n", a, err)
					}
					continue
				}
				fmt.Fprintf(c.OutOrStdout(), "%s: ok\n", a)
			}
			if bad > 0 {
				return exitCode(runner.ExitInvalidInput)
			}
			return nil
		},
	}
}
