package chaos

import (
	"context"
	"fmt"

	"github.com/mscli/mscli/plan"
)

// SIGTERM and start again, docker stop and start.
func init() {
	Register(plan.FaultKind{Name: "restart", Target: plan.TargetNode, Window: false,
		Doc: "stop a node gracefully and start it again", Acts: processTargets}, FaultFunc(restart))
}

// restart stops every node of the target gracefully and starts it again, one after
// the other so a service keeps serving through its other replicas. When a start fails
// the returned heal tries again at the end of the run.
func restart(ctx context.Context, env Env, f plan.Fault) (Heal, error) {
	nodes, err := env.Nodes(f.Target)
	if err != nil {
		return nil, err
	}
	for i, n := range nodes {
		if err := n.Stop(ctx); err != nil {
			return nil, fmt.Errorf("stop %s: %w", n.Name(), err)
		}
		if err := n.Start(ctx); err != nil {
			rest := nodes[i:]
			return func(ctx context.Context) error { return eachNode(ctx, rest, "start", Node.Start) },
				fmt.Errorf("start %s: %w", n.Name(), err)
		}
	}
	return nil, nil
}
