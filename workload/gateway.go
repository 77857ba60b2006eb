package workload

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// The gateway workload: clients of an API gateway that fronts the bank and a slow
// catalog. They withdraw from bank accounts, under ids they chose, and browse catalog
// items, every request through the gateway, and record on each completion the HTTP
// status and who answered (the dependency, a fallback or an open circuit breaker): what
// the gateway invariants judge fail-fast, recovery and durability by.
func init() {
	Register(plan.WorkloadKind{
		Name: "gateway",
		Doc:  "withdrawals from the bank and catalog reads through the gateway fixture, each completion recording the status and who answered (upstream, fallback, breaker)",
		Params: map[string]plan.Param{
			"accounts": {Type: plan.ParamInt, Min: 1, Default: "8", Doc: "how many bank accounts (the withdrawals' keys)"},
			"opening":  {Type: plan.ParamInt, Default: "100000", Doc: "opening balance of each account, deposited through the gateway: enough that no account runs dry in a run (withdrawals take 1 to 100), since a refused withdrawal would hide one applied twice"},
			"browse":   {Type: plan.ParamRatio, Default: "0.5", Doc: "share of operations that read a catalog item; the rest are withdrawals"},
			"items":    {Type: plan.ParamInt, Min: 1, Default: "20", Doc: "how many catalog items are read (the keys item-0 …)"},
		},
	}, gatewayKind{})
}

// FBrowse reads a catalog item through the gateway. It asks for no effect, so it has
// no id; its Key is the item.
const FBrowse = "browse"

// The gateway's routes: the first segment of a path names the service it goes to.
const (
	gatewayBank    = "bank"
	gatewayCatalog = "catalog"
)

// ItemKey names catalog item i ("item-7").
func ItemKey(i int) string { return fmt.Sprintf("item-%d", i) }

type gatewayKind struct{}

type gatewayParams struct {
	accounts, items int
	opening         int64
	browse          float64
}

func readGateway(w plan.Workload) (gatewayParams, error) {
	a := w.Args()
	accounts, err1 := a.Int("accounts")
	opening, err2 := a.Int("opening")
	browse, err3 := a.Ratio("browse")
	items, err4 := a.Int("items")
	return gatewayParams{accounts: int(accounts), items: int(items), opening: opening, browse: browse},
		errors.Join(err1, err2, err3, err4)
}

func (gatewayKind) Check(w plan.Workload) error {
	_, err := readGateway(w)
	return err
}

// Openings deposit the opening balance into every account through the gateway,
// numbered first (d-000000 …); none without an opening balance.
func (gatewayKind) Openings(w plan.Workload) []Planned {
	p, _ := readGateway(w)
	if p.opening <= 0 {
		return nil
	}
	out := make([]Planned, p.accounts)
	for i := range out {
		out[i] = Planned{ID: opID(FDeposit, int64(i)), F: FDeposit, Key: AccountKey(i), Amount: p.opening}
	}
	return out
}

// Generator draws browses and withdrawals of 1 to 100, numbered after the openings.
func (gatewayKind) Generator(w plan.Workload, proc int) func() Planned {
	p, _ := readGateway(w)
	d := newDraws(w, proc, int64(p.accounts))
	const maxAmount = 100
	return func() Planned {
		if d.rng.Float64() < p.browse {
			return Planned{F: FBrowse, Key: ItemKey(d.index(p.items)), NoAmount: true}
		}
		key := AccountKey(d.index(p.accounts))
		return Planned{ID: opID(FWithdraw, d.number()), F: FWithdraw, Key: key, Amount: d.amount(1, maxAmount)}
	}
}

// Send makes one attempt through the gateway: a browse is
// GET /catalog/items/{item}, a deposit or withdrawal
// PUT /bank/accounts/{acct}/{deposits|withdrawals}/{id}.
func (gatewayKind) Send(ctx context.Context, c *http.Client, endpoint string, op Planned, timeout time.Duration) Attempt {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var req *http.Request
	var err error
	switch op.F {
	case FBrowse:
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/"+gatewayCatalog+"/items/"+url.PathEscape(op.Key), nil)
	case FDeposit, FWithdraw:
		path := "/deposits/"
		if op.F == FWithdraw {
			path = "/withdrawals/"
		}
		u := endpoint + "/" + gatewayBank + "/accounts/" + url.PathEscape(op.Key) + path + url.PathEscape(op.ID)
		req, err = http.NewRequestWithContext(ctx, http.MethodPut, u, strings.NewReader(fmt.Sprintf(`{"amount":%d}`, op.Amount)))
		if req != nil {
			req.Header.Set("Content-Type", "application/json")
		}
	default:
		err = fmt.Errorf("the gateway workload has no operation %q", op.F)
	}
	if err != nil {
		return Attempt{Out: NotApplied, Err: err.Error()}
	}
	code, msg, header, failed := attemptHeader(c, req, endpoint, timeout)
	if failed != nil {
		return *failed
	}
	return gatewayOutcome(endpoint, code, msg, header.Get(history.AnswerHeader))
}

// gatewayOutcome reads a gateway's answer, the same for a read and a write: 2xx
// applied; 503 from an open breaker not applied (the gateway never sent it on; asking
// again at once gets the same answer); any other 4xx refused for good; anything else
// unknown. A 503 the gateway relays from the dependency is unknown, unlike a
// service's own: the gateway retries a PUT, and an earlier attempt of its own may have
// been applied while answered too late.
func gatewayOutcome(endpoint string, code int, msg, source string) Attempt {
	a := Attempt{Status: code, Source: source}
	if code >= 200 && code < 300 {
		a.Out = Applied
		return a
	}
	a.Err = statusErr(endpoint, code, msg)
	if source != "" {
		a.Err += " (" + source + ")"
	}
	switch {
	case code == http.StatusServiceUnavailable && source == history.SourceBreaker:
		a.Out = NotApplied
	case code >= 400 && code < 500:
		a.Out = NotApplied
	default:
		a.Out, a.Retry = Unknown, true
	}
	return a
}

// Read reads an account's balance through the gateway. The workload draws no reads
// and asks for no final ones (Keys); it is there for a person poking at a run.
func (gatewayKind) Read(ctx context.Context, c *http.Client, endpoint, key string, timeout time.Duration) (Attempt, history.Observed) {
	return readKey(ctx, c, endpoint, "/"+gatewayBank+"/accounts/"+url.PathEscape(key), "balance", timeout)
}

// Keys is nil: the gateway is judged on what its clients saw, not on final reads.
func (gatewayKind) Keys(plan.Workload) []string { return nil }
