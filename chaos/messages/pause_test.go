package messages_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/mscli/mscli/chaos"
)

// pause-consumers holds every durable consumer of the target, and only those, for the
// window: nothing is delivered until the heal, then everything is, once.
func TestPauseConsumersHoldsDeliveriesForTheWindow(t *testing.T) {
	const n = 20
	url, js, _ := tele(t, n)
	al := durable(t, js, "alerts", alerts, jetstream.AckExplicitPolicy)
	loc := durable(t, js, "locations", locations, jetstream.AckNonePolicy)
	heal := apply(t, url, "pause-consumers", alerts, nil)
	if got := drain(t, al, 0); len(got) != 0 {
		t.Fatalf("a paused consumer delivered %d messages", len(got))
	}
	if got := drain(t, loc, 0); len(got) != n {
		t.Errorf("the other target's consumer delivered %d messages, want %d", len(got), n)
	}
	if err := heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := drain(t, al, 0)
	if m := missing(t, ids(alerts, 0, n), data(got)); len(m) > 0 || len(got) != n {
		t.Errorf("after the heal %d delivered, missing %v", len(got), m)
	}
}

func TestPauseConsumersNeedsAConsumer(t *testing.T) {
	url, _, _ := tele(t, 1)
	if _, err := chaos.Apply(context.Background(), &env{broker: url}, fault("pause-consumers", alerts, nil)); err == nil {
		t.Fatal("pause-consumers on a target without consumers: no error")
	}
}
