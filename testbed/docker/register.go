package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/testbed"
)

// priority is docker's place in --testbed auto's order: first, when an engine answers.
const priority = 20

// pingTimeout bounds how long auto and clean wait for an engine to answer.
const pingTimeout = 3 * time.Second

func init() {
	testbed.Register(testbed.Testbed{
		Name: plan.TestbedDocker,
		Doc:  "every node a container of the Docker engine, through testcontainers-go",
		Up:   testbed.UpOf(Up),
		Available: func(ctx context.Context) (string, error) {
			eng, err := Ping(ctx, pingTimeout)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("testbed: docker (engine %s answers; --testbed local runs child processes instead)", eng.Version), nil
		},
		Priority: priority,
		Clean: func(ctx context.Context, o testbed.CleanOptions) ([]string, error) {
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			_, err := Ping(pctx, pingTimeout)
			cancel()
			if err != nil {
				return nil, &testbed.Unavailable{Why: "no Docker engine answers; no containers to remove"}
			}
			return Clean(ctx, o)
		},
		Cleaned: "leftover container(s), network(s) and volume(s) removed",
	})
}
