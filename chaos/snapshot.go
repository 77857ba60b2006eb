package chaos

import (
	"context"
	"fmt"

	"github.com/mscli/mscli/plan"
)

// A copy of the node's data (DataNode).
func init() {
	Register(plan.FaultKind{Name: "snapshot", Target: plan.TargetNode, Window: false,
		Doc: "copy a node's data aside under a name, for a later restore",
		Params: map[string]plan.Param{
			"name": {Type: plan.ParamName, Default: "backup", Doc: "snapshot name"},
		}, Acts: dataTargets}, FaultFunc(snapshot))
}

// snapshot copies the data of every node of the target aside.
func snapshot(ctx context.Context, env Env, f plan.Fault) (Heal, error) {
	name := f.Args().Value("name")
	dns, nodes, err := dataNodes(env, f)
	if err != nil {
		return nil, err
	}
	for i, dn := range dns {
		if err := dn.Snapshot(ctx, name); err != nil {
			return nil, fmt.Errorf("snapshot %s as %q: %w", nodes[i].Name(), name, err)
		}
	}
	return nil, nil
}
