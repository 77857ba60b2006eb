package testbed

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mscli/mscli/internal/registry"
	"github.com/mscli/mscli/plan"
)

// System is a started testbed: the nodes and links faults act on, and the addresses
// the runner's workload and observers use. It has the methods of runner.System (whose
// first three are chaos.Env's, spelled out here so testbeds never import chaos), so
// either converts to the other.
type System interface {
	// Links resolves a link name to its proxies: "client->bank" is one proxy per bank
	// replica, "bank/1->broker" a single one.
	Links(target string) ([]Link, error)
	// Nodes resolves a node name ("broker", "bank/0", "bank-db"; a service name is
	// every replica of it).
	Nodes(target string) ([]Node, error)
	// BrokerURL is the broker's address for the harness itself, not through a proxy.
	BrokerURL() string
	// Endpoints are the base URLs the workload uses, one per replica, through the
	// client->service proxies.
	Endpoints(service string) []string
	// ObserveURLs are the base URLs of the replicas, reached directly (not through a
	// proxy).
	ObserveURLs(service string) []string
	// DatabaseURL is a DSN that reaches the service's own PostgreSQL database directly
	// from the host (not through a proxy), "" when it has none.
	DatabaseURL(service string) string
	// HostAddr is host:port that reaches a node's container port directly from the
	// host ("db" or "db/0", 5432 → "127.0.0.1:32771"), "" when the testbed cannot say.
	HostAddr(node string, port int) string
	// Down stops everything the testbed started; it is idempotent.
	Down(ctx context.Context) error
}

// CleanOptions say what `mscli clean` looks at.
type CleanOptions struct {
	// Root is the project folder whose .mscli/runs hold the runs' records.
	Root string
	// Run, if set, is the one run id (a run directory's name) to clean up after, for
	// a testbed that can tell runs apart; "" means every run.
	Run string
	// Force removes what a live run (its mscli still running, or on another host)
	// holds too; without it such runs are left alone and said through Note.
	Force bool
	// Note receives a line for each run left alone; nil drops them.
	Note func(line string)
}

// Notef says a line through o.Note, if set.
func (o CleanOptions) Notef(format string, args ...any) {
	if o.Note != nil {
		o.Note(fmt.Sprintf(format, args...))
	}
}

// Unavailable is what a testbed's Clean returns when the testbed is not available
// here, so there is nothing it could clean: clean prints "clean: " and Why, and goes on
// to the next testbed without failing.
type Unavailable struct{ Why string }

func (u *Unavailable) Error() string { return u.Why }

// Testbed declares a testbed: what `--testbed <Name>` runs on, and what `mscli clean`
// cleans after. Each testbed registers its declaration in its own package's init.
type Testbed struct {
	// Name is how --testbed spells it ("local", "docker").
	Name string
	// Doc says in a line what the testbed runs the nodes as.
	Doc string
	// Up starts the system a plan describes. It returns the partial system with an
	// error, so what did start can still be brought down, and a nil System (never a
	// typed nil) when nothing started.
	Up func(ctx context.Context, pl *plan.Plan, opts Options) (System, error)
	// Available says whether the testbed can run here, for --testbed auto: nil error
	// and the line auto prints when it picks this testbed ("testbed: docker (engine
	// 27.1 answers; …)"), or why not. Nil means always available, and auto then
	// prints "testbed: <name>".
	Available func(ctx context.Context) (why string, err error)
	// Priority orders the testbeds for auto, which picks the available one with the
	// highest (ties by name). Clean goes the other way round, from the fallback up.
	Priority int
	// Clean removes what runs that did not end cleanly left behind and returns one
	// line per thing removed; an *Unavailable error says there is nothing it could
	// look at here. Nil means the testbed leaves nothing to clean.
	Clean func(ctx context.Context, o CleanOptions) ([]string, error)
	// Cleaned ends clean's summary line for this testbed, after "clean: <count> ":
	// "leftover process(es) stopped".
	Cleaned string
}

// UpOf adapts a testbed package's Up, which returns its own *Env, to Testbed.Up: a nil
// *Env becomes a nil System, never a typed nil in the interface, so a System that is
// not nil always has something to bring down. It does not compile unless *Env is a
// System.
func UpOf[E any, P interface {
	*E
	System
}](up func(context.Context, *plan.Plan, Options) (P, error)) func(context.Context, *plan.Plan, Options) (System, error) {
	return func(ctx context.Context, pl *plan.Plan, o Options) (System, error) {
		env, err := up(ctx, pl, o)
		if env == nil {
			return nil, err // no typed nil in the interface: nothing to bring down
		}
		return env, err
	}
}

var testbeds = registry.New[Testbed]("testbed: testbed")

// Register makes a testbed available to --testbed and to clean. It panics when the
// name is empty, "auto" or taken, or Up is nil, as registrations happen in init and a
// clash is a bug.
func Register(tb Testbed) {
	switch {
	case tb.Name == "":
		panic("testbed: Register: a testbed needs a name")
	case tb.Name == "auto":
		panic("testbed: Register: \"auto\" is --testbed's choice, not a testbed")
	case tb.Up == nil:
		panic("testbed: Register: testbed " + tb.Name + " has no Up")
	}
	testbeds.Register(tb.Name, tb)
}

// Lookup returns a registered testbed's declaration.
func Lookup(name string) (Testbed, bool) { return testbeds.Lookup(name) }

// Names lists the registered testbeds, sorted.
func Names() []string { return testbeds.Names() }

// All lists the registered testbeds in the order auto tries them: highest Priority
// first, ties by name.
func All() []Testbed {
	all := testbeds.Values()
	slices.SortStableFunc(all, func(a, b Testbed) int { return cmp.Compare(b.Priority, a.Priority) })
	return all
}

// Auto picks the testbed for --testbed auto: it asks the registered testbeds in
// All's order whether they are available and returns the first that is, with the line
// that says why. ctx bounds the asking (a testbed's Available may wait on a daemon).
func Auto(ctx context.Context) (name, why string, err error) { return AutoFor(ctx, nil) }

// AutoFor is Auto among the testbeds can accepts (all, when can is nil): those that
// can start what the run needs.
func AutoFor(ctx context.Context, can func(name string) error) (name, why string, err error) {
	var errs []error
	var skipped []string // what the run needs and a testbed cannot do: the why of the pick
	for _, tb := range All() {
		if can != nil {
			if err := can(tb.Name); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", tb.Name, err))
				skipped = append(skipped, "not "+tb.Name+": "+err.Error())
				continue
			}
		}
		why := ""
		if tb.Available != nil {
			var err error
			if why, err = tb.Available(ctx); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", tb.Name, err))
				continue
			}
		}
		if why == "" || len(skipped) > 0 {
			why = "testbed: " + tb.Name
		}
		if len(skipped) > 0 {
			why += " (" + strings.Join(skipped, "; ") + ")"
		}
		return tb.Name, why, nil
	}
	if len(errs) == 0 {
		return "", "", errors.New("testbed: no testbed is registered")
	}
	return "", "", fmt.Errorf("testbed: no testbed is available here: %w", errors.Join(errs...))
}
