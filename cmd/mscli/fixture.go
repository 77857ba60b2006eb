package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/mscli/mscli/plan"

	"github.com/spf13/cobra"

	"github.com/mscli/mscli/fixtures/bank"
	"github.com/mscli/mscli/fixtures/broker"
	"github.com/mscli/mscli/fixtures/toxiproxy"
	"github.com/mscli/mscli/runner"
)

// newFixtureCmd groups the roles the mscli binary plays inside a testbed: the broker
// and the sample services. Testbeds start them; a person rarely does.
func newFixtureCmd() *cobra.Command {
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
			return runner.InvalidInput("name a role: 'mscli fixture broker' or 'mscli fixture bank' (see --help)")
		},
	}
	c.AddCommand(newFixtureBrokerCmd(), newFixtureBankCmd(), newFixtureToxiproxyCmd())
	return c
}

func newFixtureBrokerCmd() *cobra.Command {
	var o broker.Options
	c := &cobra.Command{
		Use:   "broker",
		Short: "A NATS server with JetStream (file storage in --data)",
		Example: `  mscli fixture broker --listen 127.0.0.1:4222 --http 127.0.0.1:8222 --data /tmp/nats
  curl http://127.0.0.1:8222/healthz`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if o.DataDir == "" {
				return runner.InvalidInput("--data is required: the folder JetStream stores its streams in")
			}
			return broker.Run(c.Context(), o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:4222", "client address, host:port")
	f.StringVar(&o.HTTP, "http", "", "address of /healthz and /readyz, host:port (none if empty)")
	f.StringVar(&o.DataDir, "data", "", "JetStream storage folder (required)")
	return c
}

func newFixtureBankCmd() *cobra.Command {
	var o bank.Options
	var listBugs bool
	c := &cobra.Command{
		Use:   "bank",
		Short: "Seed 002's idempotent bank: HTTP commands over JetStream, CQRS with an outbox",
		Long: `bank is the reference service of the bank scenarios: deposits and withdrawals under
caller-chosen operation ids, applied exactly once through JetStream commands, a write model
with an outbox, and a read model built by a projection. Run several replicas against one
database; they share the work as competing consumers.

  PUT /accounts/{acct}/deposits/{op}      {"amount": n}   202 accepted, 503 not accepted,
  PUT /accounts/{acct}/withdrawals/{op}   {"amount": n}   409 id reused with another body
  GET /operations/{op}   GET /accounts/{acct}   GET /effects   GET /healthz   GET /readyz`,
		Example: `  mscli fixture bank --listen 127.0.0.1:8080 --broker nats://127.0.0.1:4222 --db sqlite:///tmp/bank.db
  mscli fixture bank --listen :8081 --broker nats://127.0.0.1:4222 --db postgres://bank:bank@127.0.0.1:5432/bank --replica 1
  mscli fixture bank --list-bugs`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if listBugs {
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "BUG\tCAUGHT BY\tWHAT IT BREAKS")
				fx, _ := plan.LookupFixture(bank.Name)
				for _, b := range fx.Bugs {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", b.Name, b.Breaks, b.What)
				}
				return tw.Flush()
			}
			if _, err := bank.ParseBugs(o.Bugs); err != nil {
				return runner.InvalidInput("%v", err)
			}
			if o.Broker == "" || o.DB == "" {
				return runner.InvalidInput("--broker and --db are required, e.g. --broker nats://127.0.0.1:4222 --db sqlite:///tmp/bank.db")
			}
			return bank.Run(c.Context(), o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "HTTP address, host:port")
	f.StringVar(&o.Broker, "broker", "", "NATS URL, e.g. nats://127.0.0.1:4222")
	f.StringVar(&o.DB, "db", "", "database: sqlite:///path/to/file.db or postgres://user:pass@host:port/db")
	f.IntVar(&o.Replica, "replica", 0, "replica number (logs, broker connection name)")
	f.StringVar(&o.DeadLetterFile, "dead-letter-file", "", "file for dead letters the dead-letter stream cannot take")
	f.StringArrayVar(&o.Bugs, "inject-bug", nil, "switch on a known bug (repeatable; see --list-bugs)")
	f.IntVar(&o.MaxDeliver, "max-deliver", 8, "deliveries of a failing command before it is dead-lettered")
	f.StringVar(&o.Service, "service", "bank", "service name in the effect records")
	f.BoolVar(&listBugs, "list-bugs", false, "list the known bugs and the invariant that catches each")
	return c
}

// checkBugs refuses --inject-bug names that no fixture of the plan knows.
func checkBugs(pl *plan.Plan, bugs []string) error {
	known := map[string]bool{}
	var all []string
	for _, s := range pl.Topology.Services {
		fx, _ := plan.LookupFixture(s.Fixture)
		for _, b := range fx.Bugs {
			if !known[b.Name] {
				known[b.Name] = true
				all = append(all, b.Name)
			}
		}
	}
	for _, b := range bugs {
		if !known[b] {
			return runner.InvalidInput("--inject-bug %q: no fixture of scenario %s knows that bug; known: %s",
				b, pl.Scenario, strings.Join(all, ", "))
		}
	}
	return nil
}

func newFixtureToxiproxyCmd() *cobra.Command {
	var o toxiproxy.Options
	c := &cobra.Command{
		Use:   "toxiproxy",
		Short: "A toxiproxy server (Shopify's library) behind its HTTP API",
		Long: `toxiproxy serves toxiproxy's HTTP API: the docker testbed runs it as a container of
the mscli image and creates one proxy per link through it.`,
		Example: `  mscli fixture toxiproxy --listen 0.0.0.0:8474
  curl http://127.0.0.1:8474/version`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error { return toxiproxy.Run(c.Context(), o) },
	}
	c.Flags().StringVar(&o.Listen, "listen", "127.0.0.1:8474", "API address, host:port")
	c.Flags().BoolVar(&o.Verbose, "verbose", false, "log every connection")
	return c
}
