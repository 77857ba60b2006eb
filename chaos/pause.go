package chaos

import (
	"context"
	"fmt"

	"github.com/mscli/mscli/plan"
)

// SIGSTOP of a process group, docker pause of a container.
func init() {
	Register(plan.FaultKind{Name: "pause", Target: plan.TargetNode, Window: true,
		Doc: "freeze a node (SIGSTOP / docker pause) and resume it", Acts: processTargets}, FaultFunc(pause))
}

// pause freezes every node of the target; its heal resumes them.
func pause(ctx context.Context, env Env, f plan.Fault) (Heal, error) {
	nodes, err := env.Nodes(f.Target)
	if err != nil {
		return nil, err
	}
	var paused []Node
	heal := func(ctx context.Context) error { return eachNode(ctx, paused, "resume", Node.Resume) }
	for _, n := range nodes {
		if err := n.Pause(ctx); err != nil {
			return heal, fmt.Errorf("pause %s: %w", n.Name(), err)
		}
		paused = append(paused, n)
	}
	return heal, nil
}
