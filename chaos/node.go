package chaos

import (
	"context"
	"errors"
	"fmt"

	"github.com/mscli/mscli/plan"
)

// This file holds what the node faults share: the targets they declare and helpers
// over a target's nodes.

// dataNodes resolves a data fault's target to nodes that keep data.
func dataNodes(env Env, f plan.Fault) ([]DataNode, []Node, error) {
	nodes, err := env.Nodes(f.Target)
	if err != nil {
		return nil, nil, err
	}
	dns := make([]DataNode, len(nodes))
	for i, n := range nodes {
		dn, ok := n.(DataNode)
		if !ok {
			return nil, nil, fmt.Errorf("%s: node %s has no data this testbed can snapshot or wipe", f.Kind, n.Name())
		}
		dns[i] = dn
	}
	return dns, nodes, nil
}

// processTargets are what a process fault acts on: a process (local) or a container
// (docker). A database is a container on docker only; an SQLite database is a file on
// every testbed.
var processTargets = []plan.Reach{
	{Role: plan.RoleBroker, On: plan.Testbeds},
	{Role: plan.RoleReplica, On: plan.Testbeds},
	{Role: plan.RolePostgres, On: []string{plan.TestbedDocker},
		Why: "on the local testbed the database is an SQLite file inside the service's processes, with no process of its own"},
	{Role: plan.RoleDatabase, On: plan.Testbeds},
}

// dataTargets are what a data fault acts on: a PostgreSQL volume (docker) or the SQLite
// file that stands in for it (local); the broker's JetStream directory and a service's
// SQLite file on the local testbed only. A replica keeps no data of its own.
var dataTargets = []plan.Reach{
	{Role: plan.RolePostgres, On: plan.Testbeds},
	{Role: plan.RoleDatabase, On: plan.Testbeds},
	{Role: plan.RoleSQLite, On: []string{plan.TestbedLocal},
		Why: "on the docker testbed an SQLite database is a volume the service's containers share, not a node"},
	{Role: plan.RoleBroker, On: []string{plan.TestbedLocal},
		Why: "the docker testbed keeps no snapshots of the broker's data: only a PostgreSQL database's"},
}

// eachNode runs op on every node and keeps going past failures: a heal should bring
// back as much as it can.
func eachNode(ctx context.Context, nodes []Node, what string, op func(Node, context.Context) error) error {
	var errs []error
	for _, n := range nodes {
		if err := op(n, ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", what, n.Name(), err))
		}
	}
	return errors.Join(errs...)
}
