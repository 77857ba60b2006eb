package workload

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// The bank workload: opens every account, then deposits, withdrawals and reads of
// seed 002's bank through its HTTP API.
func init() {
	Register(plan.WorkloadKind{Name: "bank", Doc: "deposits, withdrawals and balance reads against the bank fixture's HTTP API"}, bankKind{})
}

type bankKind struct{}

func (bankKind) Check(w plan.Workload) error {
	if w.Accounts < 1 {
		return fmt.Errorf("workload: %d accounts", w.Accounts)
	}
	return nil
}

func (bankKind) Openings(w plan.Workload) []Planned { return Openings(w) }

func (bankKind) Generator(w plan.Workload, proc int) func() Planned {
	return NewGenerator(w, proc).Next
}

func (bankKind) Send(ctx context.Context, c *http.Client, endpoint string, op Planned, timeout time.Duration) Attempt {
	return send(ctx, c, endpoint, op, timeout)
}

func (bankKind) Read(ctx context.Context, c *http.Client, endpoint, key string, timeout time.Duration) (Attempt, history.Observed) {
	return get(ctx, c, endpoint, key, timeout)
}

func (bankKind) Keys(w plan.Workload) []string {
	keys := make([]string, w.Accounts)
	for i := range keys {
		keys[i] = AccountKey(i)
	}
	return keys
}
