package runner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
	"github.com/mscli/mscli/testbed"
	"github.com/mscli/mscli/workload"
)

// The extension points are real: from outside their packages this test adds a fault
// kind, an invariant, a workload kind, a fixture and a testbed, each in a few lines,
// then plans and runs a scenario that names them all on a fake system, and sees each
// one used.

var used struct {
	sync.Mutex
	up, hiccups, recoveries, sends, checks int
	keys                                   map[string]bool // the counters the workload drew
}

func count(n *int) { used.Lock(); *n++; used.Unlock() }

func init() {
	// A fault kind: "ext-hiccup" pauses a replica for its window.
	chaos.Register(plan.FaultKind{Name: "ext-hiccup", Target: plan.TargetNode, Window: true,
		Doc: "pause a replica", Acts: []plan.Reach{{Role: plan.RoleReplica, On: plan.Testbeds}}},
		chaos.FaultFunc(func(ctx context.Context, env chaos.Env, f plan.Fault) (chaos.Heal, error) {
			nodes, err := env.Nodes(f.Target)
			if err != nil {
				return nil, err
			}
			for _, n := range nodes {
				if err := n.Pause(ctx); err != nil {
					return nil, err
				}
			}
			return func(ctx context.Context) error {
				for _, n := range nodes {
					n.Resume(ctx)
				}
				return nil
			}, nil
		}))

	// An invariant: every acknowledged write took effect in the ledger's write view.
	invariants.Register(plan.InvariantKind{Name: "ext-acked-applied", Doc: "acknowledged adds took effect"}, func(_ context.Context, ix *invariants.Index, _ map[string]string) invariants.Result {
		count(&used.checks)
		v, ok := ix.View("ledger", history.WriteView)
		if !ok {
			return invariants.UnknownResult("the ledger's write view was never observed")
		}
		var bad []invariants.Witness
		checked := 0
		for op := range ix.Ops() {
			if op.Outcome != history.Ok || op.Invoke == nil || op.Invoke.F != "add" {
				continue
			}
			checked++
			if v.Count(op.Ref) != 1 {
				bad = append(bad, ix.OpWitness(op.Ref, history.WriteView, "not applied once", v.Effects(op.Ref)))
			}
		}
		return invariants.NewResult(len(bad), checked, bad, "acknowledged adds")
	})

	// A workload kind: "ext-counter" adds 1 to one of three counters.
	workload.Register(plan.WorkloadKind{Name: "ext-counter", Doc: "add 1 to a counter", Params: map[string]plan.Param{
		"counters": {Type: plan.ParamInt, Min: 1, Default: "2", Doc: "how many counters"},
	}}, counterKind{})

	// A fixture: "ext-ledger" shows a write view and is driven by ext-counter.
	plan.RegisterFixture(plan.Fixture{Name: "ext-ledger", Views: []string{history.WriteView}, Workload: "ext-counter",
		Bugs: []plan.Bug{{Name: "ext-lose-adds", Breaks: "ext-acked-applied", What: "acknowledges some adds it never applies"}}})

	// A testbed: "ext-fake" runs the ledger in this process.
	testbed.Register(testbed.Testbed{Name: "ext-fake", Doc: "an in-process ledger",
		Up: func(_ context.Context, pl *plan.Plan, o testbed.Options) (testbed.System, error) {
			count(&used.up)
			return newFakeSystem(pl, o.Bugs), nil
		}})
}

type counterKind struct{}

func (counterKind) Openings(plan.Workload) []workload.Planned { return nil }

func (counterKind) Generator(w plan.Workload, proc int) func() workload.Planned {
	counters, _ := w.Args().Int("counters")
	n := 0
	return func() workload.Planned {
		n++
		key := fmt.Sprintf("c-%d", n%int(counters))
		used.Lock()
		if used.keys == nil {
			used.keys = map[string]bool{}
		}
		used.keys[key] = true
		used.Unlock()
		return workload.Planned{ID: fmt.Sprintf("add-%d-%d", proc, n), F: "add", Key: key, Amount: 1}
	}
}

func (counterKind) Send(ctx context.Context, c *http.Client, endpoint string, op workload.Planned, timeout time.Duration) workload.Attempt {
	count(&used.sends)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, endpoint+"/add/"+op.Key+"/"+op.ID, nil)
	resp, err := c.Do(req)
	if err != nil {
		return workload.Attempt{Out: workload.Unknown, Retry: true, Err: err.Error()}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return workload.Attempt{Out: workload.NotApplied, Retry: true, Err: resp.Status}
	}
	return workload.Attempt{Out: workload.Applied}
}

func (counterKind) Read(context.Context, *http.Client, string, string, time.Duration) (workload.Attempt, history.Observed) {
	return workload.Attempt{Out: workload.NotApplied, Err: "the ledger has no reads"}, history.Observed{}
}

func (counterKind) Keys(plan.Workload) []string { return nil }

// fakeSystem is the ledger behind an HTTP server, and its one replica as a node.
type fakeSystem struct {
	srv    *httptest.Server
	mu     sync.Mutex
	paused bool
	lose   bool
	adds   map[string]string // op id → key
}

func newFakeSystem(pl *plan.Plan, bugs []string) *fakeSystem {
	s := &fakeSystem{adds: map[string]string{}}
	for _, b := range bugs {
		s.lose = s.lose || b == "ext-lose-adds"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /add/{key}/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.paused {
			http.Error(w, "paused", http.StatusServiceUnavailable)
			return
		}
		if s.lose && strings.HasSuffix(r.PathValue("id"), "7") {
			return // acknowledged, never applied
		}
		s.adds[r.PathValue("id")] = r.PathValue("key")
	})
	mux.HandleFunc("GET /effects", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		ids := make([]string, 0, len(s.adds))
		for id := range s.adds {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		enc := json.NewEncoder(w)
		totals := map[string]int64{}
		for i, id := range ids {
			key := s.adds[id]
			totals[key]++
			enc.Encode(history.Effect{Service: "ledger", View: history.WriteView, Kind: "add", Key: key, ID: id, Amount: 1, Seq: int64(i + 1)})
			enc.Encode(history.Effect{Service: "ledger", View: history.WriteView, Kind: history.KindOperation, ID: id, State: history.StateApplied})
		}
		for key, v := range totals {
			enc.Encode(history.Effect{Service: "ledger", View: history.WriteView, Kind: history.KindState, Key: key, Value: &v})
		}
	})
	s.srv = httptest.NewServer(mux)
	return s
}

func (s *fakeSystem) Links(t string) ([]chaos.Link, error) { return nil, fmt.Errorf("no link %q", t) }
func (s *fakeSystem) Nodes(t string) ([]chaos.Node, error) {
	if t != "ledger/0" && t != "ledger" {
		return nil, fmt.Errorf("no node %q", t)
	}
	return []chaos.Node{fakeNode{s}}, nil
}
func (s *fakeSystem) BrokerURL() string           { return "" }
func (s *fakeSystem) Endpoints(string) []string   { return []string{s.srv.URL} }
func (s *fakeSystem) ObserveURLs(string) []string { return []string{s.srv.URL} }
func (s *fakeSystem) DatabaseURL(string) string   { return "" }
func (s *fakeSystem) HostAddr(string, int) string { return "" }
func (s *fakeSystem) Down(context.Context) error  { s.srv.Close(); return nil }
func (s *fakeSystem) setPaused(p bool)            { s.mu.Lock(); s.paused = p; s.mu.Unlock() }
func (n fakeNode) Name() string                   { return "ledger/0" }
func (n fakeNode) Kill(context.Context) error     { return nil }
func (n fakeNode) Start(context.Context) error    { return nil }
func (n fakeNode) Stop(context.Context) error     { return nil }
func (n fakeNode) Pause(context.Context) error    { count(&used.hiccups); n.s.setPaused(true); return nil }
func (n fakeNode) Resume(context.Context) error {
	count(&used.recoveries)
	n.s.setPaused(false)
	return nil
}

type fakeNode struct{ s *fakeSystem }

const extensionScenario = `name: extension
duration: 2s
system:
  services:
    ledger: {fixture: ext-ledger}
workload: {kind: ext-counter, clients: 2, rate: 100, counters: 3}
faults:
  - {at: 500ms, for: 400ms, fault: ext-hiccup, node: ledger/0}
invariants: [ext-acked-applied]
catches: {ext-lose-adds: ext-acked-applied}
`

func runExtension(t *testing.T, bugs ...string) *invariants.Result {
	t.Helper()
	file := filepath.Join(t.TempDir(), "extension.yaml")
	if err := os.WriteFile(file, []byte(extensionScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenarios.Load(file)
	if err != nil {
		t.Fatalf("the scenario naming every extension does not load: %v", err)
	}
	pl, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	name, tb, _, err := runner.PickTestbed("ext-fake")
	if err != nil {
		t.Fatal(err)
	}
	res, err := runner.Run(context.Background(), pl, runner.Options{Dir: t.TempDir(), TestbedName: name, Testbed: tb, Bugs: bugs})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(res.Results) != 1 || res.Results[0].Name != "ext-acked-applied" {
		t.Fatalf("results: %+v", res.Results)
	}
	if res.Faults.Applied < 1 {
		t.Errorf("the ext-hiccup fault was not applied: %+v", res.Faults)
	}
	return &res.Results[0]
}

func TestExtensionsPlugIn(t *testing.T) {
	r := runExtension(t)
	if r.Verdict != invariants.Pass || r.Checked == 0 {
		t.Errorf("clean run: %s %q (%d checked)", r.Verdict, r.Summary, r.Checked)
	}
	used.Lock()
	defer used.Unlock()
	if used.up == 0 || used.hiccups == 0 || used.recoveries == 0 || used.sends == 0 || used.checks == 0 {
		t.Errorf("not every extension was used: testbed up %d, fault %d/%d, workload sends %d, invariant %d",
			used.up, used.hiccups, used.recoveries, used.sends, used.checks)
	}
	if len(used.keys) != 3 {
		t.Errorf("the workload drew counters %v: its own parameter counters: 3 did not reach it", used.keys)
	}
}

// The fixture's declared bug reaches the fake system, and the registered invariant
// catches it.
func TestExtensionBugIsCaught(t *testing.T) {
	r := runExtension(t, "ext-lose-adds")
	if r.Verdict != invariants.Fail || len(r.Witnesses) == 0 || !strings.Contains(r.Witnesses[0].Note, "not applied") {
		t.Errorf("with ext-lose-adds: %s %q, witnesses %+v", r.Verdict, r.Summary, r.Witnesses)
	}
}
