package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
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
	o := newObserver(map[string][]string{"bank": {srv.URL + "/effects"}})
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
