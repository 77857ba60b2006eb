package plan

import (
	"maps"
	"slices"

	"github.com/mscli/mscli/internal/registry"
)

// Fixture declares a built-in sample service a scenario can name with fixture:: what a
// scenario, the nemesis and the checkers need to know of it without running it. The
// fixture's package registers it (RegisterFixture) beside the code it declares.
type Fixture struct {
	Name string
	Doc  string
	// Streams are the JetStream subject prefixes of its streams, relative to the service
	// ("commands" is "<service>.commands"): what message faults target.
	Streams []string
	// Views are the views its effects endpoint reports ("write", "read"): a view never
	// observed makes the invariants that need it unknown.
	Views []string
	// Workload is the workload kind that drives it.
	Workload string
	// Bugs are its switchable known bugs, each with the invariant that must catch it.
	Bugs []Bug
	// Options are what a scenario may set on a service of this fixture (options:);
	// the testbeds hand each to the fixture as --<name> <value>.
	Options map[string]Param
	// Upstreams says the fixture fronts other services of the system (a gateway): a
	// scenario names them in the service's depends-on, and the testbeds hand each to
	// the fixture as --upstream <service>=<host:port>, the address of the link's proxy.
	Upstreams bool
}

// UpstreamArg is the value of a fixture's --upstream flag: "catalog=127.0.0.1:4711".
func UpstreamArg(service, addr string) string { return service + "=" + addr }

// Bug is a known defect a fixture can be started with (--inject-bug), so that a
// scenario can prove that the invariant meant to catch it does.
type Bug struct {
	Name string `json:"name"`
	// Breaks is the invariant that must catch it.
	Breaks string `json:"breaks"`
	What   string `json:"what,omitempty"`
	// Env switches it on in a user's service (Service.Bugs); a fixture takes
	// --inject-bug instead.
	Env map[string]string `json:"env,omitempty"`
}

var fixtures = registry.New[Fixture]("plan: fixture")

// RegisterFixture declares a fixture. It panics when the name is taken or empty, as
// registrations happen in init.
func RegisterFixture(f Fixture) {
	f.Options = declared("fixture "+f.Name, f.Options)
	fixtures.Register(f.Name, f)
}

// LookupFixture returns a registered fixture's declaration.
func LookupFixture(name string) (Fixture, bool) { return fixtures.Lookup(name) }

// FixtureNames lists the registered fixtures, sorted.
func FixtureNames() []string { return fixtures.Names() }

// OptionArgs are a fixture service's options as the flags its role takes, sorted:
// --style choreographed.
func (s Service) OptionArgs() []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(s.Options)) {
		out = append(out, "--"+k, s.Options[k])
	}
	return out
}
