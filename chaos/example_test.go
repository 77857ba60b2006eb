package chaos_test

import (
	"context"
	"os"
	"os/signal"
	"time"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/scenarios"
)

// A runner applies a plan's faults on the run clock while the workload runs, and the
// scheduler heals everything before it returns — at the end of the run and on ^C.
func ExampleRun() {
	var (
		plan *scenarios.Plan // from scenarios.Plan(seed)
		env  chaos.Env       // a testbed, e.g. local.Up(ctx, plan, opts)
	)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, plan.Duration.D())
	defer cancel()
	rec, _ := history.Create("faults.jsonl")
	defer rec.Close()
	_ = chaos.Run(ctx, plan.Faults, env, time.Now(), rec)
}

// A fault is one method; registering it makes it available by name, as toxiproxy
// registers toxics. (Names must also be known to scenarios.FaultKinds to be planned.)
func ExampleFaultFunc() {
	stopped := chaos.FaultFunc(func(ctx context.Context, env chaos.Env, f scenarios.Fault) (chaos.Heal, error) {
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
	_ = stopped // chaos.Register("stopped", stopped) in an init function
}
