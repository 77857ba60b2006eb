package plan

import "github.com/mscli/mscli/internal/registry"

// InvariantKind declares an invariant a scenario can name: its parameters. Package
// invariants registers each one with its checker (invariants.Register).
type InvariantKind struct {
	Name   string
	Doc    string
	Params map[string]Param
}

// invariantKinds keeps the registration order: the built-ins in the order a person
// reads them.
var invariantKinds = registry.New[InvariantKind]("plan: invariant")

// RegisterInvariantKind declares an invariant; invariants.Register calls it. It panics
// when the name is taken or empty.
func RegisterInvariantKind(k InvariantKind) {
	k.Params = declared("invariant "+k.Name, k.Params)
	invariantKinds.Register(k.Name, k)
}

// LookupInvariantKind returns a registered invariant's declaration.
func LookupInvariantKind(name string) (InvariantKind, bool) { return invariantKinds.Lookup(name) }

// InvariantKindNames lists the registered invariants in the order they registered.
func InvariantKindNames() []string { return invariantKinds.Ordered() }
