package main

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mscli/mscli/scenarios"
)

func newListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in scenarios, with the known bugs each one catches",
		Example: `  mscli list
  mscli run bank-idempotency --inject-bug double-apply`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			entries, err := scenarios.Catalog()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SCENARIO\tSUMMARY\tCATCHES (bug → invariant)")
			for _, e := range entries {
				var catches []string
				for bug, inv := range e.Catches {
					catches = append(catches, bug+" → "+inv)
				}
				sort.Strings(catches)
				fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, e.Summary, strings.Join(catches, ", "))
			}
			return tw.Flush()
		},
	}
}
