package scenarios

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mscli/mscli/plan"
)

// rewriteSources are the scenarios the round trip is held to: the catalog and the
// valid test files, the ones whose nemesis draws every kind among them.
func rewriteSources(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		s, err := loadEmbedded(e.Path)
		if err != nil {
			t.Fatal(err)
		}
		out[e.Path] = s.Source
	}
	files, err := filepath.Glob("testdata/good-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = s.Source
	}
	return out
}

// subsetsOf are the fault subsets a round trip is tried with: all, none, each one
// alone, a few drawn at random (each closed under Requires), and all with every
// window halved.
func subsetsOf(faults []plan.Fault, rng *rand.Rand) [][]plan.Fault {
	req := Requires(faults)
	pick := func(idx []int) []plan.Fault {
		var sub []plan.Fault
		for _, i := range Close(idx, req) {
			sub = append(sub, faults[i])
		}
		return sub
	}
	out := [][]plan.Fault{faults, {}}
	for i := range faults {
		out = append(out, pick([]int{i}))
	}
	for range 4 {
		var idx []int
		for i := range faults {
			if rng.IntN(2) == 0 {
				idx = append(idx, i)
			}
		}
		out = append(out, pick(idx))
	}
	var halved []plan.Fault
	for _, f := range faults {
		if f.For > 0 {
			f.For /= 2
		}
		halved = append(halved, f)
	}
	return append(out, halved)
}

// withoutFaults is a plan's JSON with no faults: what must not change when only the
// faults do.
func withoutFaults(t *testing.T, p *plan.Plan) string {
	t.Helper()
	c := *p
	c.Faults = nil
	b, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A scenario rewritten with any subset of a plan's faults, the nemesis' concrete
// draws among them, plans again with the same seed to exactly those faults and to the
// same everything else: topology, workload (its seed, so its operation sequence),
// invariants.
func TestWithFaultsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, src := range rewriteSources(t) {
		t.Run(name, func(t *testing.T) {
			s, err := Parse(name, src)
			if err != nil {
				t.Fatal(err)
			}
			for _, seed := range []int64{1, 2, 7} {
				p, err := s.Plan(seed)
				if err != nil {
					t.Fatal(err)
				}
				rest := withoutFaults(t, p)
				for i, sub := range subsetsOf(p.Faults, rng) {
					out, err := WithFaults(src, sub, "kept by a test")
					if err != nil {
						t.Fatalf("seed %d subset %d: %v", seed, i, err)
					}
					s2, err := Parse(name, out)
					if err != nil {
						t.Fatalf("seed %d subset %d: the rewrite does not load: %v\n%s", seed, i, err, out)
					}
					if s2.Nemesis != nil {
						t.Fatalf("seed %d subset %d: the rewrite keeps a nemesis", seed, i)
					}
					p2, err := s2.Plan(seed)
					if err != nil {
						t.Fatal(err)
					}
					want := make([]plan.Fault, len(sub))
					for j, f := range sub {
						f.Source = "scenario"
						want[j] = f
					}
					if !reflect.DeepEqual(p2.Faults, want) {
						g, _ := json.MarshalIndent(p2.Faults, "", " ")
						w, _ := json.MarshalIndent(want, "", " ")
						t.Fatalf("seed %d subset %d: faults planned from the rewrite\n%s\nwant\n%s\nfile:\n%s", seed, i, g, w, out)
					}
					if got := withoutFaults(t, p2); got != rest {
						t.Fatalf("seed %d subset %d: the rest of the plan changed:\n%s\nwant\n%s", seed, i, got, rest)
					}
				}
			}
		})
	}
}

// The rewrite touches the faults: and nemesis: entries only: every other line,
// comments included, is kept as written.
func TestWithFaultsKeepsTheRest(t *testing.T) {
	s, err := Find("bank-idempotency")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	var dup []plan.Fault
	for _, f := range p.Faults {
		if f.Kind == "duplicate" {
			dup = append(dup, f)
		}
	}
	out, err := WithFaults(s.Source, dup, "one line\nanother")
	if err != nil {
		t.Fatal(err)
	}
	want := `faults:
  # one line
  # another
  - {at: 14s, fault: duplicate, stream: bank.commands, ratio: 0.2}
invariants:`
	if !strings.Contains(string(out), want) {
		t.Errorf("rewrite:\n%s\nwant it to hold\n%s", out, want)
	}
	kept := 0
	inFaults := false
	for _, line := range strings.SplitAfter(string(s.Source), "\n") {
		switch {
		case strings.HasPrefix(line, "faults:"):
			inFaults = true
		case strings.HasPrefix(line, "nemesis:"):
			inFaults = false
			continue
		case line != "" && line[0] != ' ' && line[0] != '-':
			inFaults = false
		}
		if inFaults {
			continue
		}
		if !bytes.Contains(out, []byte(line)) {
			t.Errorf("line %q is gone from the rewrite", line)
		}
		kept++
	}
	if kept < 20 {
		t.Errorf("%d lines checked outside the faults: want the file's other lines", kept)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "nemesis:") {
			t.Errorf("the nemesis entry is still there: %q", line)
		}
	}
}

func TestWithFaultsShapes(t *testing.T) {
	base := `name: x
duration: 10s
system:
  services:
    bank: {fixture: bank, replicas: 2}
`
	inv := "invariants: [idempotent]\n"
	kill := plan.Fault{At: plan.Duration(2e9), Kind: "kill", Target: "bank/1", Params: map[string]string{"restart-after": "1s"}}
	cases := []struct {
		name, src string
		faults    []plan.Fault
		want      string // held by the output
		wantErr   string
	}{
		{"nemesis only: faults take its place", base + "nemesis: {faults: [kill], count: 2}\n# about invariants\n" + inv,
			[]plan.Fault{kill}, "  - {at: 2s, fault: kill, node: bank/1, restart-after: 1s}\n# about invariants\ninvariants:", ""},
		{"neither: faults at the end", base + inv, []plan.Fault{kill}, inv + "faults:\n", ""},
		{"none kept", base + "faults:\n  - {at: 1s, fault: kill, node: bank/0}\n\n" + inv, nil, "faults: []\n\ninvariants", ""},
		{"block nemesis with a comment inside", base + "nemesis:\n  # drawn\n  faults: [kill]\n  count: 1\n" + inv, nil, "bank, replicas: 2}\nfaults: []\ninvariants", ""},
		{"no final newline", base + "invariants: [idempotent]", []plan.Fault{kill}, "[idempotent]\nfaults:\n", ""},
		{"flow top level", "{name: x, duration: 10s}\n", nil, "", "flow mapping"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := WithFaults([]byte(c.src), c.faults, "")
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), c.want) {
				t.Fatalf("rewrite:\n%s\nwant it to hold %q", out, c.want)
			}
			s, err := Parse("x.yaml", out)
			if err != nil {
				t.Fatalf("the rewrite does not load: %v\n%s", err, out)
			}
			if s.Nemesis != nil || len(s.Faults) != len(c.faults) {
				t.Fatalf("nemesis %v, %d faults: want none and %d\n%s", s.Nemesis, len(s.Faults), len(c.faults), out)
			}
		})
	}
}

func TestRequires(t *testing.T) {
	snap := func(at int, name string) plan.Fault {
		return plan.Fault{At: plan.Duration(at), Kind: "snapshot", Target: "db", Params: map[string]string{"name": name}}
	}
	wipe := plan.Fault{At: 10, Kind: "wipe", Target: "db", Params: map[string]string{"restore": "a"}}
	faults := []plan.Fault{snap(1, "a"), snap(2, "b"), snap(3, "a"), {At: 4, Kind: "kill", Target: "x/0"}, wipe, snap(11, "a")}
	req := Requires(faults)
	if want := [][]int{nil, nil, nil, nil, {2}, nil}; !reflect.DeepEqual(req, want) {
		t.Fatalf("Requires = %v, want %v", req, want)
	}
	if got := Close([]int{4, 3}, req); !reflect.DeepEqual(got, []int{2, 3, 4}) {
		t.Errorf("Close = %v, want [2 3 4]", got)
	}
}

func TestYAMLString(t *testing.T) {
	for in, want := range map[string]string{
		"client->bank": "client->bank",
		"bank/0":       "bank/0",
		"250ms":        "250ms",
		"true":         `"true"`,
		"12":           `"12"`,
		"1e3":          `"1e3"`,
		"a: b":         `"a: b"`,
		"":             `""`,
		"x#y z":        `"x#y z"`,
	} {
		if got := yamlString(in); got != want {
			t.Errorf("yamlString(%q) = %s, want %s", in, got, want)
		}
	}
}
