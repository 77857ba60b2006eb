package scenarios

import (
	"cmp"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/mscli/mscli/plan"
)

// pcgStream is the PCG stream of plans. It is fixed: changing it changes every plan of
// every seed, which breaks the promise that a seed reproduces a plan. The workload's
// random streams are hashed from the seed instead (workload/streams.go), so none of them
// replays this one.
const pcgStream = 0x6d73636c69 // "mscli"

// placeAttempts bounds how often the nemesis redraws a fault that would overlap another
// fault on the same target.
const placeAttempts = 32

// Plan resolves the scenario with a seed into what a run executes: the topology, the
// workload (drawing its operations from the same seed), and the fault timeline — the
// hand-written faults with a service target narrowed to one replica, plus the nemesis'
// draws — sorted by start, ties in file order, the nemesis' after the file's. Every
// fault carries all its kind's parameters, defaults filled in.
//
// The same scenario and seed give a byte-identical Plan.JSON: everything random comes from
// one PCG generator seeded with the seed, consumed in a fixed order, and no map is
// iterated unsorted.
func (s *Scenario) Plan(seed int64) (*plan.Plan, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(seed), pcgStream))
	t := s.targets()
	p := &plan.Plan{
		Scenario:   s.Name,
		Summary:    s.Summary,
		Seed:       seed,
		Duration:   s.Duration,
		Topology:   s.Topology(),
		Workload:   s.Workload,
		Faults:     []plan.Fault{},
		Invariants: []plan.Invariant{},
	}
	p.Workload.Seed = seed
	if kind, ok := plan.LookupWorkloadKind(s.Workload.Kind); ok {
		p.Workload.Params = fillParams(kind.Params, s.Workload.Params)
	}
	for _, f := range s.Faults {
		kind := kindOf(f.Kind)
		target := f.Target
		if n, isService := t.services[target]; isService && kind.Target == plan.TargetNode {
			target = plan.ReplicaNode(target, rng.IntN(n))
		}
		p.Faults = append(p.Faults, plan.Fault{At: f.At, For: f.For, Kind: f.Kind, Target: target, Params: fillParams(kind.Params, f.Params), Source: "scenario"})
	}
	if s.Nemesis != nil {
		p.Faults = append(p.Faults, s.drawNemesis(rng, t, p.Faults)...)
	}
	slices.SortStableFunc(p.Faults, func(a, b plan.Fault) int { return cmp.Compare(a.At, b.At) })
	for _, inv := range s.Invariants {
		p.Invariants = append(p.Invariants, plan.Invariant{Name: inv.Name, Params: fillParams(invariantParams(inv.Name), inv.Params)})
	}
	if len(s.Catches) > 0 {
		p.Catches = maps.Clone(s.Catches)
	}
	p.Thresholds = s.planThresholds()
	return p, nil
}

// fillParams gives every parameter of a kind its value, canonical: the given one or the
// default. An optional parameter without a default is left out when not given.
func fillParams(spec map[string]plan.Param, given map[string]string) map[string]string {
	out := map[string]string{}
	for _, name := range sortedKeys(spec) {
		val, ok := given[name]
		if !ok {
			val = spec[name].Default
		}
		if val == "" {
			continue
		}
		if norm, msg := normParam(name, spec[name], val); msg == "" {
			val = norm
		}
		out[name] = val
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// span is the time a fault occupies its target: a window its whole length, a kill until
// the restart (or the end of the run), anything else its instant.
func span(f plan.Fault, duration plan.Duration) (plan.Duration, plan.Duration) {
	switch {
	case f.For > 0:
		return f.At, f.End()
	case f.Kind == "kill":
		d, err := f.Args().Duration("restart-after")
		if err != nil || d == 0 {
			return f.At, duration
		}
		return f.At, f.At + plan.Duration(d)
	}
	return f.At, f.At
}

// drawNemesis draws the nemesis' faults. Each draw picks a kind, a target the kind can
// act on on every testbed, a length in [Min, Max] (for windows, and for kill as its
// restart-after unless the scenario sets one) and a start in Between such that the
// fault ends within the run. A draw that would overlap another fault on the same target
// is redrawn a few times, since overlapping faults on one node or link mostly hide each
// other; after that it is kept.
func (s *Scenario) drawNemesis(rng *rand.Rand, t targets, fixed []plan.Fault) []plan.Fault {
	n := s.Nemesis
	lo, hi := n.window(s.Duration)
	busy := map[string][][2]plan.Duration{}
	for _, f := range fixed {
		a, b := span(f, s.Duration)
		busy[f.Target] = append(busy[f.Target], [2]plan.Duration{a, b})
	}
	free := func(f plan.Fault) bool {
		a, b := span(f, s.Duration)
		for _, iv := range busy[f.Target] {
			if a <= iv[1] && iv[0] <= b {
				return false
			}
		}
		return true
	}
	// Draws are in steps of 10ms: finer would only make timelines harder to read, and a
	// real network does not keep time that well anyway.
	const step = plan.Duration(10 * time.Millisecond)
	between := func(a, b plan.Duration) plan.Duration {
		if b < a {
			return a
		}
		return a + step*plan.Duration(rng.Int64N(int64((b-a)/step)+1))
	}
	// A kind lands only on a target every testbed can apply it to (Validate made sure
	// there is one), so a seed's plan is the same, and runs, on every testbed. When those
	// targets are among the ones the nemesis drew from before kinds declared what they
	// act on (t.draw), the target is drawn there first and, when the kind cannot act on
	// it everywhere, again among its own: still uniform over the latter, and a draw that
	// was valid consumes the same numbers as before, so seeds keep their plans wherever
	// nothing was wrong. Otherwise (wipe and snapshot, on databases) it is drawn among
	// its own at once.
	cands := map[string][]string{}
	first := map[string][]string{}
	for _, nf := range n.Faults {
		kind := kindOf(nf.Kind)
		cands[nf.Kind] = t.drawable(kind)
		if pool := t.draw[kind.Target]; subset(cands[nf.Kind], pool) {
			first[nf.Kind] = pool
		}
	}
	out := make([]plan.Fault, 0, n.Count)
	for range n.Count {
		var f plan.Fault
		for range placeAttempts {
			nf := n.Faults[rng.IntN(len(n.Faults))]
			kind := kindOf(nf.Kind)
			target := ""
			if pool := first[nf.Kind]; len(pool) > 0 {
				target = pool[rng.IntN(len(pool))]
			}
			if c := cands[nf.Kind]; !slices.Contains(c, target) {
				target = c[rng.IntN(len(c))]
			}
			params := maps.Clone(NemesisParams[nf.Kind])
			if params == nil {
				params = map[string]string{}
			}
			maps.Copy(params, nf.Params)
			f = plan.Fault{Kind: nf.Kind, Target: target, Source: "nemesis"}
			latest := s.Duration - step // an instantaneous fault must happen before the end
			if kind.Window || kind.Name == "kill" {
				d := between(n.Min, n.Max)
				latest = s.Duration - d
				if kind.Window {
					f.For = d
				} else if r, set := params["restart-after"]; !set {
					params["restart-after"] = d.String()
				} else if rd, err := plan.ParseDuration(r); err == nil && rd > 0 {
					latest = s.Duration - rd // the scenario's own restart-after
				}
			}
			f.At = between(lo, min(hi, latest))
			f.Params = fillParams(kind.Params, params)
			if free(f) {
				break
			}
		}
		a, b := span(f, s.Duration)
		busy[f.Target] = append(busy[f.Target], [2]plan.Duration{a, b})
		out = append(out, f)
	}
	return out
}

// subset says whether every element of a is in b.
func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
