package main

import (
	"errors"
	"flag"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mscli/mscli/fixtures"
	_ "github.com/mscli/mscli/fixtures/bank" // the roles: each registers itself
	_ "github.com/mscli/mscli/fixtures/broker"
	_ "github.com/mscli/mscli/fixtures/catalog"
	_ "github.com/mscli/mscli/fixtures/gateway"
	_ "github.com/mscli/mscli/fixtures/saga"
	_ "github.com/mscli/mscli/fixtures/telemetry"
	_ "github.com/mscli/mscli/fixtures/toxiproxy"
	"github.com/mscli/mscli/runner"
)

// newFixtureCmd groups the roles the mscli binary plays inside a testbed (the
// fixtures registry): the broker, the toxiproxy server and the sample services.
// Testbeds start them; a person rarely does.
func newFixtureCmd() *cobra.Command {
	var names []string
	for _, r := range fixtures.Roles() {
		names = append(names, "'mscli fixture "+r.Name+"'")
	}
	c := &cobra.Command{
		Use:   "fixture <role>",
		Short: "Run one node of a system under test (the broker, a sample service)",
		Long: `fixture runs one node of the system a scenario tests. Testbeds start these roles
themselves (as child processes, or as the entrypoint of the mscli image); run one by hand
to poke at it. Each role serves /healthz and /readyz and stops cleanly on SIGTERM or ^C.`,
		Example: `  mscli fixture broker --listen 127.0.0.1:4222 --http 127.0.0.1:8222 --data /tmp/nats
  mscli fixture bank --listen 127.0.0.1:8080 --broker nats://127.0.0.1:4222 --db sqlite:///tmp/bank.db
  mscli fixture bank --list-bugs`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return runner.InvalidInput("name a role: %s (see --help)", strings.Join(names, ", "))
		},
	}
	for _, r := range fixtures.Roles() {
		c.AddCommand(newRoleCmd(r))
	}
	return c
}

// newRoleCmd turns a registered role into its command: its flags (declared on a
// standard flag set) and a refusal of them as invalid input.
func newRoleCmd(r fixtures.Role) *cobra.Command {
	fs := flag.NewFlagSet(r.Name, flag.ContinueOnError)
	c := &cobra.Command{
		Use:     r.Name,
		Short:   r.Short,
		Long:    r.Long,
		Example: r.Example,
		Args:    exactArgs(0),
	}
	run := r.Flags(fs, cmdOut{c})
	c.Flags().AddGoFlagSet(fs)
	c.RunE = func(c *cobra.Command, _ []string) error {
		err := run(c.Context())
		if u := (*fixtures.UsageError)(nil); errors.As(err, &u) {
			return runner.InvalidInput("%s", u.Msg)
		}
		return err
	}
	return c
}

// cmdOut writes to the command's output as it is when the role runs (tests set it).
type cmdOut struct{ c *cobra.Command }

func (o cmdOut) Write(b []byte) (int, error) { return o.c.OutOrStdout().Write(b) }
