package chaos_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

func ms(n int) plan.Duration { return plan.Duration(time.Duration(n) * time.Millisecond) }

func readFaults(t *testing.T, buf *bytes.Buffer) []history.Fault {
	t.Helper()
	recs, err := history.Read[history.Fault](buf)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// byFault pairs start and stop records per fault kind+target.
func byFault(recs []history.Fault) map[string][]history.Fault {
	m := map[string][]history.Fault{}
	for _, r := range recs {
		k := r.Fault + " " + r.Target
		m[k] = append(m[k], r)
	}
	return m
}

func TestSchedulerAppliesTheTimelineAndHeals(t *testing.T) {
	px := newProxies(t)
	a, b := proxied(t, px, "client->bank/0"), proxied(t, px, "bank/0->broker")
	n := newProcNode(t, "bank/0")
	db := &dataNode{procNode: &procNode{name: "bank-db"}}
	e := &env{
		links: map[string][]chaos.Link{"client->bank": {a}, "bank->broker": {b}},
		nodes: map[string][]chaos.Node{"bank/0": {n}, "bank-db": {db}},
	}
	faults := []plan.Fault{
		{At: 0, For: ms(150), Kind: "latency", Target: "client->bank", Params: map[string]string{"latency": "50ms"}},
		{At: ms(50), Kind: "partition", Target: "bank->broker"}, // until the end
		{At: ms(100), Kind: "kill", Target: "bank/0", Params: map[string]string{"restart-after": "100ms"}},
		{At: ms(20), Kind: "snapshot", Target: "bank-db"},
		{At: ms(30), Kind: "pause", Target: "bank/9", For: ms(10)}, // no such node: recorded, not fatal
	}
	var buf bytes.Buffer
	rec := history.NewWriter(&buf)
	var mu sync.Mutex
	var seen []history.Fault
	s := &chaos.Scheduler{Env: e, Rec: rec, Start: time.Now(), OnRecord: func(f history.Fault) {
		mu.Lock()
		seen = append(seen, f)
		mu.Unlock()
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	killedPid := n.pid()

	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, faults) }()
	// Mid-run: the latency is healed, the partition still holds, the node is back.
	time.Sleep(400 * time.Millisecond)
	if got := len(a.Proxy().Toxics.GetToxicArray()); got != 0 {
		t.Errorf("latency not healed at the end of its window: %d toxics", got)
	}
	if _, err := net.DialTimeout("tcp", b.Listen(), time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("partition until the end was healed early: dial %v", err)
	}
	if p := n.pid(); p == 0 || p == killedPid {
		t.Errorf("bank/0 not restarted after restart-after: pid %d (was %d)", p, killedPid)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(b.Listen(), time.Second); err != nil {
		t.Errorf("partition not healed at the end: %v", err)
	}

	recs := readFaults(t, &buf)
	if len(recs) != 2*len(faults) || len(seen) != len(recs) {
		t.Fatalf("%d records (%d seen live) for %d faults: %+v", len(recs), len(seen), len(faults), recs)
	}
	pairs := byFault(recs)
	for _, f := range faults {
		p := pairs[f.Kind+" "+f.Target]
		if len(p) != 2 || p[0].Phase != history.Start || p[1].Phase != history.Stop || p[1].Time < p[0].Time {
			t.Fatalf("%s on %s: records %+v", f.Kind, f.Target, p)
		}
		if p[0].Time < int64(f.At) {
			t.Errorf("%s on %s started at %s, planned %s", f.Kind, f.Target, time.Duration(p[0].Time), f.At)
		}
	}
	lat := pairs["latency client->bank"]
	if lat[0].Params["latency"] != "50ms" {
		t.Errorf("params not recorded: %+v", lat[0])
	}
	if stop := time.Duration(lat[1].Time); stop < 150*time.Millisecond || stop > 500*time.Millisecond {
		t.Errorf("latency healed at %s, planned 150ms", stop)
	}
	if stop := time.Duration(pairs["kill bank/0"][1].Time); stop < 200*time.Millisecond || stop > 550*time.Millisecond {
		t.Errorf("kill healed at %s, planned 200ms", stop)
	}
	if stop := time.Duration(pairs["partition bank->broker"][1].Time); stop < 550*time.Millisecond {
		t.Errorf("partition healed at %s, before the end of the run", stop)
	}
	if bad := pairs["pause bank/9"][0]; !strings.Contains(bad.Error, "bank/9") {
		t.Errorf("failed apply not recorded with its error: %+v", bad)
	}
	if len(db.calls) != 1 || db.calls[0] != "snapshot backup" {
		t.Errorf("snapshot calls %q", db.calls)
	}
}

func TestSchedulerHealsOnCancel(t *testing.T) {
	px := newProxies(t)
	l := proxied(t, px, "bank/0->broker")
	n := newProcNode(t, "bank/0")
	e := &env{links: map[string][]chaos.Link{"bank->broker": {l}}, nodes: map[string][]chaos.Node{"bank/0": {n}}}
	faults := []plan.Fault{
		{At: 0, For: plan.Duration(time.Hour), Kind: "partition", Target: "bank->broker"},
		{At: 0, For: plan.Duration(time.Hour), Kind: "pause", Target: "bank/0"},
		{At: plan.Duration(time.Hour), Kind: "kill", Target: "bank/0"}, // never reached
	}
	var buf bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(150 * time.Millisecond); cancel() }() // ^C
	began := time.Now()
	if err := chaos.Run(ctx, faults, e, began, history.NewWriter(&buf)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("Run took %s to notice the cancel", d)
	}
	if _, err := roundTrip(l.Listen(), time.Second); err != nil {
		t.Errorf("partition not healed on cancel: %v", err)
	}
	waitState(t, n.pid(), "SR")
	recs := readFaults(t, &buf)
	if len(recs) != 4 {
		t.Fatalf("want start+stop of the two applied faults, got %+v", recs)
	}
	for _, r := range recs {
		if r.Fault == "kill" || r.Error != "" {
			t.Errorf("unexpected record %+v", r)
		}
	}
}

// A wipe that begins shortly before the scenario ends finishes: the end of the run's
// clock stops faults not yet begun, not one under way. An abort (^C) cuts it short.
func TestSchedulerLetsAnApplyUnderWayFinish(t *testing.T) {
	for _, abort := range []bool{false, true} {
		db := &dataNode{procNode: &procNode{name: "bank-db"}, slow: 400 * time.Millisecond}
		e := &env{nodes: map[string][]chaos.Node{"bank-db": {db}}}
		var buf bytes.Buffer
		interrupt, stop := context.WithCancel(context.Background())
		s := &chaos.Scheduler{Env: e, Rec: history.NewWriter(&buf), Start: time.Now(), Abort: interrupt}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond) // the scenario's end
		if abort {
			time.AfterFunc(150*time.Millisecond, stop)
		}
		err := s.Run(ctx, []plan.Fault{
			{At: ms(20), Kind: "wipe", Target: "bank-db"},
			{At: ms(300), Kind: "wipe", Target: "bank-db"}, // after the end: never begun
		})
		cancel()
		stop()
		if err != nil {
			t.Fatal(err)
		}
		recs := readFaults(t, &buf)
		if len(recs) != 2 || len(db.calls) != 1 {
			t.Fatalf("abort=%v: want one wipe's start and stop, got %+v (calls %q)", abort, recs, db.calls)
		}
		if got := recs[0].Error != ""; got != abort {
			t.Errorf("abort=%v: the wipe's start record %+v", abort, recs[0])
		}
	}
}

func TestSchedulerRejectsUnknownKindsUpFront(t *testing.T) {
	n := newProcNode(t, "bank/0")
	e := &env{nodes: map[string][]chaos.Node{"bank/0": {n}}}
	pid := n.pid()
	var buf bytes.Buffer
	err := chaos.Run(context.Background(), []plan.Fault{
		{At: 0, Kind: "kill", Target: "bank/0"},
		{At: 0, Kind: "meteor", Target: "bank/0"},
	}, e, time.Now(), history.NewWriter(&buf))
	if err == nil || !strings.Contains(err.Error(), "meteor") {
		t.Fatalf("err = %v", err)
	}
	if n.pid() != pid || buf.Len() != 0 {
		t.Error("a fault was applied before the timeline was checked")
	}
}

func TestHealAllIsIdempotentAndStopsTheScheduler(t *testing.T) {
	px := newProxies(t)
	l := proxied(t, px, "bank/0->broker")
	e := &env{links: map[string][]chaos.Link{"bank->broker": {l}}}
	var buf bytes.Buffer
	s := &chaos.Scheduler{Env: e, Rec: history.NewWriter(&buf), Start: time.Now()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, []plan.Fault{
			{At: 0, Kind: "partition", Target: "bank->broker"},
			{At: ms(300), For: ms(100), Kind: "partition", Target: "bank->broker"},
		})
	}()
	time.Sleep(100 * time.Millisecond)
	// The runner's error path: heal everything while Run is still going.
	if err := s.HealAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.HealAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(l.Listen(), time.Second); err != nil {
		t.Errorf("not healed: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // past the second fault's time
	if _, err := roundTrip(l.Listen(), time.Second); err != nil {
		t.Errorf("a fault was applied after HealAll: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if recs := readFaults(t, &buf); len(recs) != 2 {
		t.Errorf("records %+v", recs)
	}
}
