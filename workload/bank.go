package workload

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// The bank workload: opens every account, then deposits, withdrawals and reads of
// seed 002's bank through its HTTP API.
func init() {
	Register(plan.WorkloadKind{
		Name: "bank",
		Doc:  "deposits, withdrawals and balance reads against the bank fixture's HTTP API",
		Params: map[string]plan.Param{
			"accounts": {Type: plan.ParamInt, Min: 1, Default: "10", Doc: "how many accounts (the keys)"},
			"opening":  {Type: plan.ParamInt, Default: "1000", Doc: "opening balance of each account"},
			"mix":      {Type: plan.ParamRatio, Default: "0.7", Doc: "share of withdrawals among deposits and withdrawals"},
		},
	}, bankKind{})
}

type bankKind struct{}

// bankParams are the bank workload's own parameters.
type bankParams struct {
	accounts int
	opening  int64
	mix      float64
}

// readBank reads the bank workload's parameters; a value that does not read is left
// zero and named in the error.
func readBank(w plan.Workload) (bankParams, error) {
	a := w.Args()
	accounts, err1 := a.Int("accounts")
	opening, err2 := a.Int("opening")
	mix, err3 := a.Ratio("mix")
	return bankParams{accounts: int(accounts), opening: opening, mix: mix}, errors.Join(err1, err2, err3)
}

// bankOf reads the parameters of a workload already checked (Check, or the scenario's
// validation).
func bankOf(w plan.Workload) bankParams {
	b, _ := readBank(w)
	return b
}

func (bankKind) Check(w plan.Workload) error {
	_, err := readBank(w)
	return err
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
	keys := make([]string, bankOf(w).accounts)
	for i := range keys {
		keys[i] = AccountKey(i)
	}
	return keys
}
