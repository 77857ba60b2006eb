package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const (
	relayEvery = 50 * time.Millisecond
	relayBatch = 100
)

// relay publishes the outbox: the events written in the same transaction as their
// orders (store.go). It polls for unpublished rows, publishes each to JetStream, and
// marks it published only after JetStream acknowledged it. A crash or a lost
// connection between the publish and the mark publishes the event again on a later
// poll: delivery is at least once. Two things absorb the repeats: the Nats-Msg-Id
// header (JetStream drops a repeat within the stream's 2-minute duplicate window) and
// the idempotent projection (projection.go) for the rest.
//
// FOR UPDATE SKIP LOCKED lets several replicas run the relay at once: each takes the
// rows no other holds.
func relay(ctx context.Context, db *sql.DB, js jetstream.JetStream) {
	failing := false
	wait := relayEvery
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		n, err := relayOnce(db, js)
		wait = relayEvery
		if n == relayBatch {
			wait = 0 // a full batch: there may be more at once
		}
		switch {
		case err != nil && !failing:
			log.Printf("relay: %v (published %d; retrying)", err, n)
			failing = true
		case err == nil && failing:
			log.Printf("relay: recovered (published %d)", n)
			failing = false
		}
	}
}

// relayOnce publishes one batch and returns how many rows it marked published.
func relayOnce(db *sql.DB, js jetstream.JetStream) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, order_id, customer, amount FROM outbox
		WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, relayBatch)
	if err != nil {
		return 0, err
	}
	type row struct {
		id int64
		ev event
	}
	var batch []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.ev.Order, &r.ev.Customer, &r.ev.Amount); err != nil {
			rows.Close()
			return 0, err
		}
		batch = append(batch, r)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(batch) == 0 {
		return 0, nil
	}

	published := 0
	var pubErr error
	for _, r := range batch {
		data, _ := json.Marshal(r.ev)
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.Publish(pctx, createdSubject, data, jetstream.WithMsgID(fmt.Sprintf("order-%d", r.ev.Order)))
		pcancel()
		if err != nil {
			// Keep the rest for the next poll (in order); mark what went out.
			pubErr = fmt.Errorf("publish order %d: %w", r.ev.Order, err)
			break
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET published_at = clock_timestamp() WHERE id = $1`, r.id); err != nil {
			return 0, err
		}
		published++
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return published, pubErr
}
