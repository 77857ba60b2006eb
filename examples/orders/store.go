package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// schema is created at start by every replica. CREATE TABLE IF NOT EXISTS alone is not
// safe when two replicas run it at the same moment (one of them can fail on a catalog
// unique index), so migrate runs it under a transaction-scoped advisory lock.
var schema = []string{
	// The write model: one row per accepted order. idem_key has no unique
	// constraint on purpose: deduplication is the handler's job (and ORDERS_DEDUP=off
	// shows what happens without it).
	`CREATE TABLE IF NOT EXISTS orders (
		id         bigserial PRIMARY KEY,
		idem_key   text NOT NULL,
		customer   text NOT NULL,
		amount     bigint NOT NULL,
		created_at timestamptz NOT NULL DEFAULT clock_timestamp()
	)`,
	// One row per Idempotency-Key: the request's fingerprint and the answer given.
	`CREATE TABLE IF NOT EXISTS idempotency (
		key          text PRIMARY KEY,
		order_id     bigint NOT NULL,
		request_hash text NOT NULL,
		status       int NOT NULL,
		response     text NOT NULL
	)`,
	// The transactional outbox: events written with the order, published by relay.go.
	`CREATE TABLE IF NOT EXISTS outbox (
		id           bigserial PRIMARY KEY,
		order_id     bigint NOT NULL,
		customer     text NOT NULL,
		amount       bigint NOT NULL,
		published_at timestamptz
	)`,
	`CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) WHERE published_at IS NULL`,
	// The read model, built from the events by projection.go.
	`CREATE TABLE IF NOT EXISTS customer_totals (
		customer text PRIMARY KEY,
		total    bigint NOT NULL,
		orders   bigint NOT NULL
	)`,
	// The events the projection has applied: what makes it idempotent.
	`CREATE TABLE IF NOT EXISTS projected (
		order_id     bigint PRIMARY KEY,
		customer     text NOT NULL,
		amount       bigint NOT NULL,
		projected_at timestamptz NOT NULL DEFAULT clock_timestamp()
	)`,
}

type store struct {
	db    *sql.DB
	dedup bool // ORDERS_DEDUP
}

// migrate creates the schema; it is safe to run from several replicas at once.
func (s *store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('orders schema'))`); err != nil {
		return err
	}
	for _, stmt := range schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// order is both the created order and the answer to POST /orders.
type order struct {
	ID       int64  `json:"order"`
	Customer string `json:"customer"`
	Amount   int64  `json:"amount"`
}

// errKeyReused: the Idempotency-Key was first used with another request.
var errKeyReused = errors.New("Idempotency-Key reused with another request")

// unknownOutcome wraps an error after which the order may or may not exist: the
// COMMIT was sent and no answer came back. Any error before that rolled the
// transaction back, so nothing was written.
type unknownOutcome struct{ err error }

func (u unknownOutcome) Error() string { return "commit: outcome unknown: " + u.err.Error() }
func (u unknownOutcome) Unwrap() error { return u.err }

// placeOrder stores an order once per Idempotency-Key and returns the answer for the
// request: 201 and the new order, or 200 and the stored answer of the first request
// with this key (a retry). The order, its outbox event and the key's record are
// written in one transaction: all of them or none.
func (s *store) placeOrder(ctx context.Context, key, hash, customer string, amount int64) (status int, body []byte, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	defer tx.Rollback()

	if s.dedup {
		// Claim the key first. A concurrent request with the same key blocks on the
		// primary key here until this transaction ends; then it finds our row.
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency (key, order_id, request_hash, status, response)
			VALUES ($1, 0, $2, 0, '') ON CONFLICT (key) DO NOTHING`, key, hash)
		if err != nil {
			return 0, nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return 0, nil, err
		} else if n == 0 {
			// The key was used before: answer as the first time, unless the request
			// differs (the IETF Idempotency-Key draft answers 422 then).
			var storedHash, response string
			if err := tx.QueryRowContext(ctx, `SELECT request_hash, response FROM idempotency WHERE key = $1`, key).
				Scan(&storedHash, &response); err != nil {
				return 0, nil, err
			}
			if storedHash != hash {
				return 0, nil, errKeyReused
			}
			return 200, []byte(response), nil
		}
	}

	o := order{Customer: customer, Amount: amount}
	if err := tx.QueryRowContext(ctx, `INSERT INTO orders (idem_key, customer, amount) VALUES ($1, $2, $3) RETURNING id`,
		key, customer, amount).Scan(&o.ID); err != nil {
		return 0, nil, err
	}
	// The outbox row commits or rolls back with the order: no order without its
	// event, no event without its order.
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (order_id, customer, amount) VALUES ($1, $2, $3)`,
		o.ID, customer, amount); err != nil {
		return 0, nil, err
	}
	body, err = json.Marshal(o)
	if err != nil {
		return 0, nil, err
	}
	if s.dedup {
		_, err = tx.ExecContext(ctx, `UPDATE idempotency SET order_id = $2, status = 201, response = $3 WHERE key = $1`,
			key, o.ID, string(body))
	} else {
		// The known bug: no lookup, every request is a new order. The key is still
		// recorded (first use wins) so the operations can be observed.
		_, err = tx.ExecContext(ctx, `INSERT INTO idempotency (key, order_id, request_hash, status, response)
			VALUES ($1, $2, $3, 201, $4) ON CONFLICT (key) DO NOTHING`, key, o.ID, hash, string(body))
	}
	if err != nil {
		return 0, nil, err
	}
	if err := tx.Commit(); err != nil {
		return 0, nil, unknownOutcome{err}
	}
	return 201, body, nil
}

// customerTotals reads the read model. ok is false when the customer has no order yet.
func (s *store) customerTotals(ctx context.Context, customer string) (total, orders int64, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT total, orders FROM customer_totals WHERE customer = $1`, customer).
		Scan(&total, &orders)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("customer_totals: %w", err)
	}
	return total, orders, true, nil
}
