package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"strings"
	"time"
)

// txTimeout bounds one request's work in the database. It is detached from the
// request's context: a client that hangs up mid-request does not cancel a transaction
// that is about to commit (which would turn a clean answer into an unknown outcome).
const txTimeout = 5 * time.Second

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", a.postOrder)
	mux.HandleFunc("GET /customers/{customer}", a.getCustomer)
	mux.HandleFunc("GET /healthz", a.healthz)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeBody(w, status, b)
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// postOrder: POST /orders with an Idempotency-Key header and {"customer","amount"}.
//
// A client that gets no answer (timeout, connection reset) retries with the same key;
// the key makes the retry safe: the order is created at most once and the retry gets
// the first answer back (200, same body). The same key with a different body is a
// client bug: 422.
func (a *app) postOrder(w http.ResponseWriter, r *http.Request) {
	if !a.ready.Load() {
		writeError(w, http.StatusServiceUnavailable, "starting")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > 255 {
		writeError(w, http.StatusBadRequest, "Idempotency-Key header required (at most 255 bytes)")
		return
	}
	var req struct {
		Customer string `json:"customer"`
		Amount   int64  `json:"amount"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	if strings.TrimSpace(req.Customer) == "" || req.Amount <= 0 {
		writeError(w, http.StatusBadRequest, "customer must be non-empty and amount positive")
		return
	}
	// The request's fingerprint: a retry must carry the same request.
	canon, _ := json.Marshal(req)
	sum := sha256.Sum256(canon)
	hash := hex.EncodeToString(sum[:])

	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), txTimeout)
	defer cancel()
	status, body, err := a.store.placeOrder(ctx, key, hash, req.Customer, req.Amount)
	var unknown unknownOutcome
	switch {
	case errors.Is(err, errKeyReused):
		log.Printf("order key=%s: 422 %v", key, err)
		writeError(w, http.StatusUnprocessableEntity, err.Error())
	case errors.As(err, &unknown):
		// The COMMIT may or may not have happened: say so. The client can retry with
		// the same key to learn which.
		log.Printf("order key=%s: 500 %v", key, err)
		writeError(w, http.StatusInternalServerError, "outcome unknown: retry with the same Idempotency-Key")
	case err != nil:
		// The transaction never committed: nothing was written, a retry is safe.
		log.Printf("order key=%s: 503 %v", key, err)
		writeError(w, http.StatusServiceUnavailable, "database unavailable: nothing was written")
	default:
		if status == http.StatusCreated {
			log.Printf("order key=%s: 201 created %s", key, body)
		} else {
			log.Printf("order key=%s: %d replayed %s", key, status, body)
		}
		writeBody(w, status, body)
	}
}

// getCustomer: GET /customers/{customer}, from the read model (eventually consistent:
// it lags the orders by the relay and the projection).
func (a *app) getCustomer(w http.ResponseWriter, r *http.Request) {
	if !a.ready.Load() {
		writeError(w, http.StatusServiceUnavailable, "starting")
		return
	}
	customer := r.PathValue("customer")
	ctx, cancel := context.WithTimeout(r.Context(), txTimeout)
	defer cancel()
	total, orders, ok, err := a.store.customerTotals(ctx, customer)
	switch {
	case err != nil:
		log.Printf("customer %s: 503 %v", customer, err)
		writeError(w, http.StatusServiceUnavailable, "database unavailable")
	case !ok:
		writeError(w, http.StatusNotFound, "no orders for this customer")
	default:
		writeJSON(w, http.StatusOK, struct {
			Customer string `json:"customer"`
			Total    int64  `json:"total"`
			Orders   int64  `json:"orders"`
		}{customer, total, orders})
	}
}

// healthz: 200 once the schema exists and NATS is connected.
func (a *app) healthz(w http.ResponseWriter, _ *http.Request) {
	nc := a.nc.Load()
	switch {
	case !a.ready.Load():
		writeError(w, http.StatusServiceUnavailable, "database schema not ready")
	case nc == nil || !nc.IsConnected():
		writeError(w, http.StatusServiceUnavailable, "nats not connected")
	default:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}
