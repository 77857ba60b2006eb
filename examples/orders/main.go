// Command orders is a small order-intake service: clients POST orders with an
// Idempotency-Key, the service stores each order in PostgreSQL together with an
// outbox row, a relay publishes the outbox to NATS JetStream, and a projection
// consumes the events into a per-customer read model.
//
//	POST /orders            {"customer":"c-3","amount":12} + Idempotency-Key header
//	GET  /customers/{name}  {"customer":"c-3","total":N,"orders":M}
//	GET  /healthz           200 once the schema exists and NATS is connected
//
// It is written the way an ordinary service is written (net/http, database/sql,
// nats.go) and shows three patterns that keep a service correct when networks drop,
// processes restart and messages are delivered twice:
//
//   - the idempotency key (http.go, store.go): a retried POST returns the first
//     answer instead of creating a second order;
//   - the transactional outbox (store.go, relay.go): the order and the event that
//     announces it are written in one transaction, and published afterwards, at least
//     once;
//   - the idempotent projection (projection.go): an event delivered twice is counted
//     once.
//
// Environment: PORT (default 8080), DATABASE_URL (required), NATS_URL (required),
// ORDERS_DEDUP (default "on"; "off" disables the idempotency-key deduplication, a
// deliberate known bug).
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startupTimeout bounds how long the service waits for each dependency at start:
// dependencies may start at the same time as the service, or behind a proxy that is
// not up yet.
const startupTimeout = 30 * time.Second

type config struct {
	Port        int
	DatabaseURL string
	NatsURL     string
	Dedup       bool
}

func loadConfig() (config, error) {
	c := config{Port: 8080, Dedup: true}
	if p := os.Getenv("PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("PORT=%q: not a port number", p)
		}
		c.Port = n
	}
	c.DatabaseURL = os.Getenv("DATABASE_URL")
	if c.DatabaseURL == "" {
		return c, errors.New("DATABASE_URL is required (a PostgreSQL URL)")
	}
	c.NatsURL = os.Getenv("NATS_URL")
	if c.NatsURL == "" {
		return c, errors.New("NATS_URL is required")
	}
	switch d := os.Getenv("ORDERS_DEDUP"); d {
	case "", "on":
	case "off":
		c.Dedup = false
	default:
		return c, fmt.Errorf("ORDERS_DEDUP=%q: want on or off", d)
	}
	return c, nil
}

// redact hides a password in a database URL before it is logged.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "(set)"
}

// app is what the HTTP handlers and the background workers share.
type app struct {
	store *store
	// ready is set once the schema exists: the order endpoints answer 503 before.
	ready atomic.Bool
	// nc is set once NATS answered and the stream exists (healthz).
	nc atomic.Pointer[nats.Conn]
}

func main() {
	log.SetOutput(os.Stderr)
	log.SetFlags(log.LstdFlags | log.Lmicroseconds | log.LUTC)
	log.SetPrefix("orders: ")

	cfg, err := loadConfig()
	if err != nil {
		log.Printf("config: %v", err)
		os.Exit(2)
	}
	dedup := "on"
	if !cfg.Dedup {
		dedup = "off (KNOWN BUG: retried requests create duplicate orders)"
	}
	log.Printf("config: port=%d database=%s nats=%s dedup=%s", cfg.Port, redact(cfg.DatabaseURL), cfg.NatsURL, dedup)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, cfg); err != nil && ctx.Err() == nil {
		log.Printf("exit: %v", err)
		os.Exit(1)
	}
	log.Printf("stopped")
}

func run(ctx context.Context, cfg config) error {
	ctx, cancel := context.WithCancel(ctx) // also stops the workers when the server fails
	defer cancel()
	db, err := sql.Open("pgx", cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(time.Minute)

	a := &app{store: &store{db: db, dedup: cfg.Dedup}}

	// Listen first, so /healthz answers 503 while the dependencies come up.
	addr := fmt.Sprintf("0.0.0.0:%d", cfg.Port)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.routes(), ReadHeaderTimeout: 5 * time.Second}
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(ln) }()
	log.Printf("listening on %s", addr)

	var workers sync.WaitGroup
	defer func() {
		// Graceful shutdown: stop taking requests, let the ones in flight finish,
		// then stop the workers.
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := srv.Shutdown(sctx); err != nil {
			log.Printf("http shutdown: %v", err)
		}
		cancel()
		workers.Wait()
		if nc := a.nc.Load(); nc != nil {
			nc.Close()
		}
	}()

	// PostgreSQL: wait until it answers, then create the schema.
	if err := retry(ctx, "postgres", func(ctx context.Context) error {
		return a.store.migrate(ctx)
	}); err != nil {
		return err
	}
	a.ready.Store(true)
	log.Printf("postgres: schema ready")

	// NATS: wait until it answers, then create the stream and the consumer.
	var nc *nats.Conn
	if err := retry(ctx, "nats", func(context.Context) error {
		var err error
		nc, err = connectNATS(cfg.NatsURL)
		return err
	}); err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return err
	}
	var cons jetstream.Consumer
	if err := retry(ctx, "jetstream", func(ctx context.Context) error {
		var err error
		cons, err = setupStream(ctx, js)
		return err
	}); err != nil {
		nc.Close()
		return err
	}
	a.nc.Store(nc)
	log.Printf("nats: stream %s and consumer %s ready", streamName, consumerName)

	workers.Add(2)
	go func() { defer workers.Done(); relay(ctx, db, js) }()
	go func() { defer workers.Done(); project(ctx, db, js, cons) }()
	log.Printf("ready")

	select {
	case <-ctx.Done():
		log.Printf("shutting down")
		return nil
	case err := <-srvDone:
		return fmt.Errorf("http: %w", err)
	}
}

// retry calls f until it succeeds, the service is stopped, or startupTimeout passes.
func retry(ctx context.Context, what string, f func(context.Context) error) error {
	deadline := time.Now().Add(startupTimeout)
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(actx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: gave up after %s: %w", what, startupTimeout, err)
		}
		log.Printf("%s: not ready (attempt %d): %v", what, attempt, err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
