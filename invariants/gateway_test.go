package invariants

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// gwRun builds a recorded run of a gateway as its workload records it: withdrawals
// (the bank's route, each with an id) and catalog reads (browse, no id) sent through
// the gateway, each completion with its status and who answered; the catalog's calls
// records (per 100 ms) and the gateway's breaker records.
type gwRun struct {
	in   *Input
	busy []int64 // process → when its operation in flight completes
	n    int
}

func newGwRun() *gwRun { return &gwRun{in: &Input{}} }

// op records an operation of f invoked at `at` that took lat, on a free process.
func (r *gwRun) op(f string, at, lat int64, typ history.OpType, source string) {
	p := slices.IndexFunc(r.busy, func(b int64) bool { return b < at })
	if p < 0 {
		p = len(r.busy)
		r.busy = append(r.busy, 0)
	}
	r.busy[p] = at + lat
	id, key := "", "item-1"
	if f == "withdraw" {
		r.n++
		id, key = fmt.Sprintf("w-%d", r.n), "acct-1"
	}
	status := 200
	switch {
	case source == history.SourceBreaker:
		status = 503
	case typ != history.Ok:
		status = 504
	}
	r.in.Ops = append(r.in.Ops,
		history.Op{Time: at, Process: p, Type: history.Invoke, F: f, Key: key, ID: id},
		history.Op{Time: at + lat, Process: p, Type: typ, F: f, Key: key, ID: id, Status: status, Source: source})
}

// shape says how an operation invoked at a time went: its latency, outcome and source.
type shape func(at int64) (lat int64, typ history.OpType, source string)

// fine is an operation the dependency answered in lat.
func fine(lat int64) shape {
	return func(int64) (int64, history.OpType, string) { return lat, history.Ok, history.SourceUpstream }
}

// traffic records an operation of f every `every` from `from` (included) to `to`
// (excluded).
func (r *gwRun) traffic(f string, from, to, every int64, s shape) {
	for at := from; at < to; at += every {
		lat, typ, src := s(at)
		r.op(f, at, lat, typ, src)
	}
}

// fault records a fault's start and, unless to is 0 (never healed), its stop; a start
// with an error never took effect, and its stop follows at once, as the scheduler
// records it.
func (r *gwRun) fault(kind, target string, from, to int64, err string) {
	n := len(r.in.Faults)
	r.in.Faults = append(r.in.Faults, history.Fault{Time: from, Phase: history.Start, Fault: kind, Target: target, N: n, Error: err})
	switch {
	case err != "":
		r.in.Faults = append(r.in.Faults, history.Fault{Time: from, Phase: history.Stop, Fault: kind, Target: target, N: n})
	case to > 0:
		r.in.Faults = append(r.in.Faults, history.Fault{Time: to, Phase: history.Stop, Fault: kind, Target: target, N: n})
	}
}

// calls records that svc received perSec calls a second from `from` to `to`, one
// record per 100 ms.
func (r *gwRun) calls(svc string, from, to, perSec int64) {
	for at := from; at < to; at += 100 * ms {
		if n := perSec / 10; n > 0 {
			r.in.Effects = append(r.in.Effects, history.Effect{Service: svc, View: "calls", Kind: history.KindCalls, Amount: n, At: at})
		}
	}
}

func (r *gwRun) breaker(dep, state string, at int64) {
	r.in.Effects = append(r.in.Effects, history.Effect{Service: "gateway", View: "breaker", Kind: history.KindBreaker, Key: dep, State: state, At: at})
}

// finish puts the history in time order, a completion before an invoke at the same
// time, and numbers its lines.
func (r *gwRun) finish() *Input {
	slices.SortStableFunc(r.in.Ops, func(a, b history.Op) int {
		return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(boolInt(a.Type == history.Invoke), boolInt(b.Type == history.Invoke)))
	})
	for i := range r.in.Ops {
		r.in.Ops[i].Index = int64(i + 1)
	}
	return r.in
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The known bugs of the gateway fixture, as the records show them.
const (
	noBug         = ""
	noBreaker     = "no-breaker"
	sharedPool    = "shared-pool"
	retryStorm    = "retry-storm"
	neverCloses   = "breaker-never-closes"
	downTimeout   = "timeout gateway->catalog"
	downKill      = "kill catalog/0"
	catalogCallsS = 100
)

// gatewayRun is 20 s of a gateway in front of a bank (a withdrawal every 20 ms, 15 ms
// each) and a catalog (a read every 10 ms, 20 ms each, 100 calls a second). The
// catalog hangs from 4 s to 7 s (timeout), is slow from 9 s to 10 s (latency, 270 ms
// reads) and is killed from 12 s to 14 s. While it is down, its reads time out
// (300 ms, unknown outcome) until the breaker opens 500 ms in, then are answered from
// the fallback in 2 ms; the catalog receives 60 calls a second meanwhile, then a
// trial every 500 ms. 300 ms after the heal the breaker closes. bug changes that as the
// fixture's bug would.
func gatewayRun(bug string) *gwRun {
	r := newGwRun()
	end := 20 * sec
	type window struct{ from, to int64 }
	down := []window{{4 * sec, 7 * sec}, {12 * sec, 14 * sec}}
	slow := window{9 * sec, 10 * sec}
	inDown := func(at int64) (window, bool) {
		for _, w := range down {
			if at >= w.from && at < w.to {
				return w, true
			}
		}
		return window{}, false
	}
	afterDown := func(at int64) (window, bool) {
		for i := len(down) - 1; i >= 0; i-- {
			if at >= down[i].to {
				return down[i], true
			}
		}
		return window{}, false
	}
	r.traffic("withdraw", 0, end, 20*ms, func(at int64) (int64, history.OpType, string) {
		_, isDown := inDown(at)
		if bug == sharedPool && (isDown || (at >= slow.from && at < slow.to)) {
			return 350 * ms, history.Ok, history.SourceUpstream
		}
		return 15 * ms, history.Ok, history.SourceUpstream
	})
	r.traffic("browse", 0, end, 10*ms, func(at int64) (int64, history.OpType, string) {
		if w, ok := inDown(at); ok {
			switch {
			case bug == noBreaker:
				return 950 * ms, history.Info, history.SourceUpstream
			case at < w.from+500*ms:
				return 300 * ms, history.Info, history.SourceUpstream
			}
			return 2 * ms, history.Ok, history.SourceFallback
		}
		if at >= slow.from && at < slow.to {
			return 270 * ms, history.Ok, history.SourceUpstream
		}
		if w, ok := afterDown(at); ok && (bug == neverCloses || at < w.to+300*ms) {
			return 2 * ms, history.Ok, history.SourceFallback
		}
		return 20 * ms, history.Ok, history.SourceUpstream
	})
	r.fault("timeout", "gateway->catalog", down[0].from, down[0].to, "")
	r.fault("latency", "gateway->catalog", slow.from, slow.to, "")
	r.fault("kill", "catalog/0", down[1].from, down[1].to, "")
	r.breaker("bank", history.BreakerClosed, 0)
	r.breaker("catalog", history.BreakerClosed, 0)
	at := int64(0)
	for _, w := range down {
		r.calls("catalog", at, w.from, catalogCallsS)
		switch {
		case w.from == 12*sec:
			// A killed catalog counts nothing.
		case bug == retryStorm:
			r.calls("catalog", w.from, w.to, 400)
		default:
			r.calls("catalog", w.from, w.from+500*ms, 60)
			for t := w.from + 500*ms; t < w.to; t += 500 * ms {
				r.in.Effects = append(r.in.Effects, history.Effect{Service: "catalog", View: "calls", Kind: history.KindCalls, Amount: 1, At: t})
			}
		}
		if bug != noBreaker {
			r.breaker("catalog", history.BreakerOpen, w.from+500*ms)
			r.breaker("catalog", history.BreakerHalfOpen, w.from+1500*ms)
			r.breaker("catalog", history.BreakerOpen, w.from+1501*ms)
			r.breaker("catalog", history.BreakerHalfOpen, w.to+300*ms-1)
			if bug == neverCloses {
				r.breaker("catalog", history.BreakerOpen, w.to+300*ms)
			} else {
				r.breaker("catalog", history.BreakerClosed, w.to+300*ms)
			}
		}
		at = w.to
	}
	r.calls("catalog", at, end, catalogCallsS)
	return r
}

func TestGatewayWindowsOnADependency(t *testing.T) {
	for target, want := range map[string]bool{
		"catalog": true, "catalog/0": true, "gateway->catalog": true, "gateway/0->catalog": true, "client->catalog/1": true,
		"catalog->broker": false, "catalogue": false, "catalog-db": false, "gateway": false, "client->gateway": false, "bank": false,
	} {
		if got := onDependency(target, "catalog"); got != want {
			t.Errorf("onDependency(%q, catalog) = %v, want %v", target, got, want)
		}
	}
}

func TestGatewayParams(t *testing.T) {
	for _, tc := range []struct {
		routes string
		want   map[string][]string
		err    string
	}{
		{"", map[string][]string{"bank": {"withdraw"}, "catalog": {"browse"}}, ""},
		{`{"catalog":"browse,search","bank":["withdraw","deposit"]}`, map[string][]string{"bank": {"withdraw", "deposit"}, "catalog": {"browse", "search"}}, ""},
		{`{"catalog":null}`, map[string][]string{"catalog": nil}, ""},
		{`["browse"]`, nil, "parameter routes: "},
		{`{}`, nil, "parameter routes: names no dependency"},
		{`{"a b":["x"]}`, nil, `invalid dependency name "a b"`},
		{`{"catalog":[1]}`, nil, "parameter routes.catalog: "},
		{`catalog=browse`, nil, "parameter routes: "},
	} {
		got, err := routesOf(tc.routes)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("routes %s: error %v, want %q", tc.routes, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("routes %s: %v", tc.routes, err)
		case tc.err == "" && fmt.Sprint(got) != fmt.Sprint(tc.want):
			t.Errorf("routes %s = %v, want %v", tc.routes, got, tc.want)
		}
	}
	in := gatewayRun(noBug).finish()
	for _, name := range []string{"fail-fast", "bounded-load", "recovers"} {
		for param, bad := range map[string]string{"routes": `{"catalog":["a,b"]}`, "down": `[3]`} {
			res := one(in, name, map[string]string{param: bad})
			if res.Verdict != Unknown || !strings.HasPrefix(res.Summary, "parameter "+param) {
				t.Errorf("%s with %s=%s: %s (%s), want unknown naming the parameter", name, param, bad, res.Verdict, res.Summary)
			}
		}
	}
	for name, params := range map[string]map[string]string{
		"fail-fast":    {"bound": "fast", "grace": "-1s", "isolation": "2"},
		"bounded-load": {"rate": "0"},
		"recovers":     {"within": "soon"},
	} {
		for p, v := range params {
			res := one(in, name, map[string]string{p: v})
			if res.Verdict != Unknown || !strings.HasPrefix(res.Summary, "parameter "+p) {
				t.Errorf("%s with %s=%s: %s (%s), want unknown naming the parameter", name, p, v, res.Verdict, res.Summary)
			}
		}
	}
}

// The declarations are valid for a scenario: defaults parse, and the schemas take what
// the checkers read.
func TestGatewayDeclarations(t *testing.T) {
	for _, name := range []string{"fail-fast", "bounded-load", "recovers"} {
		k, ok := plan.LookupInvariantKind(name)
		if !ok {
			t.Fatalf("%s is not declared", name)
		}
		routes, down := k.Params["routes"], k.Params["down"]
		if routes.Type != plan.ParamObject || down.Type != plan.ParamObject || routes.Doc == "" || down.Doc == "" {
			t.Errorf("%s: routes %+v, down %+v", name, routes, down)
		}
		if got, err := routesOf(routes.Default); err != nil || len(got) != 2 {
			t.Errorf("%s: default routes %s: %v %v", name, routes.Default, got, err)
		}
		kinds, err := nameList("down", down.Default)
		if err != nil || !slices.Equal(kinds, []string{"kill", "partition", "timeout", "http-errors", "reset", "pause"}) {
			t.Errorf("%s: default down %s: %v %v", name, down.Default, kinds, err)
		}
		for p, decl := range k.Params {
			if decl.Doc == "" || decl.Default == "" {
				t.Errorf("%s: parameter %s has no doc or no default", name, p)
			}
		}
		schema, _ := json.Marshal(routes.Schema)
		if !strings.Contains(string(schema), `"additionalProperties"`) {
			t.Errorf("%s: routes schema %s", name, schema)
		}
	}
	re := regexp.MustCompile(nameListSchema()["anyOf"].([]any)[0].(map[string]any)["pattern"].(string))
	if !re.MatchString("browse, search") {
		t.Error("the routes' lists refuse browse, search")
	}
}

// Operations without an id (browse) pair by process: the next line of the process
// that invoked one is its completion.
func TestGatewayPairsByProcess(t *testing.T) {
	r := newGwRun()
	r.op("browse", 0, 30*ms, history.Ok, history.SourceUpstream)
	r.op("browse", 10*ms, 50*ms, history.Ok, history.SourceUpstream) // a second process
	r.op("withdraw", 40*ms, 5*ms, history.Ok, history.SourceUpstream)
	r.op("browse", 100*ms, 7*ms, history.Fail, history.SourceBreaker)
	in := r.finish()
	g, msg := newGateway(NewIndex(in), nil)
	if msg != "" {
		t.Fatal(msg)
	}
	var lats []int64
	for _, c := range g.calls["catalog"] {
		lats = append(lats, c.lat)
	}
	if !slices.Equal(lats, []int64{30 * ms, 50 * ms, 7 * ms}) {
		t.Errorf("browse latencies %v", lats)
	}
	if len(g.calls["bank"]) != 1 || g.calls["bank"][0].lat != 5*ms {
		t.Errorf("bank %+v", g.calls["bank"])
	}
}
