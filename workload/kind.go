package workload

import (
	"context"
	"net/http"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/registry"
	"github.com/mscli/mscli/plan"
)

// Kind is a kind of workload: what its operations are and how one attempt reaches the
// service. The Runner does the rest the same way for every kind: the rate, the closed
// loop of clients, retries with back-off, the records and the final reads.
type Kind interface {
	// Openings are operations done once, before the mix (the bank opens its accounts).
	Openings(w plan.Workload) []Planned
	// Generator draws client proc's operations from the plan's seed.
	Generator(w plan.Workload, proc int) func() Planned
	// Send makes one attempt of a write operation against one endpoint.
	Send(ctx context.Context, c *http.Client, endpoint string, op Planned, timeout time.Duration) Attempt
	// Read reads one key through the service's public API, with what it saw.
	Read(ctx context.Context, c *http.Client, endpoint, key string, timeout time.Duration) (Attempt, history.Observed)
	// Keys are every key of the workload, read once after convergence.
	Keys(w plan.Workload) []string
}

// Checker is the optional interface of kinds that refuse a workload they cannot run
// (the bank needs at least one account). Scenario validation calls it too
// (plan.WorkloadKind.Check): a *plan.ParamError in what it returns names the item of a
// structured parameter at fault.
type Checker interface {
	Check(w plan.Workload) error
}

// Binder is the optional interface of kinds whose operations the workload's parameters
// declare (http): the Runner calls Bind once per run, after Check, and drives the kind
// it returns, which holds what it compiled from them (Send and Read see no workload).
type Binder interface {
	Bind(w plan.Workload) (Kind, error)
}

// OpReader is the optional interface of kinds with several read operations (http): the
// Runner hands it the planned read, not only its key. The final reads hand it
// Planned{F: FRead, Key: key}.
type OpReader interface {
	ReadOp(ctx context.Context, c *http.Client, endpoint string, op Planned, timeout time.Duration) (Attempt, history.Observed)
}

var kinds = registry.New[Kind]("workload: kind")

// Register makes a workload kind available by name: its declaration, which scenarios
// validate against, and its implementation. It panics when the name is taken, as
// registrations happen in init.
func Register(decl plan.WorkloadKind, k Kind) {
	if c, ok := k.(Checker); ok && decl.Check == nil {
		decl.Check = c.Check
	}
	kinds.RegisterWith(decl.Name, k, func() { plan.RegisterWorkloadKind(decl) })
}

// Lookup returns the kind registered under name.
func Lookup(name string) (Kind, bool) { return kinds.Lookup(name) }
