package local_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/internal/testkit"
	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/testbed"
	"github.com/mscli/mscli/testbed/local"
)

// The local Env is what the chaos scheduler acts on.
var _ chaos.Env = (*local.Env)(nil)

func bankPlan(replicas int) *plan.Plan {
	return &plan.Plan{Scenario: "test", Topology: plan.Topology{
		Broker:   "nats",
		Services: []plan.Service{{Name: "bank", Fixture: "bank", Replicas: replicas, Database: "sqlite"}},
		Links: []plan.Link{
			{Name: "client->bank", From: "client", To: "bank"},
			{Name: "bank->broker", From: "bank", To: "broker"},
		},
	}}
}

// up starts a testbed under <tmp>/.mscli/runs/<id> and downs it at the end of the test.
func up(t testing.TB, pl *plan.Plan, opts testbed.Options) (*local.Env, string) {
	t.Helper()
	root := t.TempDir()
	if opts.RunID == "" {
		opts.RunID = "t" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	opts.Dir = filepath.Join(root, ".mscli", "runs", opts.RunID)
	if opts.Binary == "" {
		opts.Binary = fakeBinary(t)
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 10 * time.Second
	}
	opts.StopGrace = 2 * time.Second
	opts.Progress = func(e testbed.Event) { t.Log(e.Msg) }
	e, err := local.Up(context.Background(), pl, opts)
	t.Cleanup(func() {
		if err := e.Down(context.Background()); err != nil {
			t.Errorf("down: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	return e, root
}

func pidOf(t *testing.T, n testbed.Node) int {
	t.Helper()
	p, ok := n.(interface{ Pid() int })
	if !ok {
		t.Fatalf("node %s has no pid", n.Name())
	}
	return p.Pid()
}

func node(t *testing.T, e *local.Env, name string) testbed.Node {
	t.Helper()
	ns, err := e.Nodes(name)
	if err != nil || len(ns) != 1 {
		t.Fatalf("Nodes(%q) = %v, %v", name, ns, err)
	}
	return ns[0]
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0] != "Z"
}

func state(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, 5*time.Second, 10*time.Millisecond, what, cond)
}

func get(url string) (int, string) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func put(t *testing.T, url string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(`{"amount":1}`))
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT %s: %d", url, resp.StatusCode)
	}
}

func TestUpWiresEveryLinkThroughAProxy(t *testing.T) {
	e, _ := up(t, bankPlan(2), testbed.Options{})
	eps, obs := e.Endpoints("bank"), e.ObserveURLs("bank")
	if len(eps) != 2 || len(obs) != 2 {
		t.Fatalf("endpoints %v, observe %v", eps, obs)
	}
	for i := range eps {
		if eps[i] == obs[i] {
			t.Errorf("replica %d: the workload endpoint %s is not a proxy", i, eps[i])
		}
		put(t, eps[i]+"/accounts/acct-1/deposits/d-00000"+strconv.Itoa(i))
	}
	// Both replicas share one database file.
	if code, body := get(obs[0] + "/effects"); code != 200 || body != "2" {
		t.Errorf("effects through replica 0: %d %q", code, body)
	}
	if !strings.HasPrefix(e.BrokerURL(), "nats://127.0.0.1:") {
		t.Errorf("broker URL %s", e.BrokerURL())
	}
	if c, err := net.Dial("tcp", strings.TrimPrefix(e.BrokerURL(), "nats://")); err != nil {
		t.Errorf("broker direct: %v", err)
	} else {
		c.Close()
	}

	links, err := e.Links("client->bank")
	if err != nil || len(links) != 2 || links[0].Name() != "client->bank/0" {
		t.Fatalf("Links(client->bank) = %v, %v", links, err)
	}
	if l, err := e.Links("bank/1->broker"); err != nil || len(l) != 1 || l[0].Name() != "bank/1->broker" {
		t.Errorf("Links(bank/1->broker) = %v, %v", l, err)
	}
	if _, err := e.Links("bank->bank-db"); err == nil || !strings.Contains(err.Error(), "SQLite") {
		t.Errorf("Links(bank->bank-db): %v", err)
	}
	if _, err := e.Links("bank->elsewhere"); err == nil {
		t.Error("Links of an unknown link succeeded")
	}
	if ns, err := e.Nodes("bank"); err != nil || len(ns) != 2 {
		t.Errorf("Nodes(bank) = %v, %v", ns, err)
	}
	if _, ok := node(t, e, "bank-db").(chaos.DataNode); !ok {
		t.Error("bank-db does not take data faults")
	}
	if err := node(t, e, "bank-db").Kill(context.Background()); err == nil {
		t.Error("killing an SQLite file succeeded")
	}
	if _, err := e.Nodes("orders"); err == nil {
		t.Error("Nodes of an unknown node succeeded")
	}

	// The bank reaches the broker only through its proxy: cut it and the bank stops
	// being ready; heal it and it recovers.
	part, _ := chaos.Lookup("partition")
	heal, err := part.Apply(context.Background(), e, plan.Fault{Kind: "partition", Target: "bank/0->broker"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "bank/0 notices the partition", func() bool { c, _ := get(obs[0] + "/readyz"); return c == 503 })
	if c, _ := get(obs[1] + "/readyz"); c != 200 {
		t.Errorf("bank/1 hit by a partition of bank/0->broker: %d", c)
	}
	if err := heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bank/0 recovers", func() bool { c, _ := get(obs[0] + "/readyz"); return c == 200 })

	// Logs, pids and the run marker.
	for _, n := range []string{"broker", "bank/0", "bank/1"} {
		b, err := os.ReadFile(e.LogPath(n))
		if err != nil || !strings.Contains(string(b), "MSCLI_NODE="+n) {
			t.Errorf("log of %s: %v %q", n, err, b)
		}
	}
	pids, err := os.ReadFile(filepath.Join(e.Dir(), "pids"))
	if err != nil || strings.Count(string(pids), "\n") != 3 {
		t.Errorf("pids file: %v %q", err, pids)
	}
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pidOf(t, node(t, e, "broker"))))
	if err != nil || !strings.Contains(string(env), "MSCLI_RUN=") {
		t.Errorf("broker environment lacks the run marker: %v", err)
	}
}

func TestNodeLifecycle(t *testing.T) {
	e, _ := up(t, bankPlan(1), testbed.Options{})
	ctx := context.Background()
	b0 := node(t, e, "bank/0")
	pid := pidOf(t, b0)
	if err := b0.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if alive(pid) || pidOf(t, b0) != 0 {
		t.Fatal("killed process still alive")
	}
	if err := b0.Kill(ctx); err == nil {
		t.Error("killing a dead node succeeded")
	}
	if err := b0.Start(ctx); err != nil {
		t.Fatal(err)
	}
	npid := pidOf(t, b0)
	if npid == 0 || npid == pid {
		t.Fatalf("restart gave pid %d (was %d)", npid, pid)
	}
	if err := b0.Start(ctx); err != nil || pidOf(t, b0) != npid {
		t.Errorf("Start of a running node: %v, pid %d", err, pidOf(t, b0))
	}
	if code, _ := get(e.Endpoints("bank")[0] + "/readyz"); code != 200 {
		t.Errorf("restarted bank not reachable through its proxy: %d", code)
	}

	br := node(t, e, "broker")
	bpid := pidOf(t, br)
	if err := br.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the broker is stopped (T)", func() bool { return state(bpid) == "T" })
	if err := br.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the broker runs again", func() bool { s := state(bpid); return s == "S" || s == "R" })

	// A paused node still stops gracefully.
	if err := b0.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := b0.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if alive(npid) || time.Since(began) > time.Second {
		t.Errorf("stop of a paused node: alive %v after %s", alive(npid), time.Since(began))
	}
	if b, _ := os.ReadFile(e.LogPath("bank/0")); !strings.Contains(string(b), "stopping on SIGTERM") {
		t.Error("the paused node was not stopped by SIGTERM")
	}
	if err := b0.Start(ctx); err != nil {
		t.Fatal(err)
	}

	// Down stops everything, closes the proxies and can be called again.
	pids := []int{pidOf(t, b0), pidOf(t, br)}
	ep := e.Endpoints("bank")[0]
	if err := e.Down(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range pids {
		if alive(p) {
			t.Errorf("pid %d alive after Down", p)
		}
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(ep, "http://"), time.Second); err == nil {
		t.Error("proxy still listening after Down")
	}
	if err := e.Down(ctx); err != nil {
		t.Errorf("second Down: %v", err)
	}
	if err := b0.Start(ctx); err == nil {
		t.Error("a node started after Down")
	}
}

func TestDataFaults(t *testing.T) {
	e, _ := up(t, bankPlan(2), testbed.Options{})
	ctx := context.Background()
	ep, obs := e.Endpoints("bank"), e.ObserveURLs("bank")
	count := func() string { _, b := get(obs[1] + "/effects"); return b }
	for i := range 3 {
		put(t, fmt.Sprintf("%s/accounts/acct-1/deposits/d-%06d", ep[i%2], i))
	}
	run := func(kind string, params map[string]string) {
		t.Helper()
		f, _ := chaos.Lookup(kind)
		if _, err := f.Apply(ctx, e, plan.Fault{Kind: kind, Target: "bank-db", Params: params}); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
	}
	b0 := node(t, e, "bank/0")
	pid0 := pidOf(t, b0)
	run("snapshot", map[string]string{"name": "s1"})
	if pidOf(t, b0) != pid0 {
		t.Error("a snapshot restarted a replica")
	}
	if state(pid0) == "T" {
		t.Error("a snapshot left a replica frozen")
	}
	put(t, ep[0]+"/accounts/acct-1/deposits/d-000003")
	if c := count(); c != "4" {
		t.Fatalf("before the wipe: %s effects", c)
	}
	run("wipe", map[string]string{"restore": "s1"})
	if c := count(); c != "3" {
		t.Errorf("after restoring s1: %s effects, want 3", c)
	}
	if pidOf(t, b0) == pid0 || pidOf(t, b0) == 0 {
		t.Error("wipe did not restart the replicas")
	}
	run("wipe", nil)
	if c := count(); c != "0" {
		t.Errorf("after a wipe: %s effects, want 0", c)
	}
	f, _ := chaos.Lookup("wipe")
	if _, err := f.Apply(ctx, e, plan.Fault{Kind: "wipe", Target: "bank-db", Params: map[string]string{"restore": "never-taken"}}); err == nil {
		t.Error("restoring a snapshot never taken succeeded")
	}

	// A killed replica stays down through a wipe: its kill's heal brings it back.
	if err := b0.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	run("wipe", nil)
	if pidOf(t, b0) != 0 {
		t.Error("wipe started a replica a kill fault holds down")
	}

	// The broker's data directory.
	state := filepath.Join(e.Dir(), "data", "broker", "state")
	brokerRun := func(kind string, params map[string]string) {
		t.Helper()
		f, _ := chaos.Lookup(kind)
		if _, err := f.Apply(ctx, e, plan.Fault{Kind: kind, Target: "broker", Params: params}); err != nil {
			t.Fatalf("%s broker: %v", kind, err)
		}
	}
	os.WriteFile(state, []byte("v1"), 0o644)
	brokerRun("snapshot", nil)
	os.WriteFile(state, []byte("v2"), 0o644)
	bpid := pidOf(t, node(t, e, "broker"))
	brokerRun("wipe", map[string]string{"restore": "backup"})
	if b, _ := os.ReadFile(state); string(b) != "v1" {
		t.Errorf("broker state after restore: %q", b)
	}
	if p := pidOf(t, node(t, e, "broker")); p == 0 || p == bpid {
		t.Error("broker not restarted by the wipe")
	}
	brokerRun("wipe", nil)
	if b, _ := os.ReadFile(state); string(b) != "fresh" {
		t.Errorf("broker state after a wipe: %q", b)
	}
}

func TestStartFailuresNameTheNodeAndShowItsLog(t *testing.T) {
	for _, tc := range []struct {
		bug    string
		exited bool
		log    string
	}{
		{"never-ready", false, "never ready, as injected"},
		{"crash", true, "boom: crash injected"},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			root := t.TempDir()
			e, err := local.Up(context.Background(), bankPlan(1), testbed.Options{
				Dir: root, Binary: fakeBinary(t), Bugs: []string{tc.bug}, StartTimeout: 700 * time.Millisecond})
			defer e.Down(context.Background())
			var re *testbed.ReadyError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a ReadyError", err)
			}
			if re.Node != "bank/0" || re.Exited != tc.exited || !strings.Contains(re.Tail, tc.log) {
				t.Errorf("ReadyError %+v", re)
			}
			if msg := err.Error(); !strings.Contains(msg, "bank/0") || !strings.Contains(msg, tc.log) || !strings.Contains(msg, "bank-0.log") {
				t.Errorf("message does not name the node and show its log:\n%s", msg)
			}
		})
	}
}

func TestUpRejectsWhatItCannotRun(t *testing.T) {
	img := bankPlan(1)
	img.Topology.Services[0] = plan.Service{Name: "bank", Image: "ghcr.io/acme/bank:1", Replicas: 1}
	svc := bankPlan(1)
	svc.Topology.Links = append(svc.Topology.Links, plan.Link{Name: "bank->orders", From: "bank", To: "orders"})
	for name, p := range map[string]*plan.Plan{"image": img, "service link": svc} {
		e, err := local.Up(context.Background(), p, testbed.Options{Dir: t.TempDir(), Binary: fakeBinary(t)})
		if err == nil {
			t.Errorf("%s: Up succeeded", name)
		}
		if err := e.Down(context.Background()); err != nil {
			t.Errorf("%s: Down after a failed Up: %v", name, err)
		}
	}
}

func TestCleanKillsLeftoversOnly(t *testing.T) {
	e, root := up(t, bankPlan(1), testbed.Options{RunID: "crashed"})
	pids := []int{pidOf(t, node(t, e, "broker")), pidOf(t, node(t, e, "bank/0"))}
	// A process that is not a fixture, listed in a pid file of another run (a recycled
	// pid), even with that run's marker: Clean must leave it alone.
	sleeper := exec.Command("sleep", "30")
	sleeper.Env = append(os.Environ(), "MSCLI_RUN=other")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	other := filepath.Join(root, ".mscli", "runs", "other")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "pids"), fmt.Appendf(nil, "%d broker other\n", sleeper.Process.Pid), 0o644)

	// This test is the run's mscli, alive: a clean leaves its nodes alone.
	var notes []string
	kept, err := local.Clean(context.Background(), testbed.CleanOptions{Root: root, Note: func(l string) { notes = append(notes, l) }})
	if err != nil || len(kept) != 0 {
		t.Fatalf("a clean during the run killed %q (%v)", kept, err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "left run crashed alone") {
		t.Errorf("notes %q, want the live run crashed left alone", notes)
	}
	for _, p := range pids {
		if !alive(p) {
			t.Fatalf("pid %d of the live run is gone", p)
		}
	}
	killed, err := local.Clean(context.Background(), testbed.CleanOptions{Root: root, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(killed) != 2 {
		t.Errorf("killed %q", killed)
	}
	for _, p := range pids {
		eventually(t, fmt.Sprintf("pid %d is gone", p), func() bool { return !alive(p) })
	}
	if !alive(sleeper.Process.Pid) {
		t.Error("Clean killed a process that is not a fixture")
	}
	if again, err := local.Clean(context.Background(), testbed.CleanOptions{Root: root, Force: true}); err != nil || len(again) != 0 {
		t.Errorf("second Clean: %q, %v", again, err)
	}
}
