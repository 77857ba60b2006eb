package scenarios

import (
	"maps"
	"slices"
	"time"

	"github.com/mscli/mscli/plan"
)

// Scenario is a scenario file, checked: what the author wrote, with defaults filled in,
// before anything is drawn from a seed. Plan turns it into what a run executes.
//
// A Scenario may also be built in Go (a user's go test); Validate then checks it and
// Plan refuses an invalid one.
type Scenario struct {
	// File is where the scenario came from; errors name it.
	File string
	// Source is the file's bytes as Parse read them, nil for a Scenario built in Go: a
	// run keeps them beside its plan (runner.Options.Source), so that what ran can be
	// planned again and rewritten (WithFaults).
	Source []byte
	// Dir is the absolute folder the file's relative paths (a service's command,
	// system.compose) resolve against and its commands run in: the file's own, or its
	// dir:. "" for a Scenario built in Go or parsed without a file name.
	Dir      string
	Name     string
	Summary  string
	Duration plan.Duration
	System   System
	// Workload has the defaults (DefaultWorkload) for every common key the file leaves
	// out, and the kind's parameters the file gives (Plan fills in the kind's defaults);
	// its Seed is ignored, Plan sets it.
	Workload plan.Workload
	// Faults are the hand-written faults, in file order.
	Faults []FaultSpec
	// Nemesis draws more faults from the seed; nil when there is none.
	Nemesis    *Nemesis
	Invariants []plan.Invariant
	// Catches maps a known bug of the fixtures to the invariant that must catch it: the
	// scenario's claim, tested by running it against the fixture with that bug switched on.
	Catches map[string]string
	// Thresholds bound metrics of the run, each as written: "<metric> [during faults]
	// <op> <bound>" (plan.ParseThreshold), e.g. "p99 < 2s".
	Thresholds []string

	// pos maps a structural path ("faults[1].for") to where it is written, so that checks
	// made after decoding still report file:line:col; bad holds the paths that already
	// failed to decode, so a broken value is reported once, not again by every check that
	// depends on it. Both are empty for a Scenario built in Go.
	pos map[string]position
	bad map[string]bool
}

// System is the system under test.
type System struct {
	Broker string // "nats"
	// Services are sorted by name, so the plan does not depend on the order of the file's
	// services mapping.
	Services []plan.Service
}

// FaultSpec is one fault as the scenario writes it. Plan resolves it into a Fault: the
// target made concrete (a service name becomes one of its replicas) and every parameter
// present, defaults included.
type FaultSpec struct {
	At   plan.Duration
	For  plan.Duration // required for window kinds, absent for instantaneous ones
	Kind string        // a registered fault kind (plan.LookupFaultKind)
	// Target is a link, node or stream name, per the kind's TargetKind.
	Target string
	// Params are the parameters the file gives, as strings ("250ms", "0.2").
	Params map[string]string
}

// End is when the fault heals on the run clock (its start, for an instantaneous fault).
func (f FaultSpec) End() plan.Duration { return f.At + f.For }

// Nemesis draws Count faults from the seed: each of a kind picked from Faults, on a
// target that kind can act on on every testbed (the topology's links to services and
// the broker, the broker and the service replicas, PostgreSQL databases, or the fixture
// services' streams); lasting between Min and Max; starting inside Between.
type Nemesis struct {
	Faults []NemesisFault
	Count  int
	Min    plan.Duration
	Max    plan.Duration
	// Between bounds the start of the drawn faults; the zero value means the whole run.
	Between [2]plan.Duration
}

// NemesisFault is a kind the nemesis may draw, with parameters that override the
// nemesis defaults (NemesisParams) and the kind's.
type NemesisFault struct {
	Kind   string
	Params map[string]string
}

// Nemesis defaults, used for every key the file leaves out.
const (
	DefaultNemesisCount = 3
	DefaultNemesisMin   = plan.Duration(time.Second)
	DefaultNemesisMax   = plan.Duration(3 * time.Second)
)

// NemesisParams are the parameters the nemesis gives the kinds that have a required
// parameter, since it cannot ask anyone; a scenario overrides them per kind.
var NemesisParams = map[string]map[string]string{
	"latency":    {"latency": "200ms"},
	"bandwidth":  {"rate": "64"},
	"slow-close": {"delay": "1s"},
}

// window is the range in which the nemesis starts faults.
func (n *Nemesis) window(duration plan.Duration) (lo, hi plan.Duration) {
	if n.Between == [2]plan.Duration{} {
		return 0, duration
	}
	return n.Between[0], n.Between[1]
}

// KnownBrokers and KnownDatabases are the values system.broker and services' database
// accept; workload.kind takes a registered workload kind (plan.WorkloadKindNames).
var (
	KnownBrokers   = []string{"nats"}
	KnownDatabases = []string{"postgres", "sqlite"}
)

// DefaultObserve is the path of a user's service's effects endpoint when the scenario
// does not give one.
const DefaultObserve = "/effects"

// DefaultWorkload is the workload of a scenario that does not write one, and the value
// of every workload key it leaves out.
func DefaultWorkload() plan.Workload {
	return plan.Workload{
		Kind:    "bank",
		Clients: 4,
		Rate:    100,
		Timeout: plan.Duration(500 * time.Millisecond),
		Retry:   plan.Retry{Attempts: 5, Backoff: plan.Duration(20 * time.Millisecond), Max: plan.Duration(time.Second)},
	}
}

// Topology derives the system's nodes and links. A fixture: client->svc (the
// workload's path) and svc->broker, and svc->svc-db when its database is postgres
// (SQLite lives inside the service's process, there is no link). A service of the
// user's: client->svc when it has a port, svc->dep for each of its depends-on, and
// svc->svc-db with database: postgres.
func (s *Scenario) Topology() plan.Topology {
	t := plan.Topology{Broker: s.System.Broker, Services: slices.Clone(s.System.Services), Links: []plan.Link{}}
	if t.Services == nil {
		t.Services = []plan.Service{}
	}
	for i, svc := range t.Services {
		if fx, ok := plan.LookupFixture(svc.Fixture); ok && len(fx.Options) > 0 {
			t.Services[i].Options = fillParams(fx.Options, svc.Options)
		}
	}
	for _, svc := range t.Services {
		if reachable(svc) {
			t.Links = append(t.Links, link(plan.ClientNode, svc.Name))
		}
		for _, to := range dependencies(svc) {
			t.Links = append(t.Links, link(svc.Name, to))
		}
	}
	return t
}

// dependencies are the nodes a service reaches, each through a link: a fixture the
// broker (and its PostgreSQL) and, when it fronts others (a gateway), its depends-on;
// a user's service its depends-on (and its PostgreSQL).
func dependencies(svc plan.Service) []string {
	deps := svc.DependsOn
	if svc.Fixture != "" {
		deps = append([]string{plan.BrokerNode}, svc.DependsOn...)
	}
	if svc.Database == "postgres" {
		deps = append(slices.Clip(deps), plan.DatabaseNode(svc.Name))
	}
	return deps
}

// reachable says whether the workload's clients have a link to a service: a fixture,
// or a user's service with a port.
func reachable(svc plan.Service) bool { return svc.Fixture != "" || svc.Port != 0 }

func link(from, to string) plan.Link { return plan.Link{Name: from + "->" + to, From: from, To: to} }

// targets are the names a fault may act on, per target kind, in a stable order, with
// the role of each (what decides which fault kinds can act on it, and on which
// testbed). draw holds the names the nemesis draws from first: the topology's links
// (not the per-replica ones: the service-level link already covers them), the broker,
// the replicas (not service names, a shorthand for one of them) and the fixtures'
// streams; drawable is what one kind may end up on.
type targets struct {
	valid map[plan.TargetKind][]string
	draw  map[plan.TargetKind][]string
	// data are the database nodes, which the nemesis draws only for a kind that acts
	// on them on every testbed (wipe, snapshot).
	data []string
	role map[plan.TargetKind]map[string]plan.TargetRole
	// services maps a service name to its replica count, to resolve a node target that
	// names a service.
	services map[string]int
}

func (s *Scenario) targets() targets { return targetsOf(s.Topology()) }

// targets derives the targets from a topology, so that a plan's faults can be checked
// against the same names and roles as the scenario's.
func targetsOf(top plan.Topology) targets {
	t := targets{valid: map[plan.TargetKind][]string{}, draw: map[plan.TargetKind][]string{},
		role: map[plan.TargetKind]map[string]plan.TargetRole{}, services: map[string]int{}}
	add := func(k plan.TargetKind, name string, role plan.TargetRole, drawn bool) {
		t.valid[k] = append(t.valid[k], name)
		if t.role[k] == nil {
			t.role[k] = map[string]plan.TargetRole{}
		}
		t.role[k][name] = role
		if drawn {
			t.draw[k] = append(t.draw[k], name)
		}
	}
	fixture := map[string]bool{}
	for _, svc := range top.Services {
		fixture[svc.Name] = !svc.User()
	}
	linkRole := func(from, to string) plan.TargetRole {
		// A fixture's database may be an SQLite file with no network path (the local
		// testbed's); a user's PostgreSQL is a server behind a link on every testbed.
		if svc := plan.ServiceOf(from); fixture[svc] && to == plan.DatabaseNode(svc) {
			return plan.RoleDatabaseLink
		}
		return plan.RoleLink
	}
	if top.NeedsBroker() {
		// Only a broker that runs is a target: a system that brings its own (a compose
		// file's) has none of mscli's.
		add(plan.TargetNode, plan.BrokerNode, plan.RoleBroker, true)
	}
	for _, l := range top.Links {
		add(plan.TargetLink, l.Name, linkRole(l.From, l.To), true)
	}
	for _, svc := range top.Services {
		t.services[svc.Name] = svc.Replicas
		add(plan.TargetNode, svc.Name, plan.RoleReplica, false)
		for i := range svc.Replicas {
			r := plan.ReplicaNode(svc.Name, i)
			add(plan.TargetNode, r, plan.RoleReplica, true)
			if reachable(svc) {
				add(plan.TargetLink, link(plan.ClientNode, r).Name, plan.RoleLink, false)
			}
			for _, to := range dependencies(svc) {
				add(plan.TargetLink, link(r, to).Name, linkRole(r, to), false)
			}
		}
		switch {
		case svc.Database == "postgres":
			role := plan.RolePostgres
			if svc.User() {
				role = plan.RoleDatabase // a real server on every testbed
			}
			add(plan.TargetNode, plan.DatabaseNode(svc.Name), role, false)
			t.data = append(t.data, plan.DatabaseNode(svc.Name))
		case svc.Fixture != "":
			// A fixture's data is a node for data faults whatever the database: on the
			// local testbed the SQLite file its replicas share.
			add(plan.TargetNode, plan.DatabaseNode(svc.Name), plan.RoleSQLite, false)
			t.data = append(t.data, plan.DatabaseNode(svc.Name))
		}
		if fx, ok := plan.LookupFixture(svc.Fixture); ok {
			for _, st := range fx.Streams {
				add(plan.TargetStream, svc.Name+"."+st, plan.RoleStream, true)
			}
		}
	}
	return t
}

// drawable are the targets the nemesis may put a kind on, in a stable order: those of
// draw, and the database nodes, that every testbed can apply the kind to, so that a
// seed's plan is the same, and runs, on every testbed.
func (t targets) drawable(k plan.FaultKind) []string {
	names := t.draw[k.Target]
	if k.Target == plan.TargetNode {
		names = append(slices.Clip(names), t.data...)
	}
	var out []string
	for _, name := range names {
		if k.ActsEverywhere(t.role[k.Target][name]) {
			out = append(out, name)
		}
	}
	return out
}

// sortedKeys returns a map's keys in order: maps are never iterated unsorted, since the
// plan must not depend on Go's random map order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
