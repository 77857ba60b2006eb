package local

import (
	"context"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/testbed"
)

// priority is local's place in --testbed auto's order: the fallback, below docker.
const priority = 10

func init() {
	testbed.Register(testbed.Testbed{
		Name: plan.TestbedLocal,
		Doc:  "every node a child process of the mscli binary on 127.0.0.1",
		Up:   testbed.UpOf(Up),
		// Always available; auto comes down to local only when every testbed of
		// higher priority — docker — is not.
		Available: func(context.Context) (string, error) {
			return "testbed: local (no Docker engine answers; child processes on 127.0.0.1)", nil
		},
		Priority: priority,
		Clean: func(ctx context.Context, o testbed.CleanOptions) ([]string, error) {
			return Clean(ctx, o)
		},
		Cleaned: "leftover process(es) stopped",
	})
}
