package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// The saga workload: orders placed with the saga fixture's orders service, some that
// must fail (out of stock, insufficient funds, a payment whose answer is later than
// the step timeout), under order ids the client chose (the idempotency key its
// retries carry), and reads of each customer's confirmed total.
func init() {
	Register(plan.WorkloadKind{
		Name: "saga",
		Doc:  "orders against the saga fixtures' orders service: each starts a reserve → charge → confirm saga",
		Params: map[string]plan.Param{
			"customers": {Type: plan.ParamInt, Min: 1, Default: "16", Doc: fmt.Sprintf("how many customers order (the keys), at most %d", sagaCustomers)},
			"items":     {Type: plan.ParamInt, Min: 1, Default: "8", Doc: fmt.Sprintf("how many items they order, at most %d", sagaItems)},
			"slow":      {Type: plan.ParamRatio, Default: "0.1", Doc: "share of orders by slow payers, whose payment answers after the step timeout"},
			"nostock":   {Type: plan.ParamRatio, Default: "0.05", Doc: "share of orders for more than the stock"},
			"nofunds":   {Type: plan.ParamRatio, Default: "0.05", Doc: "share of orders for more than the customer's balance"},
		},
	}, sagaKind{})
}

// The saga fixtures' catalog (fixtures/saga opens it; a test there holds the two
// equal).
const (
	sagaItems        = 8
	sagaCustomers    = 16
	sagaSlowPayers   = 4
	sagaOpeningStock = 10000
	sagaOpeningFunds = 100000
)

// FOrder is an order's operation name in the history.
const FOrder = "order"

type sagaKind struct{}

type sagaParams struct {
	customers, items       int
	slow, nostock, nofunds float64
}

func readSaga(w plan.Workload) (sagaParams, error) {
	a := w.Args()
	c, err1 := a.Int("customers")
	i, err2 := a.Int("items")
	slow, err3 := a.Ratio("slow")
	nostock, err4 := a.Ratio("nostock")
	nofunds, err5 := a.Ratio("nofunds")
	p := sagaParams{customers: int(c), items: int(i), slow: slow, nostock: nostock, nofunds: nofunds}
	err := errors.Join(err1, err2, err3, err4, err5)
	if err == nil && p.customers > sagaCustomers {
		err = &plan.ParamError{Param: "customers", Msg: fmt.Sprintf("the saga fixtures know %d customers", sagaCustomers)}
	}
	if err == nil && p.items > sagaItems {
		err = &plan.ParamError{Param: "items", Msg: fmt.Sprintf("the saga fixtures know %d items", sagaItems)}
	}
	if err == nil && p.slow+p.nostock+p.nofunds > 1 {
		err = errors.New("slow + nostock + nofunds is more than every order")
	}
	return p, err
}

func (sagaKind) Check(w plan.Workload) error {
	_, err := readSaga(w)
	return err
}

func (sagaKind) Openings(plan.Workload) []Planned { return nil } // the services open their catalog

func (sagaKind) Generator(w plan.Workload, proc int) func() Planned {
	p, _ := readSaga(w)
	d := newDraws(w, proc, 0)
	customers := func() string { return fmt.Sprintf("c-%d", d.index(p.customers)) }
	return func() Planned {
		if d.rng.Float64() < ReadShare {
			return Planned{F: FRead, Key: customers()}
		}
		customer, item := customers(), fmt.Sprintf("item-%d", d.index(p.items))
		qty, amount := d.amount(1, 3), d.amount(10, 60)
		switch r := d.rng.Float64(); {
		case r < p.slow:
			customer = fmt.Sprintf("slow-%d", d.index(sagaSlowPayers))
			if d.rng.Float64() < 0.5 {
				amount = sagaOpeningFunds + 1 // declined, late: refunding it would pay out what was never charged
			}
		case r < p.slow+p.nostock:
			qty = sagaOpeningStock + 1
		case r < p.slow+p.nostock+p.nofunds:
			amount = sagaOpeningFunds + 1
		}
		value, _ := json.Marshal(struct {
			Amount   int64  `json:"amount"`
			Customer string `json:"customer"`
			Item     string `json:"item"`
			Qty      int64  `json:"qty"`
		}{amount, customer, item, qty})
		return Planned{ID: numberedID("o", d.number()), F: FOrder, Key: customer, Amount: amount, Value: string(value)}
	}
}

// Send places an order: PUT /orders/{id} with what it buys.
func (sagaKind) Send(ctx context.Context, c *http.Client, endpoint string, op Planned, timeout time.Duration) Attempt {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, endpoint+"/orders/"+url.PathEscape(op.ID), strings.NewReader(op.Value))
	if err != nil {
		return Attempt{Out: NotApplied, Err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	code, msg, failed := attempt(c, req, endpoint, timeout)
	if failed != nil {
		return *failed
	}
	return writeOutcome(endpoint, code, msg)
}

// Read reads a customer's confirmed total from the read model.
func (sagaKind) Read(ctx context.Context, c *http.Client, endpoint, key string, timeout time.Duration) (Attempt, history.Observed) {
	return readKey(ctx, c, endpoint, "/customers/"+url.PathEscape(key), "total", timeout)
}

func (sagaKind) Keys(w plan.Workload) []string {
	p, _ := readSaga(w)
	var keys []string
	for i := range p.customers {
		keys = append(keys, fmt.Sprintf("c-%d", i))
	}
	for i := range sagaSlowPayers {
		keys = append(keys, fmt.Sprintf("slow-%d", i))
	}
	return keys
}
