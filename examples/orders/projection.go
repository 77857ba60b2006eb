package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// project builds the read model (customer_totals) from the orders.created events.
//
// JetStream delivers each event at least once: again when an ack is lost, when AckWait
// passes, when the relay published it twice. The projection is idempotent: it records
// each applied order in "projected" in the same transaction as the totals, and adds
// to the totals only when that row is new. It acks after the commit; a crash in
// between redelivers an event that is then skipped.
//
// Several replicas pull from the same durable consumer and share the events.
func project(ctx context.Context, db *sql.DB, js jetstream.JetStream, cons jetstream.Consumer) {
	failing := false
	fail := func(format string, args ...any) {
		if !failing {
			log.Printf("projection: "+format, args...)
			failing = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
	for ctx.Err() == nil {
		if cons == nil {
			// The consumer (or the whole stream) went missing, e.g. the broker lost its
			// storage: create it again.
			c, err := setupStream(ctx, js)
			if err != nil {
				fail("recreate consumer: %v", err)
				continue
			}
			cons = c
			log.Printf("projection: consumer %s recreated", consumerName)
		}
		batch, err := cons.Fetch(100, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			fail("fetch: %v", err)
			continue
		}
		var dbErr error
		for msg := range batch.Messages() {
			if dbErr != nil {
				// The database failed on an earlier event of this batch: hand the rest
				// back at once rather than wait for each to fail.
				msg.NakWithDelay(time.Second)
				continue
			}
			var ev event
			if err := json.Unmarshal(msg.Data(), &ev); err != nil || ev.Order <= 0 {
				log.Printf("projection: malformed event %q: dropped", msg.Data())
				msg.Term()
				continue
			}
			added, err := applyEvent(db, ev)
			if err != nil {
				dbErr = err
				msg.NakWithDelay(time.Second) // redelivered later
				continue
			}
			if !added {
				log.Printf("projection: order %d already projected: skipped (delivered again)", ev.Order)
			}
			if err := msg.Ack(); err != nil {
				log.Printf("projection: ack order %d: %v (it will be redelivered and skipped)", ev.Order, err)
			}
		}
		err = batch.Error()
		switch {
		case dbErr != nil:
			fail("database: %v (events handed back)", dbErr)
		case errors.Is(err, jetstream.ErrConsumerNotFound), errors.Is(err, jetstream.ErrConsumerDeleted),
			errors.Is(err, jetstream.ErrStreamNotFound):
			cons = nil
			fail("fetch: %v", err)
		case err != nil:
			fail("fetch: %v", err)
		case !js.Conn().IsConnected():
			// A fetch while disconnected just waits out its MaxWait.
			fail("nats not connected")
		default:
			if failing {
				log.Printf("projection: recovered")
				failing = false
			}
		}
	}
}

// applyEvent applies one event in one transaction; added is false when the order was
// already projected.
func applyEvent(db *sql.DB, ev event) (added bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO projected (order_id, customer, amount) VALUES ($1, $2, $3)
		ON CONFLICT (order_id) DO NOTHING`, ev.Order, ev.Customer, ev.Amount)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if n == 0 {
		return false, nil // seen before: nothing to add (the deferred rollback ends tx)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO customer_totals (customer, total, orders) VALUES ($1, $2, 1)
		ON CONFLICT (customer) DO UPDATE SET total = customer_totals.total + EXCLUDED.total,
		                                     orders = customer_totals.orders + 1`, ev.Customer, ev.Amount); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
