package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/history"
)

// step is one scripted answer of the test server.
type step string

const (
	s200     step = "200"
	s409     step = "409"
	s500     step = "500"
	s503     step = "503"
	sReset   step = "reset"   // read the request, then RST the connection
	sTimeout step = "timeout" // never answer within the client's timeout
)

// scripted serves the steps in order, one per request, and 200 after them.
type scripted struct {
	mu    sync.Mutex
	steps []step
	n     int
	paths []string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st := s200
	if s.n < len(s.steps) {
		st = s.steps[s.n]
	}
	s.n++
	s.paths = append(s.paths, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	// Reading the body lets the server notice the client hanging up (r.Context()).
	io.Copy(io.Discard, r.Body)
	switch st {
	case s200:
		w.WriteHeader(http.StatusAccepted)
	case s409:
		http.Error(w, "conflict: amount differs", http.StatusConflict)
	case s500:
		http.Error(w, "boom", http.StatusInternalServerError)
	case s503:
		http.Error(w, "not accepting", http.StatusServiceUnavailable)
	case sReset:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		conn.(*net.TCPConn).SetLinger(0) // close with RST, not FIN
		conn.Close()
	case sTimeout:
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}
}

func (s *scripted) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// refusedAddr is an address nobody listens on.
func refusedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func testWorkload() plan.Workload {
	return plan.Workload{Kind: "bank", Clients: 1, Timeout: plan.Duration(150 * time.Millisecond), Seed: 7,
		Retry: plan.Retry{Attempts: 3, Backoff: plan.Duration(time.Millisecond), Max: plan.Duration(5 * time.Millisecond)}, Params: map[string]string{"accounts": "3", "opening": "1000", "mix": "0.5"}}
}

func TestOutcomeClassification(t *testing.T) {
	cases := []struct {
		name     string
		steps    []step
		refused  bool // the first endpoint refuses connections; attempts alternate
		attempts int  // retry policy
		want     history.OpType
		sent     int
		errs     int // distinct errors
		errHas   string
	}{
		{name: "ok at once", steps: []step{s200}, attempts: 3, want: history.Ok, sent: 1},
		{name: "ok after 503s", steps: []step{s503, s503, s200}, attempts: 3, want: history.Ok, sent: 3, errs: 1},
		{name: "503 every time is a fail", steps: []step{s503, s503, s503}, attempts: 3, want: history.Fail, sent: 3, errs: 1, errHas: "HTTP 503"},
		{name: "409 is a fail and not retried", steps: []step{s409}, attempts: 3, want: history.Fail, sent: 1, errs: 1, errHas: "HTTP 409: conflict"},
		{name: "500 is unknown", steps: []step{s500, s500, s500}, attempts: 3, want: history.Info, sent: 3, errs: 1, errHas: "HTTP 500"},
		{name: "one unknown makes the whole op unknown", steps: []step{s500, s503, s409}, attempts: 3, want: history.Info, sent: 3, errs: 3, errHas: "409"},
		{name: "reset after sending is unknown", steps: []step{sReset}, attempts: 1, want: history.Info, sent: 1, errs: 1},
		{name: "timeout is unknown", steps: []step{sTimeout}, attempts: 1, want: history.Info, sent: 1, errs: 1, errHas: "timeout after 150ms"},
		{name: "reset then ok", steps: []step{sReset, s200}, attempts: 3, want: history.Ok, sent: 2, errs: 1},
		{name: "refused everywhere is a fail", refused: true, steps: []step{s503}, attempts: 2, want: history.Fail, sent: 2, errs: 2},
		{name: "refused then the other replica answers", refused: true, steps: []step{s200}, attempts: 2, want: history.Ok, sent: 2, errs: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := &scripted{steps: tc.steps}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			eps := []string{hs.URL}
			if tc.refused {
				eps = []string{refusedAddr(t), hs.URL}
			}
			w := testWorkload()
			w.Retry.Attempts = tc.attempts
			var buf bytes.Buffer
			rec := history.NewWriter(&buf)
			r := &Runner{Workload: w, Endpoints: eps, Rec: rec, Start: time.Now(), Client: NewHTTPClient(1, w.Timeout.D())}
			c := r.newClient(0)
			c.do(context.Background(), Planned{ID: "w-000042", F: FWithdraw, Key: "acct-7", Amount: 10})
			rec.Flush()
			ops, err := history.Read[history.Op](&buf)
			if err != nil {
				t.Fatal(err)
			}
			if len(ops) != 2 || ops[0].Type != history.Invoke {
				t.Fatalf("want invoke + completion, got %+v", ops)
			}
			got := ops[1]
			if got.Type != tc.want || got.Attempts != tc.sent || len(got.Errors) != tc.errs {
				t.Fatalf("got %s after %d attempts with errors %q, want %s after %d with %d distinct errors",
					got.Type, got.Attempts, got.Errors, tc.want, tc.sent, tc.errs)
			}
			if tc.errHas != "" && !strings.Contains(got.Error, tc.errHas) {
				t.Errorf("last error %q does not mention %q", got.Error, tc.errHas)
			}
			if got.Type != history.Ok && got.Error != got.Errors[len(got.Errors)-1] && !slicesContains(got.Errors, got.Error) {
				t.Errorf("last error %q not among %q", got.Error, got.Errors)
			}
			if got.ID != "w-000042" || got.Key != "acct-7" || string(got.Value) != `{"amount":10}` || got.F != FWithdraw {
				t.Errorf("completion fields: %+v", got)
			}
			if ops[0].Index != 0 || got.Index != 1 || got.Time < ops[0].Time {
				t.Errorf("index/time: invoke %d@%d, completion %d@%d", ops[0].Index, ops[0].Time, got.Index, got.Time)
			}
			if n := srv.requests(); n > tc.sent {
				t.Errorf("server saw %d requests, client counted %d", n, tc.sent)
			}
		})
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestRequestShape(t *testing.T) {
	var got struct {
		method, path, ctype string
		body                map[string]int64
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path, got.ctype = r.Method, r.URL.Path, r.Header.Get("Content-Type")
		json.NewDecoder(r.Body).Decode(&got.body)
		w.WriteHeader(http.StatusOK)
	}))
	defer hs.Close()
	a := send(context.Background(), http.DefaultClient, hs.URL, Planned{ID: "d-000043", F: FDeposit, Key: "acct-1", Amount: 25}, time.Second)
	if a.Out != Applied {
		t.Fatalf("attempt: %+v", a)
	}
	if got.method != http.MethodPut || got.path != "/accounts/acct-1/deposits/d-000043" || got.ctype != "application/json" || got.body["amount"] != 25 {
		t.Fatalf("request: %+v", got)
	}
	send(context.Background(), http.DefaultClient, hs.URL, Planned{ID: "w-000044", F: FWithdraw, Key: "acct-2", Amount: 5}, time.Second)
	if got.path != "/accounts/acct-2/withdrawals/w-000044" {
		t.Fatalf("withdrawal path %q", got.path)
	}
}

func TestBackoffFullJitter(t *testing.T) {
	w := testWorkload()
	w.Retry = plan.Retry{Attempts: 10, Backoff: plan.Duration(10 * time.Millisecond), Max: plan.Duration(60 * time.Millisecond)}
	c := (&Runner{Workload: w}).newClient(0)
	for n, ceil := range []time.Duration{10, 20, 40, 60, 60, 60} {
		ceil *= time.Millisecond
		var top time.Duration
		for range 2000 {
			d := c.backoff(n)
			if d < 0 || d >= ceil {
				t.Fatalf("retry %d: back-off %s outside [0,%s)", n, d, ceil)
			}
			top = max(top, d)
		}
		// Full jitter spreads over the whole range, not just near the ceiling or zero.
		if top < ceil*9/10 {
			t.Errorf("retry %d: largest of 2000 back-offs %s, want close to %s", n, top, ceil)
		}
	}
	w.Retry.Backoff = 0
	if d := (&Runner{Workload: w}).newClient(0).backoff(3); d != 0 {
		t.Errorf("no back-off configured: slept %s", d)
	}
}

func TestRetriesWaitBetweenAttempts(t *testing.T) {
	srv := &scripted{steps: []step{s503, s503, s503, s503}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	w := testWorkload()
	// Full jitter is random, so check only the bound: the sum of the ceilings.
	w.Retry = plan.Retry{Attempts: 4, Backoff: plan.Duration(20 * time.Millisecond), Max: plan.Duration(30 * time.Millisecond)}
	r := &Runner{Workload: w, Endpoints: []string{hs.URL}, Start: time.Now(), Client: NewHTTPClient(1, time.Second)}
	lat := r.newClient(0).do(context.Background(), Planned{ID: "d-000001", F: FDeposit, Key: "acct-0", Amount: 1})
	if lat > 20*time.Millisecond+30*time.Millisecond+30*time.Millisecond+time.Second {
		t.Errorf("4 attempts took %s", lat)
	}
	if srv.requests() != 4 || r.count().Fail != 1 {
		t.Errorf("requests %d, fails %d", srv.requests(), r.count().Fail)
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	w := plan.Workload{Clients: 4, Seed: 42, Params: map[string]string{"accounts": "20", "opening": "1000", "mix": "0.3"}}
	seen := map[string]bool{}
	for _, o := range Openings(w) {
		seen[o.ID] = true
	}
	withdrawals, writes, reads := 0, 0, 0
	for proc := range w.Clients {
		a, b := NewGenerator(w, proc), NewGenerator(w, proc)
		for range 500 {
			x, y := a.Next(), b.Next()
			if x != y {
				t.Fatalf("proc %d: %+v then %+v from the same seed", proc, x, y)
			}
			if x.F == FRead {
				reads++
				if x.ID != "" || x.Key == "" {
					t.Fatalf("a read %+v: want a key and no id", x)
				}
				continue
			}
			writes++
			if seen[x.ID] {
				t.Fatalf("id %s drawn twice", x.ID)
			}
			seen[x.ID] = true
			if x.Amount < 1 || x.Amount > MaxAmount(w) {
				t.Fatalf("amount %d outside [1,%d]", x.Amount, MaxAmount(w))
			}
			if x.F == FWithdraw {
				withdrawals++
				if x.ID[0] != 'w' {
					t.Fatalf("withdrawal id %s", x.ID)
				}
			}
		}
	}
	if share := float64(withdrawals) / float64(writes); share < 0.25 || share > 0.35 {
		t.Errorf("withdrawal share %.3f, want about %.1f", share, bankOf(w).mix)
	}
	if share := float64(reads) / 2000; share < ReadShare-0.03 || share > ReadShare+0.03 {
		t.Errorf("read share %.3f, want about %.2f", share, ReadShare)
	}
	if a, b := NewGenerator(w, 0).Next(), NewGenerator(w, 1).Next(); a == b {
		t.Errorf("two clients drew the same operation %+v", a)
	}
	w2 := w
	w2.Seed++
	same := 0
	g1, g2 := NewGenerator(w, 0), NewGenerator(w2, 0)
	for range 50 {
		x, y := g1.Next(), g2.Next()
		if x.Key == y.Key && x.Amount == y.Amount && x.F == y.F {
			same++
		}
	}
	if same > 10 {
		t.Errorf("another seed gave %d of 50 identical operations", same)
	}
	if got := NewGenerator(w, 3).Next().ID; got != "d-000023" && got != "w-000023" {
		t.Errorf("first id of client 3 after 20 openings: %s", got)
	}
}

// bank is a minimal in-memory bank: accepts every operation once.
type bank struct {
	mu    sync.Mutex
	seen  map[string]bool
	dup   atomic.Int64
	reads atomic.Int64
}

func (b *bank) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		b.reads.Add(1)
		if strings.HasSuffix(r.URL.Path, "/acct-0") {
			http.Error(w, `{"error":"no such account"}`, http.StatusNotFound)
			return
		}
		fmt.Fprint(w, `{"account":"x","balance":7,"seq":3}`)
		return
	}
	b.mu.Lock()
	if b.seen[r.URL.Path] {
		b.dup.Add(1)
	}
	b.seen[r.URL.Path] = true
	b.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func TestRunRecordsAHistory(t *testing.T) {
	b := &bank{seen: map[string]bool{}}
	hs1, hs2 := httptest.NewServer(b), httptest.NewServer(b)
	defer hs1.Close()
	defer hs2.Close()
	w := plan.Workload{Kind: "bank", Clients: 4, Rate: 200, Timeout: plan.Duration(time.Second), Seed: 1, Retry: plan.Retry{Attempts: 2}, Params: map[string]string{"accounts": "10", "opening": "100", "mix": "0.5"}}
	var buf bytes.Buffer
	rec := history.NewWriter(&buf)
	var progress atomic.Int64
	r := &Runner{Workload: w, Endpoints: []string{hs1.URL, hs2.URL}, Rec: rec, Start: time.Now(),
		Progress: func(Progress) { progress.Add(1) }, ProgressEvery: 50 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	st, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec.Flush()
	ops, err := history.Read[history.Op](&buf)
	if err != nil {
		t.Fatal(err)
	}
	if st.Ok != st.Ops || st.Fail+st.Info != 0 || int64(len(ops)) != 2*st.Ops {
		t.Fatalf("stats %+v for %d records", st, len(ops))
	}
	// 10 openings plus at most rate × duration (+1 for the limiter's first token).
	if st.Ops < 10+40 || st.Ops > 10+100+1 {
		t.Errorf("%d ops in 500ms at 200/s", st.Ops)
	}
	if st.P50 <= 0 || st.P99 < st.P50 || st.OpsPerSec <= 0 {
		t.Errorf("latency/throughput: %+v", st)
	}
	if progress.Load() == 0 {
		t.Error("Progress never called")
	}
	invoked := map[string]int{}
	completed := map[string]int{}
	lastOpening := int64(-1)
	firstOther := int64(-1)
	for i, op := range ops {
		if op.Index != int64(i) {
			t.Fatalf("record %d has index %d", i, op.Index)
		}
		if i > 0 && op.Time < ops[i-1].Time {
			t.Fatalf("time goes back at record %d", i)
		}
		if op.F == FRead {
			continue // reads have no id: a process's next record completes them
		}
		if op.Type == history.Invoke {
			invoked[op.ID]++
		} else {
			completed[op.ID]++
		}
		opening := op.F == FDeposit && op.ID < "d-000010" && len(op.ID) == len("d-000010")
		if opening && op.Type != history.Invoke {
			lastOpening = op.Index
		}
		if !opening && op.Type == history.Invoke && firstOther < 0 {
			firstOther = op.Index
		}
	}
	for id, n := range invoked {
		if n != 1 || completed[id] != 1 {
			t.Fatalf("op %s: %d invokes, %d completions", id, n, completed[id])
		}
	}
	if lastOpening < 0 || firstOther < lastOpening {
		t.Errorf("an operation (record %d) started before the accounts were open (record %d)", firstOther, lastOpening)
	}
	if b.dup.Load() != 0 {
		t.Errorf("%d requests repeated without a failure", b.dup.Load())
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	if _, err := Run(context.Background(), testWorkload(), nil, nil, time.Now()); err == nil {
		t.Error("no endpoints: want an error")
	}
	w := testWorkload()
	w.Clients = 0
	if _, err := Run(context.Background(), w, []string{"http://127.0.0.1:1"}, nil, time.Now()); err == nil {
		t.Error("0 clients: want an error")
	}
}

// The final reads read every account once through the public API and record what
// they saw: a balance at a version, or no value for an account the service lacks.
func TestReadAllRecordsWhatEachAccountShows(t *testing.T) {
	b := &bank{seen: map[string]bool{}}
	hs := httptest.NewServer(b)
	defer hs.Close()
	var buf bytes.Buffer
	rec := history.NewWriter(&buf)
	w := plan.Workload{Kind: "bank", Clients: 3, Timeout: plan.Duration(time.Second), Params: map[string]string{"accounts": "4"}}
	r := &Runner{Workload: w, Endpoints: []string{hs.URL}, Rec: rec, Start: time.Now()}
	if err := r.ReadAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec.Flush()
	ops, err := history.Read[history.Op](&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 8 || b.reads.Load() != 4 {
		t.Fatalf("%d records, %d reads: want an invoke and an ok for each of 4 accounts", len(ops), b.reads.Load())
	}
	for i := 0; i < len(ops); i += 2 {
		inv, done := ops[i], ops[i+1]
		if inv.F != FRead || inv.Type != history.Invoke || done.Type != history.Ok || inv.Process != 3 || inv.Key != AccountKey(i/2) {
			t.Fatalf("records %+v %+v: want a read of %s by process 3 (after the clients)", inv, done, AccountKey(i/2))
		}
		seen, err := history.ObservedOf(&done)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case inv.Key == "acct-0" && seen.Value != nil:
			t.Errorf("acct-0 answered 404 but the read saw %d", *seen.Value)
		case inv.Key != "acct-0" && (seen.Value == nil || *seen.Value != 7 || seen.Seq != 3):
			t.Errorf("%s saw %+v, want 7 at seq 3", inv.Key, seen)
		}
	}
}

// A service recovering answers reads slowly for a while: each final read is tried
// until it answers while the wait lasts, and once it is over each key still gets one
// attempt; an interrupted run stops reading.
func TestReadAllWaitsForARecoveringService(t *testing.T) {
	var calls atomic.Int64
	down := atomic.Bool{}
	down.Store(true)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if down.Load() {
			http.Error(w, "replaying", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"balance": 5, "seq": 1}`)
	}))
	defer hs.Close()
	w := plan.Workload{Kind: "bank", Clients: 1, Timeout: plan.Duration(time.Second), Params: map[string]string{"accounts": "3"}}
	time.AfterFunc(1500*time.Millisecond, func() { down.Store(false) })
	r := &Runner{Workload: w, Endpoints: []string{hs.URL}, Start: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.ReadAll(ctx); err != nil {
		t.Fatal(err)
	}
	if r.counts.Ok != 3 || calls.Load() < 8 {
		t.Fatalf("%d ok reads in %d calls: want every key read once the service answers, after more than five tries", r.counts.Ok, calls.Load())
	}

	down.Store(true)
	calls.Store(0)
	r = &Runner{Workload: w, Endpoints: []string{hs.URL}, Start: time.Now()}
	over, cancel2 := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel2()
	<-over.Done()
	if err := r.ReadAll(over); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Errorf("%d attempts after the wait ended: want one per key", calls.Load())
	}

	calls.Store(0)
	stopped, stop := context.WithCancel(context.Background())
	stop()
	if err := (&Runner{Workload: w, Endpoints: []string{hs.URL}, Start: time.Now()}).ReadAll(stopped); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 0 {
		t.Errorf("%d attempts in an interrupted run", calls.Load())
	}
}
