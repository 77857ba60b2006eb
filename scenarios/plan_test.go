package scenarios

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/plan"
)

func mustPlan(t *testing.T, s *Scenario, seed int64) []byte {
	t.Helper()
	p, err := s.Plan(seed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPlanDeterministic(t *testing.T) {
	for _, name := range []string{"bank-idempotency", "testdata/good-image.yaml"} {
		t.Run(name, func(t *testing.T) {
			// Load twice: nothing may depend on state left by an earlier load or plan.
			s1, err := Find(name)
			if err != nil {
				t.Fatal(err)
			}
			s2, err := Find(name)
			if err != nil {
				t.Fatal(err)
			}
			a, b := mustPlan(t, s1, 7), mustPlan(t, s2, 7)
			if !bytes.Equal(a, b) {
				t.Fatalf("seed 7 planned twice differs:\n%s\n---\n%s", a, b)
			}
			if again := mustPlan(t, s1, 7); !bytes.Equal(a, again) {
				t.Fatal("planning again from the same Scenario differs")
			}
			if c := mustPlan(t, s1, 8); bytes.Equal(a, c) {
				t.Fatal("seeds 7 and 8 give the same plan")
			}
			var p plan.Plan
			if err := json.Unmarshal(a, &p); err != nil {
				t.Fatalf("the plan does not read back: %v", err)
			}
			if p.Seed != 7 || p.Workload.Seed != 7 {
				t.Errorf("seed %d, workload seed %d: want 7", p.Seed, p.Workload.Seed)
			}
			if again, _ := p.JSON(); !bytes.Equal(a, again) {
				t.Error("the plan does not round-trip through JSON")
			}
		})
	}
}

// The nemesis differs with the seed, and only its faults do: the hand-written ones stay.
func TestNemesisDiffersBySeed(t *testing.T) {
	s, err := Find("bank-idempotency")
	if err != nil {
		t.Fatal(err)
	}
	timeline := func(seed int64) (fixed, drawn []plan.Fault) {
		p, err := s.Plan(seed)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range p.Faults {
			if f.Source == "nemesis" {
				drawn = append(drawn, f)
			} else {
				fixed = append(fixed, f)
			}
		}
		return fixed, drawn
	}
	f7, n7 := timeline(7)
	f8, n8 := timeline(8)
	if !slices.EqualFunc(f7, f8, faultEqual) {
		t.Errorf("the scenario's own faults differ between seeds:\n%v\n%v", f7, f8)
	}
	if slices.EqualFunc(n7, n8, faultEqual) {
		t.Errorf("seeds 7 and 8 draw the same nemesis timeline: %v", n7)
	}
	if len(n7) != 3 || len(n8) != 3 {
		t.Errorf("drew %d and %d faults, want count 3", len(n7), len(n8))
	}
}

func faultEqual(a, b plan.Fault) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// Over many seeds every drawn fault is of a listed kind, on a target the nemesis may
// draw, within its bounds, and ends before the run does.
func TestNemesisTargetsValid(t *testing.T) {
	s, err := Load("testdata/good-image.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// shop->shop-db too: shop is a service of the user's, whose PostgreSQL is a server
	// behind a link on every testbed (a fixture's may be an SQLite file instead).
	links := []string{"client->bank", "bank->broker", "client->shop", "shop->broker", "shop->shop-db"}
	nodes := []string{"broker", "bank/0", "bank/1", "shop/0", "shop/1", "shop/2"}
	streams := []string{"bank.commands", "bank.events"}
	kinds := map[string]bool{"partition": true, "latency": true, "duplicate": true, "slow-close": true}
	n := s.Nemesis
	seen := map[string]bool{}
	for seed := range int64(300) {
		p, err := s.Plan(seed)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSortedFunc(p.Faults, func(a, b plan.Fault) int { return int(a.At - b.At) }) {
			t.Fatalf("seed %d: faults not sorted by start", seed)
		}
		count := 0
		for _, f := range p.Faults {
			if f.Source != "nemesis" {
				continue
			}
			count++
			seen[f.Kind+" "+f.Target] = true
			kind := kindOf(f.Kind)
			if !kinds[f.Kind] {
				t.Fatalf("seed %d: drew kind %s, not listed", seed, f.Kind)
			}
			valid := map[plan.TargetKind][]string{plan.TargetLink: links, plan.TargetNode: nodes, plan.TargetStream: streams}[kind.Target]
			if !slices.Contains(valid, f.Target) {
				t.Fatalf("seed %d: %s on %s, not a %s the nemesis may draw", seed, f.Kind, f.Target, kind.Target)
			}
			if f.At < 0 || f.At > s.Duration {
				t.Fatalf("seed %d: %s starts at %s, outside the run", seed, f.Kind, f.At)
			}
			if kind.Window {
				if f.For < n.Min || f.For > n.Max {
					t.Fatalf("seed %d: %s lasts %s, not in [%s, %s]", seed, f.Kind, f.For, n.Min, n.Max)
				}
				if f.End() > s.Duration {
					t.Fatalf("seed %d: %s ends at %s, after %s", seed, f.Kind, f.End(), s.Duration)
				}
			} else if f.For != 0 || f.At >= s.Duration {
				t.Fatalf("seed %d: instantaneous %s at %s for %s", seed, f.Kind, f.At, f.For)
			}
			if f.Kind == "latency" && f.Params["latency"] != "1s" {
				t.Fatalf("seed %d: latency params %v: want the scenario's latency=1s", seed, f.Params)
			}
			if f.Kind == "slow-close" && f.Params["delay"] != NemesisParams["slow-close"]["delay"] {
				t.Fatalf("seed %d: slow-close params %v: want the nemesis default delay", seed, f.Params)
			}
		}
		if count != n.Count {
			t.Fatalf("seed %d: drew %d faults, want %d", seed, count, n.Count)
		}
	}
	// Over 300 seeds every kind has been drawn on every target it may act on.
	for k := range kinds {
		valid := map[plan.TargetKind][]string{plan.TargetLink: links, plan.TargetNode: nodes, plan.TargetStream: streams}[kindOf(k).Target]
		for _, target := range valid {
			if !seen[k+" "+target] {
				t.Errorf("never drew %s on %s", k, target)
			}
		}
	}
}

// A killed node comes back: the nemesis gives kill a restart-after in [min, max], and
// the node stays down before the run ends.
func TestNemesisKill(t *testing.T) {
	s, err := Parse("t.yaml", []byte(head+"nemesis: {faults: [kill, pause], count: 5, min: 2s, max: 4s, between: [1s, 18s]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for seed := range int64(100) {
		p, err := s.Plan(seed)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range p.Faults {
			if f.At < plan.Duration(time.Second) || f.At > plan.Duration(18*time.Second) {
				t.Fatalf("seed %d: %s starts at %s, outside between", seed, f.Kind, f.At)
			}
			if f.Kind != "kill" {
				continue
			}
			r, err := time.ParseDuration(f.Params["restart-after"])
			if err != nil || r < 2*time.Second || r > 4*time.Second {
				t.Fatalf("seed %d: kill restart-after %q, want within [2s, 4s]", seed, f.Params["restart-after"])
			}
			if f.At+plan.Duration(r) > s.Duration {
				t.Fatalf("seed %d: node restarts at %s, after the run", seed, f.At+plan.Duration(r))
			}
		}
	}
}

// A fault on a service's node lands on one of its replicas, drawn from the seed; the
// plan names the replica.
func TestServiceNodeResolved(t *testing.T) {
	s, err := Parse("t.yaml", []byte(head+"faults:\n  - {at: 1s, fault: kill, node: bank}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Faults[0].Target != "bank" {
		t.Fatalf("the scenario keeps what the file says; got %q", s.Faults[0].Target)
	}
	got := map[string]bool{}
	for seed := range int64(50) {
		p, err := s.Plan(seed)
		if err != nil {
			t.Fatal(err)
		}
		got[p.Faults[0].Target] = true
	}
	if len(got) != 2 || !got["bank/0"] || !got["bank/1"] {
		t.Errorf("targets over 50 seeds: %v, want bank/0 and bank/1", got)
	}
}

func TestPlanOrderAndParams(t *testing.T) {
	s, err := Parse("t.yaml", []byte(head+`faults:
  - {at: 5s, fault: snapshot, node: bank-db}
  - {at: 2s, for: 1s, fault: timeout, link: bank/0->bank-db}
  - {at: 5s, fault: duplicate, stream: bank.events}
  - {at: 6s, fault: wipe, node: bank-db, restore: backup}
`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range p.Faults {
		var ps []string
		for _, k := range sortedKeys(f.Params) {
			ps = append(ps, k+"="+f.Params[k])
		}
		got = append(got, f.At.String()+" "+f.Kind+" "+strings.Join(ps, ","))
	}
	want := []string{
		"2s timeout direction=both,timeout=0s",
		"5s snapshot name=backup", // ties keep file order
		"5s duplicate ratio=0.1",
		"6s wipe restore=backup",
	}
	if !slices.Equal(got, want) {
		t.Errorf("faults\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(p.Invariants) != 1 || p.Invariants[0].Params != nil {
		t.Errorf("invariants %+v", p.Invariants)
	}
}

// The dry run's text is pinned by a golden file; go test ./scenarios -update rewrites it.
func TestWriteTimelineGolden(t *testing.T) {
	s, err := Find("bank-idempotency")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Plan(7)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.WriteTimeline(&buf); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/bank-idempotency-seed7.timeline"
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("timeline differs from %s (go test ./scenarios -update to accept):\n%s", golden, buf.String())
	}
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("trailing blank: %q", line)
		}
	}
}
