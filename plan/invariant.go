package plan

import (
	"slices"
	"sync"
)

// InvariantKind declares an invariant a scenario can name: its parameters. Package
// invariants registers each one with its checker (invariants.Register).
type InvariantKind struct {
	Name   string
	Doc    string
	Params map[string]Param
}

var invariantKinds = struct {
	sync.RWMutex
	m     map[string]InvariantKind
	order []string // registration order: the built-ins in the order a person reads them
}{m: map[string]InvariantKind{}}

// RegisterInvariantKind declares an invariant; invariants.Register calls it. It panics
// when the name is taken or empty.
func RegisterInvariantKind(k InvariantKind) {
	if k.Name == "" {
		panic("plan: RegisterInvariantKind: an invariant needs a name")
	}
	invariantKinds.Lock()
	defer invariantKinds.Unlock()
	if _, dup := invariantKinds.m[k.Name]; dup {
		panic("plan: invariant " + k.Name + " registered twice")
	}
	if k.Params == nil {
		k.Params = map[string]Param{}
	}
	invariantKinds.m[k.Name] = k
	invariantKinds.order = append(invariantKinds.order, k.Name)
}

// LookupInvariantKind returns a registered invariant's declaration.
func LookupInvariantKind(name string) (InvariantKind, bool) {
	invariantKinds.RLock()
	defer invariantKinds.RUnlock()
	k, ok := invariantKinds.m[name]
	return k, ok
}

// InvariantKindNames lists the registered invariants in the order they registered.
func InvariantKindNames() []string {
	invariantKinds.RLock()
	defer invariantKinds.RUnlock()
	return slices.Clone(invariantKinds.order)
}
