package chaos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mscli/mscli/scenarios"
)

func init() {
	Register("kill", kill{})
	Register("pause", FaultFunc(pause))
	Register("restart", FaultFunc(restart))
	Register("snapshot", FaultFunc(snapshot))
	Register("wipe", FaultFunc(wipe))
}

// kill sends kill -9 to every node of the target. Its heal starts them again; the
// scheduler calls it after restart-after (Lasting), or at the end when that is 0.
type kill struct{}

func (kill) Lasts(f scenarios.Fault) (time.Duration, error) {
	return durationParam(f, "restart-after")
}

func (kill) Apply(ctx context.Context, env Env, f scenarios.Fault) (Heal, error) {
	if _, err := durationParam(f, "restart-after"); err != nil {
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

func pause(ctx context.Context, env Env, f scenarios.Fault) (Heal, error) {
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

// restart stops every node of the target gracefully and starts it again, one after
// the other so a service keeps serving through its other replicas. When a start fails
// the returned heal tries again at the end of the run.
func restart(ctx context.Context, env Env, f scenarios.Fault) (Heal, error) {
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

func dataNodes(env Env, f scenarios.Fault) ([]DataNode, []Node, error) {
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

func snapshot(ctx context.Context, env Env, f scenarios.Fault) (Heal, error) {
	name := param(f, "name")
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

func wipe(ctx context.Context, env Env, f scenarios.Fault) (Heal, error) {
	restore := param(f, "restore")
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
