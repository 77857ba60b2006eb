package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/scenarios"

	"github.com/mscli/mscli/testbed"
	_ "github.com/mscli/mscli/testbed/docker" // registers the docker testbed
	_ "github.com/mscli/mscli/testbed/local"  // registers the local testbed
)

// A testbed's System and the runner's are the same set of methods.
var (
	_ System         = testbed.System(nil)
	_ testbed.System = System(nil)
)

// autoTimeout bounds how long --testbed auto asks the testbeds whether they are
// available.
const autoTimeout = 3 * time.Second

// PickTestbed resolves a testbed name against the registered testbeds
// (testbed.Register); "auto" picks the best one available here (testbed.Auto) and says
// why in one line.
func PickTestbed(name string) (string, Testbed, string, error) { return PickTestbedFor(name, nil) }

// PickTestbedFor is PickTestbed for a plan: auto picks among the testbeds that can
// start every service of it (a command: runs on the local testbed, an image: on docker).
func PickTestbedFor(name string, pl *plan.Plan) (string, Testbed, string, error) {
	why := ""
	if name == "auto" {
		ctx, cancel := context.WithTimeout(context.Background(), autoTimeout)
		defer cancel()
		var can func(string) error
		if pl != nil {
			can = func(tb string) error { return scenarios.ServicesRunOn(pl.Topology, tb) }
		}
		picked, line, err := testbed.AutoFor(ctx, can)
		if err != nil {
			return "", nil, "", CouldNotRun(err)
		}
		name, why = picked, line
	}
	tb, ok := testbed.Lookup(name)
	if !ok {
		return "", nil, "", InvalidInput("unknown testbed %q: want auto or one of %s", name, strings.Join(testbed.Names(), ", "))
	}
	if why == "" {
		why = fmt.Sprintf("testbed: %s", name)
	}
	return name, up(tb), why, nil
}

// up adapts a registered testbed's Up to the runner's Testbed.
func up(tb testbed.Testbed) Testbed {
	return func(ctx context.Context, pl *plan.Plan, o testbed.Options) (System, error) {
		sys, err := tb.Up(ctx, pl, o)
		if sys == nil {
			return nil, err // no typed nil in the interface: nothing to bring down
		}
		return sys, err
	}
}
