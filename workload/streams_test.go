package workload

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	_ "github.com/mscli/mscli/chaos"         // registers the fault kinds the scenario below names
	_ "github.com/mscli/mscli/fixtures/bank" // its fixture
	_ "github.com/mscli/mscli/invariants"    // and its invariants
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/scenarios"
)

// planStream is the PCG word plan.Plan draws from (scenarios' pcgStream, seeded
// (seed, planStream)); TestPlannerStream checks it still is.
const planStream = 0x6d73636c69

func plannerRand(seed int64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), planStream)) }

// The planner's stream above is the one plans are drawn from: a fault on a service
// lands on the replica its first number picks.
func TestPlannerStream(t *testing.T) {
	const replicas = 64 // the most a scenario may ask for
	s := &scenarios.Scenario{
		Name:       "stream",
		Duration:   plan.Duration(10 * time.Second),
		System:     scenarios.System{Broker: "nats", Services: []plan.Service{{Name: "bank", Fixture: "bank", Replicas: replicas}}},
		Workload:   scenarios.DefaultWorkload(),
		Invariants: []plan.Invariant{{Name: "durable"}},
		Faults:     []scenarios.FaultSpec{{At: plan.Duration(time.Second), Kind: "restart", Target: "bank"}},
	}
	for seed := int64(1); seed <= 20; seed++ {
		p, err := s.Plan(seed)
		if err != nil {
			t.Fatal(err)
		}
		if want := plan.ReplicaNode("bank", plannerRand(seed).IntN(replicas)); p.Faults[0].Target != want {
			t.Fatalf("seed %d: the plan drew %s, the stream here %s: planStream is not the planner's", seed, p.Faults[0].Target, want)
		}
	}
}

// No two random streams of a run, or of runs with nearby seeds, coincide: over seeds
// 1..200 and processes 0..15, the first 32 numbers of the planner's stream, of every
// client's operation generator and of every client's retry jitter never share a value
// with another stream's, so no stream is another's prefix, nor another's shifted by up
// to 31 draws. With seed+proc seeding, client p+1 of seed s was client p of seed s+1,
// and client 0's generator was the planner's stream.
func TestStreamsNeverCoincide(t *testing.T) {
	const (
		seeds  = 200
		procs  = 16
		prefix = 32
	)
	first := func(r *rand.Rand) []uint64 {
		out := make([]uint64, prefix)
		for i := range out {
			out[i] = r.Uint64()
		}
		return out
	}
	owner := map[uint64]string{}
	add := func(name string, r *rand.Rand) []uint64 {
		vals := first(r)
		for i, v := range vals {
			if o, seen := owner[v]; seen && o != name {
				t.Fatalf("%s's number %d (%#x) is also %s's", name, i, v, o)
			}
			owner[v] = name
		}
		return vals
	}
	ops := map[[2]int64][]uint64{}
	for seed := int64(1); seed <= seeds; seed++ {
		add("planner seed "+strconv.FormatInt(seed, 10), plannerRand(seed))
		w := plan.Workload{Clients: procs, Seed: seed, Params: map[string]string{"accounts": "10", "opening": "1000", "mix": "0.5"}}
		r := &Runner{Workload: w}
		for proc := range procs {
			ops[[2]int64{seed, int64(proc)}] = add(fmt.Sprintf("generator seed %d proc %d", seed, proc), NewGenerator(w, proc).rng)
			add(fmt.Sprintf("jitter seed %d proc %d", seed, proc), r.newClient(proc).jitter)
		}
	}
	if len(owner) != seeds*(1+2*procs)*prefix {
		t.Fatalf("%d distinct numbers, want %d", len(owner), seeds*(1+2*procs)*prefix)
	}
	// The case seed+proc seeding got wrong, spelt out.
	for seed := int64(1); seed < seeds; seed++ {
		for proc := int64(0); proc+1 < procs; proc++ {
			if a, b := ops[[2]int64{seed, proc + 1}], ops[[2]int64{seed + 1, proc}]; a[0] == b[0] {
				t.Fatalf("seed %d proc %d starts like seed %d proc %d", seed, proc+1, seed+1, proc)
			}
		}
	}
}

// A client's streams depend on the seed, the purpose and the process number, and on
// nothing else: the same run draws the same numbers.
func TestStreamsAreReproducible(t *testing.T) {
	w := plan.Workload{Clients: 4, Seed: 7, Params: map[string]string{"accounts": "10"}}
	for proc := range 4 {
		a, b := NewGenerator(w, proc).rng, NewGenerator(w, proc).rng
		j1, j2 := (&Runner{Workload: w}).newClient(proc).jitter, (&Runner{Workload: w}).newClient(proc).jitter
		for range 100 {
			if a.Uint64() != b.Uint64() || j1.Uint64() != j2.Uint64() {
				t.Fatalf("proc %d: two streams built alike differ", proc)
			}
		}
	}
}
