package runner

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/testbed"
	"github.com/mscli/mscli/testbed/docker"
	"github.com/mscli/mscli/testbed/local"
)

// Testbeds are the testbeds a run can use, by name.
var Testbeds = map[string]Testbed{
	"local": func(ctx context.Context, p *plan.Plan, o testbed.Options) (System, error) {
		env, err := local.Up(ctx, p, o)
		if env == nil {
			return nil, err // no typed nil in the interface: nothing to bring down
		}
		return env, err
	},
	"docker": func(ctx context.Context, p *plan.Plan, o testbed.Options) (System, error) {
		env, err := docker.Up(ctx, p, o)
		if env == nil {
			return nil, err
		}
		return env, err
	},
}

// PickTestbed resolves a testbed name; "auto" picks the best one available here and
// says why in one line.
func PickTestbed(name string) (string, Testbed, string, error) {
	if name == "auto" {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if eng, err := docker.Ping(ctx, 3*time.Second); err == nil {
			return "docker", Testbeds["docker"], fmt.Sprintf("testbed: docker (engine %s answers; --testbed local runs child processes instead)", eng.Version), nil
		}
		return "local", Testbeds["local"], "testbed: local (no Docker engine answers; child processes on 127.0.0.1)", nil
	}
	tb, ok := Testbeds[name]
	if !ok {
		names := make([]string, 0, len(Testbeds))
		for n := range Testbeds {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", nil, "", InvalidInput("unknown testbed %q: want auto or one of %s", name, strings.Join(names, ", "))
	}
	return name, tb, fmt.Sprintf("testbed: %s", name), nil
}
