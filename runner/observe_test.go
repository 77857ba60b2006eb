package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// A request the network delivers late can create an operation after the system looked
// quiet; the final observation names it, so the run waits again instead of judging.
func TestFinalObservationNamesUnsettledOperations(t *testing.T) {
	var late atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"service":"bank","view":"write","kind":"operation","id":"d-1","state":"applied","at":2000000000}`)
		if late.Load() {
			fmt.Fprintln(w, `{"service":"bank","view":"write","kind":"operation","id":"w-7","state":"received"}`)
		}
	}))
	defer srv.Close()
	o := newObserver(map[string]source{"bank": newHTTPSource([]string{srv.URL + "/effects"})})
	start := time.Unix(1, 0)
	effs, err := o.observeAll(context.Background(), start)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := unsettled(effs); n != 0 {
		t.Fatalf("%d unsettled in a settled observation", n)
	}
	if effs[0].At != 1e9 {
		t.Errorf("at %d, want 1s on the run clock (applied at 2s Unix, the run started at 1s)", effs[0].At)
	}
	late.Store(true)
	effs, err = o.observeAll(context.Background(), start)
	if err != nil {
		t.Fatal(err)
	}
	if n, first := unsettled(effs); n != 1 || first != "w-7 received" {
		t.Fatalf("unsettled = %d (%s), want w-7 received", n, first)
	}
}

// A command applied between the poll that found the system quiet and the final
// observation changes a key after the final reads: the final observation, compared
// with the quiet poll, names the change, so the run waits again instead of judging
// reads that missed it.
func TestFinalObservationComparedWithTheQuietPoll(t *testing.T) {
	var late atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"service":"bank","view":"write","kind":"operation","id":"w-1","state":"applied"}`)
		for _, view := range []string{"write", "read"} {
			if late.Load() {
				fmt.Fprintf(w, `{"service":"bank","view":%q,"kind":"state","key":"acct-1","value":47,"seq":99}`+"\n", view)
			} else {
				fmt.Fprintf(w, `{"service":"bank","view":%q,"kind":"state","key":"acct-1","value":55,"seq":98}`+"\n", view)
			}
		}
	}))
	defer srv.Close()
	o := newObserver(map[string]source{"bank": newHTTPSource([]string{srv.URL + "/effects"})})
	start := time.Now()
	conv, err := o.converge(context.Background(), start, start, 5*time.Second, 10*time.Millisecond, history.NewWriter(io.Discard))
	if err != nil || !conv.Converged {
		t.Fatalf("converge: %+v, %v", conv, err)
	}
	final, err := o.observeAll(context.Background(), start)
	if err != nil {
		t.Fatal(err)
	}
	if d := o.changedSinceQuiet(final); d != "" {
		t.Fatalf("an unchanged system is said to have changed: %s", d)
	}
	late.Store(true)
	if final, err = o.observeAll(context.Background(), start); err != nil {
		t.Fatal(err)
	}
	if d, want := o.changedSinceQuiet(final), "bank acct-1 in the read model was 55 at seq 98, is 47 at seq 99"; d != want {
		t.Fatalf("changedSinceQuiet = %q, want %q", d, want)
	}
	// The next converge starts from what it sees then.
	if _, err := o.converge(context.Background(), start, start, 5*time.Second, 10*time.Millisecond, history.NewWriter(io.Discard)); err != nil {
		t.Fatal(err)
	}
	if d := o.changedSinceQuiet(final); d != "" {
		t.Fatalf("after converging again: %s", d)
	}
}

// observeSystem is a System that tells where to observe: replicas' base URLs and a
// database's DSN.
type observeSystem struct {
	fakeSystem
	urls map[string][]string
	dsn  map[string]string
}

func (s observeSystem) ObserveURLs(svc string) []string { return s.urls[svc] }
func (s observeSystem) DatabaseURL(svc string) string   { return s.dsn[svc] }

// A service's effects endpoint is read at its own path, on any replica that answers,
// with the states-and-operations filter while converging; a record that leaves its
// service out is the service's. A fixture keeps /effects; a service observed neither
// way is not observed.
func TestObserveHTTPAtItsPath(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/internal/effects" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		if r.URL.Query().Get("kind") == "" {
			fmt.Fprintln(w, `{"view":"write","kind":"order","key":"alice","id":"o-1","amount":25,"seq":1,"at":3000000000}`)
		}
		fmt.Fprintln(w, `{"view":"write","kind":"state","key":"alice","value":25,"seq":1}`)
		fmt.Fprintln(w, `{"view":"read","kind":"state","key":"alice","value":25,"seq":1}`)
		fmt.Fprintln(w, `{"view":"write","kind":"operation","id":"o-1","state":"applied"}`)
	}))
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()

	sys := observeSystem{urls: map[string][]string{
		"orders": {dead.URL, srv.URL + "/"},
		"bank":   {"http://bank-0"},
		"quiet":  {"http://quiet-0"},
	}}
	pl := &plan.Plan{Topology: plan.Topology{Services: []plan.Service{
		{Name: "orders", Image: "orders:dev", Observe: plan.Observe{HTTP: "internal/effects"}},
		{Name: "bank", Fixture: "bank"},
		{Name: "quiet", Image: "quiet:dev"},
	}}}
	sources := observeSources(pl, sys)
	if got := slices.Sorted(maps.Keys(sources)); !slices.Equal(got, []string{"bank", "orders"}) {
		t.Fatalf("observed %v, want bank and orders (quiet has no observe)", got)
	}
	if u := sources["bank"].(*httpSource).urls; !slices.Equal(u, []string{"http://bank-0/effects"}) {
		t.Errorf("the bank fixture is observed at %v, want its /effects", u)
	}
	if u := sources["orders"].(*httpSource).urls; u[1] != srv.URL+"/internal/effects" {
		t.Errorf("orders observed at %v", u)
	}

	o := newObserver(map[string]source{"orders": sources["orders"]})
	defer o.close()
	var buf bytes.Buffer
	rec := history.NewWriter(&buf)
	start := time.Unix(1, 0)
	c, err := o.converge(context.Background(), start, time.Now(), 5*time.Second, 10*time.Millisecond, rec)
	if err != nil || !c.Converged {
		t.Fatalf("converge: %+v, %v", c, err)
	}
	_ = rec.Flush()
	snaps, err := history.Read[history.Effect](&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 || snaps[0].Service != "orders" || snaps[0].Time == 0 || snaps[1].View != history.ReadView {
		t.Errorf("snapshots %+v, want the two states, as orders', with a time", snaps)
	}
	effs, err := o.observeAll(context.Background(), start)
	if err != nil {
		t.Fatal(err)
	}
	if len(effs) != 4 || effs[0].Service != "orders" || effs[0].At != 2e9 {
		t.Errorf("final observation %+v, want 4 records of orders, the order applied at 2s", effs)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(queries, []string{"kind=state&kind=operation", ""}) {
		t.Errorf("queries %q, want the filter while converging, none after", queries)
	}

	// No replica answering is an error naming the service and every replica's answer.
	sys.urls["orders"] = []string{dead.URL}
	o = newObserver(map[string]source{"orders": sourceOf(pl.Topology.Services[0], sys)})
	if _, err := o.observeAll(context.Background(), start); err == nil || !strings.Contains(err.Error(), "observe orders: no replica answered") {
		t.Errorf("err = %v", err)
	}
}

// changedSinceQuiet compares the views the quiet poll saw states of: a key new in one
// of them is a change, a state of a view only the final observation gives is not.
func TestChangedSinceQuietViews(t *testing.T) {
	v := int64(5)
	st := func(view, key string) history.Effect {
		return history.Effect{Service: "svc", View: view, Kind: history.KindState, Key: key, Value: &v, Seq: 1}
	}
	o := &observer{quiet: keyStates{}}
	statesOf([]history.Effect{st("write", "a")}, o.quiet)
	if d := o.changedSinceQuiet([]history.Effect{st("write", "a"), st("audit", "x")}); d != "" {
		t.Errorf("a view the quiet poll did not see counted as a change: %s", d)
	}
	if d := o.changedSinceQuiet([]history.Effect{st("write", "a"), st("write", "b")}); d != "svc b in the write model was missing, is 5 at seq 1" {
		t.Errorf("a new key: %q", d)
	}
	if d := o.changedSinceQuiet(nil); d != "svc a in the write model was 5 at seq 1, is missing" {
		t.Errorf("a key gone: %q", d)
	}
}
