package invariants

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/stats"
	"github.com/mscli/mscli/plan"
)

// A gateway forwards each client request to the dependency it names, with a timeout,
// retries, a circuit breaker and a pool of calls per dependency. The workload's
// operations reach the dependencies through it, and the routes parameter says which
// operations (f) reach which dependency. A fault window is on a dependency when it
// targets the service, one of its replicas ("catalog/0"), or a link into either
// ("gateway->catalog"); its kind makes the dependency down (the down parameter) or
// only slow (latency, bandwidth, …). fail-fast, bounded-load and recovers judge what
// the gateway did in each window: how long the clients waited, how many calls the
// dependency received (its calls records), and how soon the errors stopped after the
// heal. Operations of a gateway's routes may have no id (a catalog read), so their
// invoke and completion pair by process: a process has one operation in flight.

func init() {
	Register(plan.InvariantKind{Name: "fail-fast",
		Doc: "while a dependency is down, the operations that reach it are answered fast; while it is down or slow, the other dependencies' operations keep their latency",
		Params: map[string]plan.Param{
			"routes":    routesParam(),
			"down":      downParam(),
			"bound":     {Type: plan.ParamDuration, Default: "100ms", Doc: "the p99 latency a down dependency's operations may reach once grace has passed"},
			"grace":     {Type: plan.ParamDuration, Default: "1s", Doc: "how long after a down fault starts its dependency's operations may still be slow (the breaker learns)"},
			"isolation": {Type: plan.ParamDuration, Default: "200ms", Doc: "the p99 latency the other dependencies' operations may reach during a fault on one, or 3 × their p99 while no fault was on if more"},
		}}, checkFailFast)
	Register(plan.InvariantKind{Name: "bounded-load",
		Doc: "while a dependency is down, the calls it receives stay within a rate: retries back off and the breaker holds them",
		Params: map[string]plan.Param{
			"routes": routesParam(),
			"down":   downParam(),
			"rate":   {Type: plan.ParamInt, Default: "50", Min: 1, Doc: "the calls a second a down dependency may receive, in each second of the fault"},
		}}, checkBoundedLoad)
	Register(plan.InvariantKind{Name: "recovers",
		Doc: "after a down dependency heals, the share of its operations not answered by it falls back to what it was before the first fault, soon",
		Params: map[string]plan.Param{
			"routes": routesParam(),
			"down":   downParam(),
			"within": {Type: plan.ParamDuration, Default: "5s", Doc: "how long after the heal the bad share must be back within 2% of what it was before the first fault"},
		}}, checkRecovers)
}

// minOps is the fewest operations a measured set needs to be judged: the p99 of fewer
// is their slowest one, and the share of fewer says little.
const minOps = 10

const (
	defaultRoutes = `{"bank":["withdraw"],"catalog":["browse"]}`
	defaultDown   = `["kill","partition","timeout","http-errors","reset","pause"]`
)

func routesParam() plan.Param {
	return plan.Param{Type: plan.ParamObject, Default: defaultRoutes, Doc: "each dependency and the operations (f) that reach it through the gateway: a mapping of service to a list of names",
		Schema: map[string]any{"type": "object", "minProperties": 1,
			"propertyNames": map[string]any{"pattern": "^" + nameRE + "$"}, "additionalProperties": nameListSchema()}}
}

func downParam() plan.Param {
	return plan.Param{Type: plan.ParamObject, Default: defaultDown, Schema: nameListSchema(),
		Doc: "the fault kinds that make a dependency down (a list); others (latency, bandwidth, …) make it slow"}
}

// gwCall is one operation of a route: its history lines, when it completed and how
// long it took.
type gwCall struct {
	invoke, complete int32 // operation record numbers (history.Records)
	done, lat        int64
}

// depWindow is a fault window on a dependency.
type depWindow struct {
	dep         string
	down        bool
	start, stop int32 // the fault's records; stop -1 if never healed
	from, to    int64 // to is the end of the history when never healed
	healed      bool
}

// gateway is what the three checkers read of a run: each dependency's operations and
// the fault windows on it.
type gateway struct {
	ix      *Index
	deps    []string            // the dependencies the routes name, sorted
	routes  map[string][]string // dependency → the operations (f) that reach it
	calls   map[string][]gwCall // dependency → its completed operations, by completion time
	windows []depWindow         // by start
	first   int64               // the start of the first fault that took effect; end if none
	end     int64               // the last operation record: a window never healed lasts to it
}

// newGateway reads the routes and down parameters and pairs the routes' operations;
// the message names a bad parameter.
func newGateway(ix *Index, params map[string]string) (*gateway, string) {
	routes, err := routesOf(params["routes"])
	if err != nil {
		return nil, err.Error()
	}
	down := params["down"]
	if down == "" {
		down = defaultDown
	}
	kinds, err := nameList("down", down)
	if err != nil {
		return nil, fmt.Sprintf(`parameter down: %s is not a list of fault kinds (["kill","timeout"])`, down)
	}
	g := &gateway{ix: ix, routes: routes, deps: sortedKeys(routes), calls: map[string][]gwCall{}, end: ix.lastOp}
	byF := map[string][]string{}
	for _, d := range g.deps {
		for _, f := range routes[d] {
			byF[f] = append(byF[f], d)
		}
	}
	// A process has one operation in flight: its completion is its next line.
	pending := map[int]int32{}
	for i := range ix.recs.NumOps() {
		o := ix.recs.Op(i)
		if o.Type == history.Invoke {
			pending[o.Process] = int32(i)
			continue
		}
		inv, ok := pending[o.Process]
		if !ok {
			continue
		}
		delete(pending, o.Process)
		if ix.recs.OpF(int(inv)) != o.F {
			continue
		}
		for _, d := range byF[o.F] {
			g.calls[d] = append(g.calls[d], gwCall{invoke: inv, complete: int32(i), done: o.Time, lat: o.Time - ix.recs.OpTime(int(inv))})
		}
	}
	for _, cs := range g.calls {
		slices.SortStableFunc(cs, func(a, b gwCall) int { return cmp.Compare(a.done, b.done) })
	}
	g.first = g.end
	for _, w := range ix.windows {
		g.first = min(g.first, w.from)
		f := &ix.In.Faults[w.start]
		for _, d := range g.deps {
			if !onDependency(f.Target, d) {
				continue
			}
			dw := depWindow{dep: d, down: slices.Contains(kinds, f.Fault), start: w.start, stop: w.stop, from: w.from, to: w.to, healed: w.stop >= 0}
			if !dw.healed {
				dw.to = max(g.end, w.from)
			}
			g.windows = append(g.windows, dw)
		}
	}
	slices.SortStableFunc(g.windows, func(a, b depWindow) int { return cmp.Compare(a.from, b.from) })
	return g, ""
}

// routesOf reads a routes parameter: a mapping of dependency to its operations (each a
// list, or "a,b"); empty is the default.
func routesOf(s string) (map[string][]string, error) {
	if strings.TrimSpace(s) == "" {
		s = defaultRoutes
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		return nil, fmt.Errorf(`parameter routes: %s is not a mapping of dependency to operation names ({"catalog":["browse"]})`, s)
	}
	out := map[string][]string{}
	for _, d := range sortedKeys(m) {
		if !validName(d) {
			return nil, fmt.Errorf("parameter routes: invalid dependency name %q", d)
		}
		fs, err := nameList("routes."+d, string(m[d]))
		if err != nil {
			return nil, err
		}
		out[d] = fs
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("parameter routes: names no dependency")
	}
	return out, nil
}

// onDependency says whether a fault's target is a dependency: the service, one of its
// replicas, or a link into either.
func onDependency(target, dep string) bool {
	if _, to, isLink := strings.Cut(target, "->"); isLink {
		target = to
	}
	return plan.ServiceOf(target) == dep
}

// routeOps names a dependency's operations for a note: "catalog's routes (browse)".
func (g *gateway) routeOps(dep string) string {
	return fmt.Sprintf("%s's routes (%s)", dep, strings.Join(g.routes[dep], ", "))
}

// depNames lists the dependencies for a message: "bank, catalog".
func (g *gateway) depNames() string { return strings.Join(g.deps, ", ") }

// anyCalls says whether some route's operation completed.
func (g *gateway) anyCalls() bool {
	for _, cs := range g.calls {
		if len(cs) > 0 {
			return true
		}
	}
	return false
}

// noCallsResult is the result when no operation of a route completed.
func (g *gateway) noCallsResult() Result {
	var ops []string
	for _, d := range g.deps {
		ops = append(ops, g.routes[d]...)
	}
	return UnknownResult(fmt.Sprintf("no operation of the routes (%s) completed: nothing to judge", strings.Join(ops, ", ")))
}

// between returns a dependency's operations that completed in [from, to].
func (g *gateway) between(dep string, from, to int64) []gwCall {
	cs := g.calls[dep]
	lo, _ := slices.BinarySearchFunc(cs, from, func(c gwCall, t int64) int { return cmp.Compare(c.done, t) })
	hi, _ := slices.BinarySearchFunc(cs, to+1, func(c gwCall, t int64) int { return cmp.Compare(c.done, t) })
	return cs[lo:max(lo, hi)]
}

// before returns a dependency's operations that completed before the first fault
// that took effect (anywhere): its level when nothing was wrong.
func (g *gateway) before(dep string) []gwCall {
	if len(g.ix.windows) == 0 {
		return g.calls[dep]
	}
	return g.between(dep, math.MinInt64, g.first-1)
}

// p99 is the nearest-rank 99th percentile of the operations' latency.
func p99(cs []gwCall) int64 {
	lats := make([]int64, len(cs))
	for i, c := range cs {
		lats[i] = c.lat
	}
	slices.Sort(lats)
	return stats.NearestRank(lats, 0.99)
}

// slowest returns up to n of the operations, the slowest first.
func slowest(cs []gwCall, n int) []gwCall {
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b gwCall) int { return cmp.Compare(b.lat, a.lat) })
	return out[:min(n, len(out))]
}

// opLines are the operations' history lines, each invoke followed by its completion.
func (g *gateway) opLines(cs []gwCall) []history.Op {
	out := make([]history.Op, 0, 2*len(cs))
	for _, c := range cs {
		out = append(out, g.ix.recs.Op(int(c.invoke)), g.ix.recs.Op(int(c.complete)))
	}
	return out
}

// fault names a window's fault for a note: "timeout gateway->catalog".
func (g *gateway) fault(w depWindow) string {
	f := &g.ix.In.Faults[w.start]
	return f.Fault + " " + f.Target
}

// faults are a window's fault records: its start, and its stop when it healed.
func (g *gateway) faults(w depWindow) []history.Fault {
	out := []history.Fault{g.ix.In.Faults[w.start]}
	if w.stop >= 0 {
		out = append(out, g.ix.In.Faults[w.stop])
	}
	return out
}

// span writes a stretch of a window for a note: "from 5.0s to 7.0s", and "to 9.3s (the
// end: never healed)" for the end of a window that never healed.
func (g *gateway) span(w depWindow, from, to int64) string {
	s := fmt.Sprintf("from %s to %s", secs(from), secs(to))
	if !w.healed && to == w.to {
		s += " (the end: never healed)"
	}
	return s
}

// secs writes a time on the run clock with one decimal: "5.0s".
func secs(at int64) string { return fmt.Sprintf("%.1fs", float64(at)/1e9) }

// msString writes a duration rounded to the millisecond: "912ms", "1.204s".
func msString(d int64) string { return time.Duration(d).Round(time.Millisecond).String() }

// windowsOn returns the windows on a dependency.
func (g *gateway) windowsOn(dep string) []depWindow {
	var out []depWindow
	for _, w := range g.windows {
		if w.dep == dep {
			out = append(out, w)
		}
	}
	return out
}

// unjudged tallies the measured sets left out, by reason, for the summary.
type unjudged struct {
	reasons []string
	counts  map[string]int
}

func (u *unjudged) add(reason string) {
	if u.counts == nil {
		u.counts = map[string]int{}
	}
	if u.counts[reason] == 0 {
		u.reasons = append(u.reasons, reason)
	}
	u.counts[reason]++
}

func (u *unjudged) total() (n int) {
	for _, c := range u.counts {
		n += c
	}
	return n
}

// String says what was left out: "2 not judged (fewer than 10 operations)".
func (u *unjudged) String() string {
	parts := make([]string, len(u.reasons))
	for i, r := range u.reasons {
		parts[i] = fmt.Sprintf("%d %s", u.counts[r], r)
	}
	return strings.Join(parts, "; ")
}
