package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/mscli/mscli/plan"
)

// kill -9 of a process, docker kill of a container.
func init() {
	Register(plan.FaultKind{Name: "kill", Target: plan.TargetNode, Window: false,
		Doc: "kill -9 a node; restart it after restart-after (0: never, until healed at the end)",
		Params: map[string]plan.Param{
			"restart-after": {Type: plan.ParamDuration, Default: "0s", Doc: "restart the node this long after the kill"},
		}, Acts: processTargets}, kill{})
}

// kill sends kill -9 to every node of the target. Its heal starts them again; the
// scheduler calls it after restart-after (Lasting), or at the end when that is 0.
type kill struct{}

func (kill) Lasts(f plan.Fault) (time.Duration, error) {
	return f.Args().Duration("restart-after")
}

func (kill) Apply(ctx context.Context, env Env, f plan.Fault) (Heal, error) {
	if _, err := f.Args().Duration("restart-after"); err != nil {
		return nil, err
	}
	nodes, err := env.Nodes(f.Target)
	if err != nil {
		return nil, err
	}
	var killed []Node
	heal := func(ctx context.Context) error { return eachNode(ctx, killed, "start", Node.Start) }
	for _, n := range nodes {
		if err := n.Kill(ctx); err != nil {
			return heal, fmt.Errorf("kill %s: %w", n.Name(), err)
		}
		killed = append(killed, n)
	}
	return heal, nil
}
