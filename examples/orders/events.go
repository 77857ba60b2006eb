package main

import (
	"context"
	"log"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	streamName    = "ORDERS"
	subjectPrefix = "orders.>"
	// createdSubject carries one event per order: {"order":id,"customer":...,"amount":...}.
	createdSubject = "orders.created"
	consumerName   = "orders-projection"
)

// event is what the relay publishes and the projection consumes.
type event struct {
	Order    int64  `json:"order"`
	Customer string `json:"customer"`
	Amount   int64  `json:"amount"`
}

// connectNATS connects once; after that the connection reconnects by itself, forever.
// Short pings notice a connection that a network fault silently stopped.
func connectNATS(url string) (*nats.Conn, error) {
	return nats.Connect(url,
		nats.Name("orders"),
		nats.Timeout(2*time.Second),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.PingInterval(2*time.Second),
		nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: our own Close at shutdown
				log.Printf("nats: disconnected: %v", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Printf("nats: reconnected to %s", nc.ConnectedUrlRedacted())
		}),
		nats.ClosedHandler(func(*nats.Conn) { log.Printf("nats: connection closed") }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Printf("nats: %v", err)
		}),
	)
}

// setupStream creates or updates the stream and the projection's durable consumer. It
// is idempotent: every replica runs it at start, and the projection runs it again when
// the consumer went missing.
//
// The stream's duplicate window makes JetStream drop a second publish with the same
// Nats-Msg-Id within 2 minutes: the relay publishes at least once, and this turns
// most of its repeats into nothing. The projection is idempotent for the rest.
func setupStream(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       streamName,
		Subjects:   []string{subjectPrefix},
		Storage:    jetstream.FileStorage,
		Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return nil, err
	}
	return js.CreateOrUpdateConsumer(ctx, streamName, jetstream.ConsumerConfig{
		Durable:       consumerName,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       5 * time.Second,
		MaxDeliver:    -1, // never give up on an event: the read model must converge
		FilterSubject: createdSubject,
	})
}
