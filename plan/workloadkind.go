package plan

import (
	"github.com/mscli/mscli/internal/registry"
)

// WorkloadKind declares a kind of workload a scenario can name with workload.kind, and
// the parameters of its own a scenario writes beside the common keys (the bank's
// accounts, opening balance and mix). Package workload registers each kind with its
// implementation (workload.Register).
type WorkloadKind struct {
	Name   string
	Doc    string
	Params map[string]Param
	// Check, when set, refuses a workload of this kind that the kind cannot run, beyond
	// what Params say (a structured parameter's items): it sees the workload with its
	// parameters already valid and every default filled in. A *ParamError (or several,
	// joined) names the item, for validation to report where it is written.
	// workload.Register sets it from the implementation (workload.Checker).
	Check func(Workload) error
}

var workloadKinds = registry.New[WorkloadKind]("plan: workload kind")

// RegisterWorkloadKind declares a workload kind; workload.Register calls it. It panics
// when the name is taken or empty, or a default is not a valid value.
func RegisterWorkloadKind(k WorkloadKind) {
	k.Params = declared("workload kind "+k.Name, k.Params)
	workloadKinds.Register(k.Name, k)
}

// LookupWorkloadKind returns the declaration of a registered workload kind.
func LookupWorkloadKind(name string) (WorkloadKind, bool) { return workloadKinds.Lookup(name) }

// WorkloadKindNames lists the registered workload kinds, sorted.
func WorkloadKindNames() []string { return workloadKinds.Names() }

// Args reads the workload's own parameters against its kind's declaration.
func (w Workload) Args() Args {
	k, _ := LookupWorkloadKind(w.Kind)
	return Args{Kind: "workload " + w.Kind, Decl: k.Params, Values: w.Params}
}
