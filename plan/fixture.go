package plan

import (
	"maps"
	"slices"
	"sync"
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
}

// Bug is a known defect a fixture can be started with (--inject-bug), so that a
// scenario can prove that the invariant meant to catch it does.
type Bug struct {
	Name string
	// Breaks is the invariant that must catch it.
	Breaks string
	What   string
}

var fixtures = struct {
	sync.RWMutex
	m map[string]Fixture
}{m: map[string]Fixture{}}

// RegisterFixture declares a fixture. It panics when the name is taken or empty, as
// registrations happen in init.
func RegisterFixture(f Fixture) {
	if f.Name == "" {
		panic("plan: RegisterFixture: a fixture needs a name")
	}
	fixtures.Lock()
	defer fixtures.Unlock()
	if _, dup := fixtures.m[f.Name]; dup {
		panic("plan: fixture " + f.Name + " registered twice")
	}
	fixtures.m[f.Name] = f
}

// LookupFixture returns a registered fixture's declaration.
func LookupFixture(name string) (Fixture, bool) {
	fixtures.RLock()
	defer fixtures.RUnlock()
	f, ok := fixtures.m[name]
	return f, ok
}

// FixtureNames lists the registered fixtures, sorted.
func FixtureNames() []string {
	fixtures.RLock()
	defer fixtures.RUnlock()
	return slices.Sorted(maps.Keys(fixtures.m))
}

// WorkloadKind declares a kind of workload a scenario can name with workload.kind.
// Package workload registers each kind with its implementation (workload.Register).
type WorkloadKind struct {
	Name string
	Doc  string
}

var workloadKinds = struct {
	sync.RWMutex
	m map[string]WorkloadKind
}{m: map[string]WorkloadKind{}}

// RegisterWorkloadKind declares a workload kind; workload.Register calls it. It panics
// when the name is taken or empty.
func RegisterWorkloadKind(k WorkloadKind) {
	if k.Name == "" {
		panic("plan: RegisterWorkloadKind: a kind needs a name")
	}
	workloadKinds.Lock()
	defer workloadKinds.Unlock()
	if _, dup := workloadKinds.m[k.Name]; dup {
		panic("plan: workload kind " + k.Name + " registered twice")
	}
	workloadKinds.m[k.Name] = k
}

// WorkloadKindNames lists the registered workload kinds, sorted.
func WorkloadKindNames() []string {
	workloadKinds.RLock()
	defer workloadKinds.RUnlock()
	return slices.Sorted(maps.Keys(workloadKinds.m))
}
