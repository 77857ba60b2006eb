package chaos

import (
	"context"
	"fmt"

	"github.com/mscli/mscli/plan"
)

// The node's data deleted, or replaced by a snapshot (DataNode).
func init() {
	Register(plan.FaultKind{Name: "wipe", Target: plan.TargetNode, Window: false,
		Doc: "lose a node's data; restore the named snapshot if given, else start empty",
		Params: map[string]plan.Param{
			"restore": {Type: plan.ParamName, Optional: true, Doc: "name of a snapshot taken earlier in the run"},
		}, Acts: dataTargets}, FaultFunc(wipe))
}

// wipe loses the data of every node of the target, or restores a snapshot.
func wipe(ctx context.Context, env Env, f plan.Fault) (Heal, error) {
	restore := f.Args().Value("restore")
	dns, nodes, err := dataNodes(env, f)
	if err != nil {
		return nil, err
	}
	for i, dn := range dns {
		if err := dn.Wipe(ctx, restore); err != nil {
			return nil, fmt.Errorf("wipe %s: %w", nodes[i].Name(), err)
		}
	}
	return nil, nil
}
