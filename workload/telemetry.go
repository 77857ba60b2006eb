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

// The telemetry workload: seed 001's vacuum fleet sends location updates, malfunction
// alerts and payments through the telemetry fixture's ingest, each event under an id
// the device chose (the dedup id its retries carry); a share of them are poison —
// malformed, or breaking a rule (an unknown alert code, a payment out of range) — for
// the dead-letter path. Reads ask a device's paid total.
func init() {
	Register(plan.WorkloadKind{
		Name: "telemetry",
		Doc:  "device events against the telemetry fixture: locations (at-most-once), alerts (at-least-once), payments (exactly-once), some of them poison",
		Params: map[string]plan.Param{
			"devices":  {Type: plan.ParamInt, Min: 1, Default: "16", Doc: "how many devices send events (the keys)"},
			"alerts":   {Type: plan.ParamRatio, Default: "0.3", Doc: "share of events that are malfunction alerts"},
			"payments": {Type: plan.ParamRatio, Default: "0.3", Doc: "share of events that are payments; the rest are location updates"},
			"poison":   {Type: plan.ParamRatio, Default: "0.03", Doc: "share of events that are malformed or break a rule, for the dead-letter path"},
		},
	}, telemetryKind{})
}

// The event types, the operation names (`f`) of the history.
const (
	FLocation = "location"
	FAlert    = "alert"
	FPayment  = "payment"
)

type telemetryKind struct{}

type telemetryParams struct {
	devices                  int
	alerts, payments, poison float64
}

func readTelemetry(w plan.Workload) (telemetryParams, error) {
	a := w.Args()
	d, err1 := a.Int("devices")
	al, err2 := a.Ratio("alerts")
	pa, err3 := a.Ratio("payments")
	po, err4 := a.Ratio("poison")
	p := telemetryParams{devices: int(d), alerts: al, payments: pa, poison: po}
	err := errors.Join(err1, err2, err3, err4)
	if err == nil && p.alerts+p.payments > 1 {
		err = errors.New("alerts + payments is more than every event")
	}
	return p, err
}

func (telemetryKind) Check(w plan.Workload) error {
	_, err := readTelemetry(w)
	return err
}

func (telemetryKind) Openings(plan.Workload) []Planned { return nil }

// garbled marks an event whose body is sent cut short: the history records it as
// {"garbled": "<the body sent>"}, valid JSON, while the service receives the body.
const garbled = "garbled"

func (telemetryKind) Generator(w plan.Workload, proc int) func() Planned {
	p, _ := readTelemetry(w)
	d := newDraws(w, proc, 0)
	devices := func() string { return fmt.Sprintf("d-%d", d.index(p.devices)) }
	return func() Planned {
		if d.rng.Float64() < ReadShare {
			return Planned{F: FRead, Key: devices()}
		}
		device, n := devices(), d.number()
		var f, body string
		var amount int64
		switch r := d.rng.Float64(); {
		case r < p.alerts:
			f, body = FAlert, fmt.Sprintf(`{"code":%d}`, d.amount(1, 20))
		case r < p.alerts+p.payments:
			amount = d.amount(1, 100)
			f, body = FPayment, fmt.Sprintf(`{"amount":%d}`, amount)
		default:
			f, body = FLocation, fmt.Sprintf(`{"n":%d}`, n+1)
		}
		if d.rng.Float64() < p.poison {
			switch {
			case d.rng.Float64() < 0.5:
				cut, _ := json.Marshal(body[:len(body)-1])
				body = `{"` + garbled + `":` + string(cut) + `}`
			case f == FAlert:
				body = `{"code":99}`
			case f == FPayment:
				amount = -amount
				body = fmt.Sprintf(`{"amount":%d}`, amount)
			default:
				body = `{"n":-1}`
			}
		}
		return Planned{ID: numberedID(f[:1], n), F: f, Key: device, Amount: amount, Value: body}
	}
}

// Send publishes one event: PUT /devices/{device}/events/{type}/{id}.
func (telemetryKind) Send(ctx context.Context, c *http.Client, endpoint string, op Planned, timeout time.Duration) Attempt {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body := op.Value
	var g map[string]string
	if strings.HasPrefix(body, `{"`+garbled+`":`) && json.Unmarshal([]byte(body), &g) == nil {
		body = g[garbled]
	}
	u := endpoint + "/devices/" + url.PathEscape(op.Key) + "/events/" + op.F + "/" + url.PathEscape(op.ID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, strings.NewReader(body))
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

// Read reads a device's paid total.
func (telemetryKind) Read(ctx context.Context, c *http.Client, endpoint, key string, timeout time.Duration) (Attempt, history.Observed) {
	return readKey(ctx, c, endpoint, "/devices/"+url.PathEscape(key), "paid", timeout)
}

func (telemetryKind) Keys(w plan.Workload) []string {
	p, _ := readTelemetry(w)
	keys := make([]string, p.devices)
	for i := range keys {
		keys[i] = fmt.Sprintf("d-%d", i)
	}
	return keys
}
