package chaos_test

import (
	"context"
	"os"
	"os/signal"
	"time"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// A runner applies a plan's faults on the run clock while the workload runs, and the
// scheduler heals everything before it returns — at the end of the run and on ^C.
func ExampleRun() {
	var (
		p   *plan.Plan // from scenario.Plan(seed)
		env chaos.Env  // a testbed, e.g. local.Up(ctx, p, opts)
	)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, p.Duration.D())
	defer cancel()
	rec, _ := history.Create("faults.jsonl")
	defer rec.Close()
	_ = chaos.Run(ctx, p.Faults, env, time.Now(), rec)
}

// A fault kind is a declaration and one method, registered together in an init
// function, as toxiproxy registers toxics: scenarios can then name it, validate checks
// its targets and parameters, and runs apply it.
func ExampleFaultFunc() {
	stopped := chaos.FaultFunc(func(ctx context.Context, env chaos.Env, f plan.Fault) (chaos.Heal, error) {
		nodes, err := env.Nodes(f.Target)
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			if err := n.Stop(ctx); err != nil {
				return nil, err
			}
		}
		return func(ctx context.Context) error {
			for _, n := range nodes {
				if err := n.Start(ctx); err != nil {
					return err
				}
			}
			return nil
		}, nil
	})
	chaos.Register(plan.FaultKind{Name: "stopped", Target: plan.TargetNode, Window: true,
		Doc:  "stop a node gracefully for the fault's window",
		Acts: []plan.Reach{{Role: plan.RoleReplica, On: plan.Testbeds}}}, stopped)
}
