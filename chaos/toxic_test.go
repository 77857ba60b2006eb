package chaos_test

import (
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/plan"
)

func fault(kind, target string, params map[string]string) plan.Fault {
	return plan.Fault{Kind: kind, Target: target, Params: params, Source: "scenario"}
}

// Every built-in kind is registered once, with its declaration and its implementation
// together; the kinds the broker-facing package adds come with its import.
func TestBuiltInFaultKindsAreRegistered(t *testing.T) {
	want := []string{"bandwidth", "http-errors", "kill", "latency", "partition", "pause", "reset", "restart", "slow-close", "snapshot", "timeout", "wipe"}
	if got := chaos.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("chaos.Names() = %v, want %v", got, want)
	}
	if got := plan.FaultKindNames(); !reflect.DeepEqual(got, want) {
		t.Errorf("plan.FaultKindNames() = %v, want the same kinds as chaos: %v", got, want)
	}
	for _, n := range want {
		k, _ := plan.LookupFaultKind(n)
		if len(k.Acts) == 0 || k.Doc == "" {
			t.Errorf("kind %s declares no targets or no doc: %+v", n, k)
		}
	}
	if _, ok := chaos.Lookup("earthquake"); ok {
		t.Error("Lookup of an unknown fault succeeded")
	}
}

func TestLatencyThroughAProxy(t *testing.T) {
	px := newProxies(t)
	l := proxied(t, px, "client->bank/0")
	e := &env{links: map[string][]chaos.Link{"client->bank": {l}}}
	base, err := roundTrip(l.Listen(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	heal := apply(t, e, "latency", "client->bank", map[string]string{"latency": "100ms", "jitter": "10ms"})
	// Both directions: the request and the echo are each delayed.
	slow, err := roundTrip(l.Listen(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if slow < 180*time.Millisecond {
		t.Errorf("round trip with 100ms±10ms each way: %s (without: %s)", slow, base)
	}
	if err := heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, err := roundTrip(l.Listen(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if after > 100*time.Millisecond {
		t.Errorf("round trip after heal: %s", after)
	}
	if n := len(l.Proxy().Toxics.GetToxicArray()); n != 0 {
		t.Errorf("%d toxics left after heal", n)
	}

	// One direction only: a single delay.
	heal = apply(t, e, "latency", "client->bank", map[string]string{"latency": "100ms", "direction": "downstream"})
	defer heal(context.Background())
	one, err := roundTrip(l.Listen(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if one < 90*time.Millisecond || one > 195*time.Millisecond { // both ways would be ≥ 200ms
		t.Errorf("round trip with 100ms downstream only: %s", one)
	}
}

func TestPartitionRefusesThenHeals(t *testing.T) {
	px := newProxies(t)
	l0, l1 := proxied(t, px, "bank/0->broker"), proxied(t, px, "bank/1->broker")
	e := &env{links: map[string][]chaos.Link{"bank->broker": {l0, l1}}}
	open, err := net.Dial("tcp", l0.Listen())
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if _, err := roundTripOn(open, time.Second); err != nil {
		t.Fatal(err)
	}

	heal := apply(t, e, "partition", "bank->broker", nil)
	for _, l := range []interface{ Listen() string }{l0, l1} {
		_, err := net.DialTimeout("tcp", l.Listen(), time.Second)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial %s during the partition: %v, want connection refused", l.Listen(), err)
		}
	}
	// The connection that was open is dropped.
	if _, err := roundTripOn(open, time.Second); err == nil {
		t.Error("an existing connection survived the partition")
	}
	if err := heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, l := range []interface{ Listen() string }{l0, l1} {
		if _, err := roundTrip(l.Listen(), time.Second); err != nil {
			t.Errorf("after heal, %s: %v", l.Listen(), err)
		}
	}
}

func TestOverlappingPartitionsHealOnlyWhenBothEnd(t *testing.T) {
	px := newProxies(t)
	l := proxied(t, px, "bank/0->broker")
	e := &env{links: map[string][]chaos.Link{"bank->broker": {l}, "bank/0->broker": {l}}}
	h1 := apply(t, e, "partition", "bank->broker", nil)
	h2 := apply(t, e, "partition", "bank/0->broker", nil)
	if err := h1(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(l.Listen(), 200*time.Millisecond); err == nil {
		t.Error("link reconnected while a second partition still holds it")
	}
	if err := h2(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(l.Listen(), time.Second); err != nil {
		t.Errorf("after both heals: %v", err)
	}
}

func TestOneWayPartitionBlackHoles(t *testing.T) {
	px := newProxies(t)
	l := proxied(t, px, "client->bank/0")
	e := &env{links: map[string][]chaos.Link{"client->bank/0": {l}}}
	heal := apply(t, e, "partition", "client->bank/0", map[string]string{"direction": "upstream"})
	// The connection is accepted — nothing is refused — but the request never arrives.
	c, err := net.Dial("tcp", l.Listen())
	if err != nil {
		t.Fatalf("one-way partition refused the connection: %v", err)
	}
	defer c.Close()
	if _, err := roundTripOn(c, 200*time.Millisecond); err == nil {
		t.Error("data crossed a black-holed direction")
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Errorf("want a timeout, got %v", err)
	}
	if err := heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(l.Listen(), time.Second); err != nil {
		t.Errorf("after heal: %v", err)
	}
}

func TestResetPeer(t *testing.T) {
	px := newProxies(t)
	l := proxied(t, px, "client->bank/0")
	e := &env{links: map[string][]chaos.Link{"client->bank": {l}}}
	heal := apply(t, e, "reset", "client->bank", nil)
	_, err := roundTrip(l.Listen(), time.Second)
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
		t.Errorf("round trip through a reset link: %v, want connection reset", err)
	}
	if err := heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(l.Listen(), time.Second); err != nil {
		t.Errorf("after heal: %v", err)
	}
}

func TestToxicFaultsAddAndRemoveToxics(t *testing.T) {
	cases := []struct {
		kind   string
		params map[string]string
		toxics int // per proxy
	}{
		{"latency", map[string]string{"latency": "10ms"}, 2},
		{"bandwidth", map[string]string{"rate": "64", "direction": "downstream"}, 1},
		{"timeout", map[string]string{"timeout": "1s"}, 2},
		{"reset", map[string]string{"direction": "upstream"}, 1},
		{"slow-close", map[string]string{"delay": "100ms"}, 2},
		{"partition", map[string]string{"direction": "downstream"}, 1},
		{"http-errors", map[string]string{"ratio": "0.5"}, 1},
	}
	px := newProxies(t)
	l0, l1 := proxied(t, px, "client->bank/0"), proxied(t, px, "client->bank/1")
	e := &env{links: map[string][]chaos.Link{"client->bank": {l0, l1}}}
	for _, tc := range cases {
		heal := apply(t, e, tc.kind, "client->bank", tc.params)
		for _, l := range []int{len(l0.Proxy().Toxics.GetToxicArray()), len(l1.Proxy().Toxics.GetToxicArray())} {
			if l != tc.toxics {
				t.Errorf("%s: %d toxics on a proxy, want %d", tc.kind, l, tc.toxics)
			}
		}
		if err := heal(context.Background()); err != nil {
			t.Errorf("%s: heal: %v", tc.kind, err)
		}
		if n := len(l0.Proxy().Toxics.GetToxicArray()) + len(l1.Proxy().Toxics.GetToxicArray()); n != 0 {
			t.Errorf("%s: %d toxics left after heal", tc.kind, n)
		}
	}
	f, _ := chaos.Lookup("latency")
	if _, err := f.Apply(context.Background(), e, fault("latency", "client->bank", map[string]string{"latency": "soon"})); err == nil {
		t.Error("a bad duration was accepted")
	}
	if _, err := f.Apply(context.Background(), e, fault("latency", "client->nowhere", map[string]string{"latency": "1ms"})); err == nil {
		t.Error("an unknown link was accepted")
	}
}
