package plan

import "github.com/mscli/mscli/internal/registry"

// WorkloadKind declares a kind of workload a scenario can name with workload.kind.
// Package workload registers each kind with its implementation (workload.Register).
type WorkloadKind struct {
	Name string
	Doc  string
}

var workloadKinds = registry.New[WorkloadKind]("plan: workload kind")

// RegisterWorkloadKind declares a workload kind; workload.Register calls it. It panics
// when the name is taken or empty.
func RegisterWorkloadKind(k WorkloadKind) { workloadKinds.Register(k.Name, k) }

// WorkloadKindNames lists the registered workload kinds, sorted.
func WorkloadKindNames() []string { return workloadKinds.Names() }
