package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
)

// orderOps are the operations of the order API below, as a scenario declares them.
const orderOps = `[
 {"name":"order","weight":9,"method":"POST","path":"/orders","body":"{\"customer\":\"{{.Key}}\",\"amount\":{{.Amount}}}"},
 {"name":"read","weight":1,"read":true,"path":"/customers/{{.Key}}","value":"total","seq":"orders"}]`

// pathOps carry the operation id in the path instead of a header.
const pathOps = `[
 {"name":"order","method":"PUT","path":"/orders/{{.ID}}","body":"{\"customer\":\"{{.Key}}\",\"amount\":{{.Amount}}}","idempotency-key":"path"},
 {"name":"cancel","method":"POST","path":"/orders/{{.ID}}/cancel","idempotency-key":"none"}]`

// orderAPI is a tiny idempotent order service: POST /orders with an Idempotency-Key
// header (or PUT /orders/{id}) creates an order at most once per key, and
// GET /customers/{c} reads a customer's total and order count (404 before its first
// order). Scripted answers, one per write request in turn, inject failures; a bug makes
// it apply retries again ("double") or record a wrong amount ("amount").
type orderAPI struct {
	mu      sync.Mutex
	orders  map[string]bool // by idempotency key
	totals  map[string][2]int64
	effects []history.Effect
	script  []string // per write request: "", "409", "503", "500-after", "reset-after", "slow"
	every   map[int]string
	reads   []string // per read request: "", "503", "500", "nofield"
	bug     string
	writes  int
	nreads  int
	seen    []string // method, path and Idempotency-Key of each write
}

func newOrderAPI() *orderAPI {
	return &orderAPI{orders: map[string]bool{}, totals: map[string][2]int64{}}
}

func (a *orderAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		a.read(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	step := ""
	if a.writes < len(a.script) {
		step = a.script[a.writes]
	}
	for n, s := range a.every {
		if a.writes > 0 && a.writes%n == 0 {
			step = s
		}
	}
	a.writes++
	key := r.Header.Get("Idempotency-Key")
	a.seen = append(a.seen, r.Method+" "+r.URL.Path+" "+key)
	if id, ok := strings.CutPrefix(r.URL.Path, "/orders/"); ok && r.Method == http.MethodPut {
		key = id
	}
	a.mu.Unlock()
	switch step {
	case "409", "503":
		code := map[string]int{"409": http.StatusConflict, "503": http.StatusServiceUnavailable}[step]
		http.Error(w, "scripted "+step, code)
		return
	case "slow":
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
		return
	}
	if strings.HasSuffix(r.URL.Path, "/cancel") {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var req struct {
		Customer string `json:"customer"`
		Amount   int64  `json:"amount"`
	}
	if key == "" || json.Unmarshal(body, &req) != nil || req.Customer == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	if !a.orders[key] || a.bug == "double" {
		a.orders[key] = true
		t := a.totals[req.Customer]
		t[0] += req.Amount
		t[1]++
		a.totals[req.Customer] = t
		amount := req.Amount
		if a.bug == "amount" {
			amount++
		}
		a.effects = append(a.effects, history.Effect{Service: "orders", View: history.WriteView, Kind: "order", Key: req.Customer, ID: key, Amount: amount, Seq: t[1]})
	}
	a.mu.Unlock()
	switch step {
	case "500-after":
		http.Error(w, "applied, then lost the answer", http.StatusInternalServerError)
	case "reset-after":
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	default:
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q}`, key)
	}
}

func (a *orderAPI) read(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	step := ""
	if a.nreads < len(a.reads) {
		step = a.reads[a.nreads]
	}
	a.nreads++
	c, _ := strings.CutPrefix(r.URL.Path, "/customers/")
	t, ok := a.totals[c]
	a.mu.Unlock()
	switch {
	case step == "503":
		http.Error(w, "replaying", http.StatusServiceUnavailable)
	case step == "500":
		http.Error(w, "boom", http.StatusInternalServerError)
	case step == "nofield":
		fmt.Fprintf(w, `{"customer":%q}`, c)
	case !ok:
		http.Error(w, `{"error":"no orders"}`, http.StatusNotFound)
	default:
		fmt.Fprintf(w, `{"customer":%q,"total":%d,"orders":%d}`, c, t[0], t[1])
	}
}

func (a *orderAPI) state() (seen []string, effects []history.Effect, writes int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.seen), slices.Clone(a.effects), a.writes
}

func httpWorkload(ops string, more ...string) plan.Workload {
	w := plan.Workload{Kind: "http", Service: "orders", Clients: 1, Timeout: plan.Duration(150 * time.Millisecond), Seed: 7,
		Retry:  plan.Retry{Attempts: 3, Backoff: plan.Duration(time.Millisecond), Max: plan.Duration(5 * time.Millisecond)},
		Params: map[string]string{"keys": "3", "key-prefix": "c-", "amount": "1-100", "operations": ops}}
	for i := 0; i+1 < len(more); i += 2 {
		w.Params[more[i]] = more[i+1]
	}
	return w
}

func records(t *testing.T, buf *bytes.Buffer, rec *history.Writer) []history.Op {
	t.Helper()
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	ops, err := history.Read[history.Op](buf)
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// One write, as each answer classifies it: ok, fail or info, retried or not, and every
// retry under the same id, which the Idempotency-Key header carries.
func TestHTTPOutcomes(t *testing.T) {
	cases := []struct {
		name     string
		script   []string
		status   string // the status parameter, "" for the defaults
		refused  bool   // the only endpoint refuses connections
		attempts int
		want     history.OpType
		sent     int
		applied  int
		errHas   string
	}{
		{name: "created", attempts: 3, want: history.Ok, sent: 1, applied: 1},
		{name: "409 is a fail, not retried", script: []string{"409"}, attempts: 3, want: history.Fail, sent: 1, errHas: "HTTP 409: scripted 409"},
		{name: "503 is a fail, retried", script: []string{"503", "503"}, attempts: 3, want: history.Ok, sent: 3, applied: 1},
		{name: "503 every time", script: []string{"503", "503", "503"}, attempts: 3, want: history.Fail, sent: 3, errHas: "HTTP 503"},
		{name: "applied, answered 500: the retry is deduplicated", script: []string{"500-after"}, attempts: 3, want: history.Ok, sent: 2, applied: 1},
		{name: "500 every time is unknown", script: []string{"500-after", "500-after", "500-after"}, attempts: 3, want: history.Info, sent: 3, applied: 1, errHas: "HTTP 500"},
		{name: "reset after applying, then ok", script: []string{"reset-after"}, attempts: 3, want: history.Ok, sent: 2, applied: 1},
		{name: "reset every time is unknown", script: []string{"reset-after"}, attempts: 1, want: history.Info, sent: 1, applied: 1, errHas: "reset"},
		{name: "timeout is unknown", script: []string{"slow"}, attempts: 1, want: history.Info, sent: 1, errHas: "timeout after 150ms"},
		{name: "refused before sending is a fail", refused: true, attempts: 2, want: history.Fail, sent: 2, errHas: "connection refused"},
		{name: "503 named unknown", status: `{"unknown":"500-599, 503"}`, script: []string{"503", "503", "503"}, attempts: 3, want: history.Info, sent: 3},
		{name: "409 named ok", status: `{"ok":["200-299", 409]}`, script: []string{"409"}, attempts: 3, want: history.Ok, sent: 1},
		{name: "409 in a wider unknown: the given class decides, not fail's default", status: `{"unknown":"400-599"}`, script: []string{"409"}, attempts: 1, want: history.Info, sent: 1},
		{name: "409 in a wider ok", status: `{"ok":"200-499"}`, script: []string{"409"}, attempts: 3, want: history.Ok, sent: 1},
		{name: "500 named fail is retried", status: `{"fail":"400-499, 500"}`, script: []string{"500-after", "500-after", "500-after"}, attempts: 3, want: history.Fail, sent: 3, applied: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := newOrderAPI()
			api.script = tc.script
			hs := httptest.NewServer(api)
			defer hs.Close()
			eps := []string{hs.URL}
			if tc.refused {
				eps = []string{refusedAddr(t)}
			}
			w := httpWorkload(orderOps)
			if tc.status != "" {
				w.Params["status"] = tc.status
			}
			w.Retry.Attempts = tc.attempts
			var buf bytes.Buffer
			rec := history.NewWriter(&buf)
			r := &Runner{Workload: w, Endpoints: eps, Rec: rec, Start: time.Now(), Client: NewHTTPClient(1, w.Timeout.D())}
			if _, err := r.kind(); err != nil {
				t.Fatal(err)
			}
			r.newClient(0).do(context.Background(), Planned{ID: "order-000042", F: "order", Op: "order", Key: "c-1", Amount: 10})
			ops := records(t, &buf, rec)
			if len(ops) != 2 || ops[0].Type != history.Invoke {
				t.Fatalf("want invoke + completion, got %+v", ops)
			}
			got := ops[1]
			if got.Type != tc.want || got.Attempts != tc.sent {
				t.Fatalf("got %s after %d attempts (errors %q), want %s after %d", got.Type, got.Attempts, got.Errors, tc.want, tc.sent)
			}
			if tc.errHas != "" && !strings.Contains(got.Error, tc.errHas) {
				t.Errorf("last error %q does not mention %q", got.Error, tc.errHas)
			}
			for _, o := range ops {
				if o.ID != "order-000042" || o.F != "order" || o.Key != "c-1" || string(o.Value) != `{"amount":10}` {
					t.Errorf("record %+v: want order-000042, f order, key c-1, amount 10", o)
				}
			}
			seen, effects, _ := api.state()
			if len(effects) != tc.applied {
				t.Errorf("applied %d times, want %d", len(effects), tc.applied)
			}
			if tc.refused {
				return
			}
			if len(seen) != tc.sent {
				t.Fatalf("server saw %q, want %d requests", seen, tc.sent)
			}
			for _, s := range seen {
				if s != "POST /orders order-000042" {
					t.Errorf("request %q: want every attempt POST /orders with Idempotency-Key order-000042", s)
				}
			}
		})
	}
}

// A read records what the key shows: its value and version, no value for a 404 (an ok
// read of a missing key), and fail or info on errors, as the bank's reads do.
func TestHTTPReads(t *testing.T) {
	api := newOrderAPI()
	api.totals["c-1"] = [2]int64{57, 3}
	api.reads = []string{"", "", "nofield", "503", "500"}
	hs := httptest.NewServer(api)
	defer hs.Close()
	var buf bytes.Buffer
	rec := history.NewWriter(&buf)
	r := &Runner{Workload: httpWorkload(orderOps), Endpoints: []string{hs.URL}, Rec: rec, Start: time.Now(), Client: NewHTTPClient(1, time.Second)}
	if _, err := r.kind(); err != nil {
		t.Fatal(err)
	}
	c := r.newClient(0)
	for _, key := range []string{"c-1", "c-2", "c-1", "c-1", "c-1"} {
		c.do(context.Background(), Planned{F: FRead, Op: "read", Key: key})
	}
	ops := records(t, &buf, rec)
	if len(ops) != 10 {
		t.Fatalf("%d records, want 10", len(ops))
	}
	want := []struct {
		typ   history.OpType
		value string
	}{{history.Ok, `{"value":57,"seq":3}`}, {history.Ok, "{}"}, {history.Info, ""}, {history.Fail, ""}, {history.Info, ""}}
	for i, w := range want {
		inv, done := ops[2*i], ops[2*i+1]
		if inv.F != FRead || inv.ID != "" || done.F != FRead || done.Type != w.typ || string(done.Value) != w.value {
			t.Errorf("read %d: %+v then %+v, want f read, %s with value %q", i, inv, done, w.typ, w.value)
		}
	}
	if !strings.Contains(ops[5].Error, "unreadable read body: no total") {
		t.Errorf("a body without the value field: error %q", ops[5].Error)
	}
}

// The final reads read every key with the first read operation; without one they are
// skipped, with no request and no record.
func TestHTTPFinalReads(t *testing.T) {
	api := newOrderAPI()
	api.totals["c-0"] = [2]int64{5, 1}
	hs := httptest.NewServer(api)
	defer hs.Close()
	var buf bytes.Buffer
	rec := history.NewWriter(&buf)
	w := httpWorkload(orderOps)
	w.Clients = 2
	if err := (&Runner{Workload: w, Endpoints: []string{hs.URL}, Rec: rec, Start: time.Now()}).ReadAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	ops := records(t, &buf, rec)
	var keys []string
	for i := 0; i+1 < len(ops); i += 2 {
		if ops[i].Process != 2 || ops[i+1].Type != history.Ok {
			t.Errorf("final read %+v %+v: want an ok read by process 2", ops[i], ops[i+1])
		}
		keys = append(keys, ops[i].Key)
	}
	if !slices.Equal(keys, []string{"c-0", "c-1", "c-2"}) || string(ops[1].Value) != `{"value":5,"seq":1}` || string(ops[3].Value) != "{}" {
		t.Errorf("final reads %+v: want c-0 (5 at seq 1), c-1 and c-2 (no value)", ops)
	}

	buf.Reset()
	rec = history.NewWriter(&buf)
	if err := (&Runner{Workload: httpWorkload(pathOps), Endpoints: []string{hs.URL}, Rec: rec, Start: time.Now()}).ReadAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ops := records(t, &buf, rec); len(ops) != 0 || api.nreads != 3 {
		t.Errorf("no read operation: %d records, %d reads in all; want none more", len(ops), api.nreads)
	}
}

// idempotency-key: path puts the id in the path and sends no header; none sends it
// nowhere; a write without {{.Amount}} asks for no amount and records none.
func TestHTTPIdempotencyModes(t *testing.T) {
	api := newOrderAPI()
	hs := httptest.NewServer(api)
	defer hs.Close()
	var buf bytes.Buffer
	rec := history.NewWriter(&buf)
	w := httpWorkload(pathOps)
	r := &Runner{Workload: w, Endpoints: []string{hs.URL}, Rec: rec, Start: time.Now(), Client: NewHTTPClient(1, time.Second)}
	k, err := r.kind()
	if err != nil {
		t.Fatal(err)
	}
	gen := k.Generator(w, 0)
	var order, cancel Planned
	for order.ID == "" || cancel.ID == "" {
		switch p := gen(); p.F {
		case "order":
			order = p
		case "cancel":
			cancel = p
		}
	}
	if order.NoAmount || order.Amount < 1 || !cancel.NoAmount || cancel.Amount != 0 {
		t.Fatalf("order %+v, cancel %+v: want an amount for the order only", order, cancel)
	}
	c := r.newClient(0)
	c.do(context.Background(), order)
	c.do(context.Background(), cancel)
	seen, effects, _ := api.state()
	if want := []string{"PUT /orders/" + order.ID + " ", "POST /orders/" + cancel.ID + "/cancel "}; !slices.Equal(seen, want) {
		t.Errorf("requests %q, want %q", seen, want)
	}
	if len(effects) != 1 || effects[0].ID != order.ID || effects[0].Amount != order.Amount || effects[0].Key != order.Key {
		t.Errorf("effects %+v: want the order, under its id", effects)
	}
	ops := records(t, &buf, rec)
	if len(ops) != 4 || ops[1].Type != history.Ok || ops[3].Type != history.Ok ||
		string(ops[1].Value) != fmt.Sprintf(`{"amount":%d}`, order.Amount) || ops[2].Value != nil || ops[3].Value != nil {
		t.Errorf("records %+v: want the order with its amount and the cancel with none", ops)
	}
}

// The operations a client draws depend only on the seed, its process and the
// workload: by weight, keys in the key space, amounts in the range, ids numbered as the
// bank's are (k·clients + proc, no openings) and prefixed by the operation's name.
func TestHTTPGeneratorIsDeterministic(t *testing.T) {
	w := httpWorkload(orderOps, "keys", "10", "amount", "5-8")
	w.Clients, w.Seed = 4, 42
	k := httpKind{}
	seen := map[string]bool{}
	reads, writes := 0, 0
	for proc := range w.Clients {
		a, b := k.Generator(w, proc), k.Generator(w, proc)
		n := 0
		for range 1000 {
			x, y := a(), b()
			if x != y {
				t.Fatalf("proc %d: %+v then %+v from the same seed", proc, x, y)
			}
			if !strings.HasPrefix(x.Key, "c-") || len(x.Key) != 3 {
				t.Fatalf("key %q outside c-0 … c-9", x.Key)
			}
			if x.F == FRead {
				reads++
				if x.ID != "" || x.Op != "read" || x.Amount != 0 {
					t.Fatalf("a read %+v: want a key and no id", x)
				}
				continue
			}
			writes++
			if want := fmt.Sprintf("order-%06d", proc+n*w.Clients); x.ID != want || x.F != "order" || x.Op != "order" {
				t.Fatalf("write %+v: want id %s", x, want)
			}
			n++
			if seen[x.ID] || x.Amount < 5 || x.Amount > 8 || x.NoAmount {
				t.Fatalf("write %+v: a repeated id, or an amount outside 5-8", x)
			}
			seen[x.ID] = true
		}
	}
	if share := float64(reads) / float64(reads+writes); share < 0.07 || share > 0.13 {
		t.Errorf("read share %.3f, want about 0.1 (weights 9:1)", share)
	}
	w2 := w
	w2.Seed++
	if first(k.Generator(w, 0), 20) == first(k.Generator(w2, 0), 20) {
		t.Error("another seed drew the same operations")
	}
	if first(k.Generator(w, 0), 20) == first(k.Generator(w, 1), 20) {
		t.Error("two clients drew the same operations")
	}
	// A seed's operations are fixed: changing them breaks every recorded run's replay.
	if got, want := first(k.Generator(w, 1), 4), "order-000001 c-5 5|read c-4|order-000005 c-1 7|order-000009 c-3 7|"; got != want {
		t.Errorf("seed 42, client 1 draws\n%s\nwant\n%s", got, want)
	}
}

func first(next func() Planned, n int) string {
	var b strings.Builder
	for range n {
		p := next()
		if p.F == FRead {
			fmt.Fprintf(&b, "read %s|", p.Key)
		} else {
			fmt.Fprintf(&b, "%s %s %d|", p.ID, p.Key, p.Amount)
		}
	}
	return b.String()
}

// A run of the http workload records the history the bank's records, and the same
// invariants judge it: a correct service passes durable and idempotent through lost
// answers and refusals; one that applies a retry again fails idempotent, one that
// applies another amount fails durable.
func TestHTTPRunIsJudgedByTheInvariants(t *testing.T) {
	for _, bug := range []string{"", "double", "amount"} {
		t.Run("bug="+bug, func(t *testing.T) {
			api := newOrderAPI()
			api.bug = bug
			// Every 10th write answers 500 after applying, every 13th 503.
			api.every = map[int]string{10: "500-after", 13: "503"}
			hs := httptest.NewServer(api)
			defer hs.Close()
			w := httpWorkload(orderOps)
			w.Clients, w.Rate, w.Timeout, w.Retry.Attempts = 3, 400, plan.Duration(time.Second), 8
			var buf bytes.Buffer
			rec := history.NewWriter(&buf)
			r := &Runner{Workload: w, Endpoints: []string{hs.URL}, Rec: rec, Start: time.Now()}
			ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
			defer cancel()
			st, err := r.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.ReadAll(context.Background()); err != nil {
				t.Fatal(err)
			}
			ops := records(t, &buf, rec)
			// All ok after their retries, but for those the end of the run cut short.
			if st.Ops < 20 || st.Fail+st.Info > int64(w.Clients) {
				t.Fatalf("stats %+v: want some operations, all ok after their retries", st)
			}
			writes := map[string]int{}
			for i, o := range ops {
				if o.Index != int64(i) {
					t.Fatalf("record %d has index %d", i, o.Index)
				}
				if o.F != FRead {
					if o.F != "order" || !strings.HasPrefix(o.ID, "order-") {
						t.Fatalf("write record %+v", o)
					}
					writes[o.ID]++
				}
			}
			retried := 0
			for _, o := range ops {
				if writes[o.ID] != 2 && o.F != FRead {
					t.Fatalf("op %s has %d records, want invoke and completion", o.ID, writes[o.ID])
				}
				if o.Type == history.Ok && o.Attempts > 1 {
					retried++
				}
			}
			if retried == 0 {
				t.Error("no operation was retried: the scripted failures did not happen")
			}
			// The final reads, the last records, show each key's total as the service holds it.
			api.mu.Lock()
			totals := maps.Clone(api.totals)
			api.mu.Unlock()
			for _, o := range ops[len(ops)-6:] {
				if o.Type == history.Invoke {
					continue
				}
				seen, _ := history.ObservedOf(&o)
				tt, known := totals[o.Key]
				if o.Process != w.Clients || (known && (seen.Value == nil || *seen.Value != tt[0] || seen.Seq != tt[1])) || (!known && seen.Value != nil) {
					t.Errorf("final read %+v, service holds %v", o, tt)
				}
			}
			_, effects, _ := api.state()
			in := &invariants.Input{Ops: ops, Effects: effects, Views: map[string][]string{"orders": {history.WriteView}}}
			res := invariants.Check(context.Background(), in, []invariants.Spec{{Name: "idempotent"}, {Name: "durable"}})
			want := map[string]invariants.Verdict{"idempotent": invariants.Pass, "durable": invariants.Pass}
			switch bug {
			case "double": // and an acknowledged order took effect twice
				want["idempotent"], want["durable"] = invariants.Fail, invariants.Fail
			case "amount":
				want["durable"] = invariants.Fail
			}
			for _, r := range res {
				if r.Verdict != want[r.Name] {
					t.Errorf("%s: %s (%s), want %s", r.Name, r.Verdict, r.Summary, want[r.Name])
				}
			}
		})
	}
}

// The kind refuses what it cannot run, naming the item of the parameter at fault
// (plan.ParamError), for validation to report where the file writes it.
func TestHTTPCheckNamesTheItem(t *testing.T) {
	cases := []struct {
		ops, status string
		want        []string // "param+path: part of the message"
	}{
		{ops: `{"name":"x"}`, want: []string{"operations: expected a list of operations"}},
		{ops: `[]`, want: []string{"operations: no operations"}},
		{ops: `[{"name":"r","read":true,"path":"/r/{{.Key}}","value":"v"}]`, want: []string{"operations: no write operation"}},
		{ops: `[{"name":"o","path":"/o","methd":"PUT"}]`, want: []string{"operations[0].methd: unknown key \"methd\""}},
		{ops: `[{"name":"o","path":"/o"},{"name":"p"}]`, want: []string{`operations[1]: missing required key "path"`}},
		{ops: `[{"name":"o","path":"/o","method":"GET"}]`, want: []string{`operations[0].method: invalid method "GET" for a write`}},
		{ops: `[{"name":"o","path":"/o","weight":0}]`, want: []string{"operations[0].weight: weight must be from 1"}},
		{ops: `[{"name":"o","path":"/o","weight":"9"}]`, want: []string{"operations[0].weight: weight: expected an integer, got a string"}},
		{ops: `[{"name":"o","path":"/o/{{.Id}}"}]`, want: []string{"operations[0].path: path: unknown field .Id"}},
		{ops: `[{"name":"o","path":"/o","body":"{{.Amount"}]`, want: []string{"operations[0].body: body: invalid template"}},
		{ops: `[{"name":"o","path":"/o","idempotency-key":"path"}]`, want: []string{"operations[0].path: idempotency-key: path needs"}},
		{ops: `[{"name":"o","path":"/o"},{"name":"r","read":true,"path":"/r"}]`, want: []string{`operations[1]: missing required key "value"`}},
		{ops: `[{"name":"o","path":"/o"},{"name":"o","path":"/p"}]`, want: []string{`operations[1].name: operation "o" is declared twice`}},
		{ops: `[{"name":"read","path":"/o"}]`, want: []string{`operations[0].name: a write cannot be named "read"`}},
		{ops: `[{"name":"o","path":"o"}]`, want: []string{"operations[0].path: path must be a URL path starting with /"}},
		{ops: orderOps, status: `{"fail":"400-4999"}`, want: []string{"status.fail: invalid status codes"}},
		{ops: orderOps, status: `{"fail":["400-499", "299-200"]}`, want: []string{"status.fail[1]: invalid status codes"}},
		{ops: orderOps, status: `{"ok":"200-299","fail":"500-599","unknown":"500-599"}`, want: []string{"status.unknown: 500-599 is both unknown (500-599) and fail"}},
		{ops: orderOps, status: `{"ok":[]}`, want: []string{"status.ok: ok needs at least one code"}},
		{ops: orderOps, status: `{"okay":"200"}`, want: []string{`status.okay: unknown key "okay" in status`}},
	}
	for _, tc := range cases {
		w := httpWorkload(tc.ops)
		if tc.status != "" {
			w.Params["status"] = tc.status
		}
		err := httpKind{}.Check(w)
		var got []string
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				var pe *plan.ParamError
				if !errors.As(e, &pe) {
					t.Fatalf("%s: %v is no ParamError", tc.ops, e)
				}
				got = append(got, pe.Param+pe.Path+": "+pe.Msg)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s %s: got %q, want %q", tc.ops, tc.status, got, tc.want)
			continue
		}
		for i, want := range tc.want {
			p, msg, _ := strings.Cut(want, ": ")
			if !strings.HasPrefix(got[i], p+": ") || !strings.Contains(got[i], msg) {
				t.Errorf("%s %s: got %q, want %q", tc.ops, tc.status, got[i], want)
			}
		}
	}
	if err := (httpKind{}).Check(httpWorkload(orderOps)); err != nil {
		t.Errorf("the order operations: %v", err)
	}
}
