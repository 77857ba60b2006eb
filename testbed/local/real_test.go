package local_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/plan"

	"github.com/nats-io/nats.go"

	"github.com/mscli/mscli/testbed"
)

// These tests run the real fixtures of the mscli binary; they skip until cmd/mscli has
// them.

func TestRealBroker(t *testing.T) {
	bin := realBinary(t, "broker")
	pl := &plan.Plan{Scenario: "broker-only", Topology: plan.Topology{Broker: "nats"}}
	e, _ := up(t, pl, testbed.Options{Binary: bin, StartTimeout: 30 * time.Second})
	connect := func() {
		t.Helper()
		nc, err := nats.Connect(e.BrokerURL(), nats.Timeout(5*time.Second))
		if err != nil {
			t.Fatalf("connect to %s: %v", e.BrokerURL(), err)
		}
		defer nc.Close()
		js, err := nc.JetStream()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.AccountInfo(); err != nil {
			t.Fatalf("JetStream: %v", err)
		}
	}
	connect()
	br := node(t, e, "broker")
	pid := pidOf(t, br)
	if err := br.Kill(context.Background()); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Fatal("broker alive after kill -9")
	}
	if err := br.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	connect()
}

func TestRealBank(t *testing.T) {
	bin := realBinary(t, "broker", "bank")
	e, _ := up(t, bankPlan(2), testbed.Options{Binary: bin, StartTimeout: 30 * time.Second})
	eps, obs := e.Endpoints("bank"), e.ObserveURLs("bank")
	for i, ep := range eps {
		req, _ := http.NewRequest(http.MethodPut, ep+"/accounts/acct-1/deposits/d-00000"+string(rune('0'+i)), strings.NewReader(`{"amount":10}`))
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatalf("deposit through %s: %v", ep, err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("deposit through %s: HTTP %d", ep, resp.StatusCode)
		}
	}
	if code, body := get(obs[0] + "/effects"); code != http.StatusOK {
		t.Errorf("effects: %d %s", code, body)
	}
}
