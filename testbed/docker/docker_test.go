package docker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mscli/mscli/internal/testbin"
	"github.com/mscli/mscli/internal/testkit"
	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/fixtures/images"
	"github.com/mscli/mscli/testbed"
	"github.com/mscli/mscli/testbed/docker"
)

// These tests start real containers. Without an engine they skip, except under
// CI=true, where a missing engine is a failure. They build the images they need: the
// mscli image from the binary, and the offline PostgreSQL image when no PostgreSQL
// image is present.
var bin string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		ctx := context.Background()
		if _, err := docker.Ping(ctx, 5*time.Second); err != nil {
			if os.Getenv("CI") == "true" {
				fmt.Fprintf(os.Stderr, "docker tests under CI=true need an engine: %v\n", err)
				return 1
			}
			fmt.Fprintf(os.Stderr, "skipping the docker tests: %v\n", err)
			return 0
		}
		defer testbin.Cleanup()
		var err error
		if bin, err = testbin.Path(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if _, err := docker.BuildMscliImage(ctx, bin, images.MscliImage("test"), "test", nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if _, err := docker.Needs(ctx, nil, docker.NeedsOptions{}); err == nil {
			pg, _ := docker.InspectImage(ctx, images.OfflinePostgres)
			off, _ := docker.InspectImage(ctx, images.OfficialPostgres)
			if !pg.Present && !off.Present {
				fmt.Fprintln(os.Stderr, "building the offline PostgreSQL image (about a minute)")
				if _, err := docker.BuildPostgresImage(ctx, docker.PostgresBuild{Version: "test"}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
			}
		}
		return m.Run()
	}())
}

func bankPlan(db string) *plan.Plan {
	links := []plan.Link{
		{Name: "client->bank", From: "client", To: "bank"},
		{Name: "bank->broker", From: "bank", To: "broker"},
	}
	if db == "postgres" {
		links = append(links, plan.Link{Name: "bank->bank-db", From: "bank", To: "bank-db"})
	}
	return &plan.Plan{Scenario: "test", Topology: plan.Topology{Broker: "nats",
		Services: []plan.Service{{Name: "bank", Fixture: "bank", Replicas: 2, Database: db}}, Links: links}}
}

// up brings a plan up with the known bugs given switched on, and brings it down when
// the test ends, asserting that nothing of the run is left.
func up(t testing.TB, pl *plan.Plan, bugs ...string) *docker.Env {
	t.Helper()
	id := fmt.Sprintf("t%d", time.Now().UnixNano())
	e, err := docker.Up(context.Background(), pl, testbed.Options{RunID: id, Dir: t.TempDir(), Binary: bin, Bugs: bugs,
		Progress: func(e testbed.Event) { t.Log(e.Msg) }, StartTimeout: 60 * time.Second})
	t.Cleanup(func() {
		if e != nil {
			if err := e.Down(context.Background()); err != nil {
				t.Errorf("down: %v", err)
			}
		}
		assertNoLeftovers(t, id)
	})
	if err != nil {
		t.Fatal(err)
	}
	assertConfined(t, id)
	return e
}

// assertConfined fails a run any of whose containers is privileged, shares the host's
// network, PID or IPC namespace, mounts the Docker socket or publishes a port beyond
// 127.0.0.1: the system under test is untrusted, and so is what reaches its ports.
func assertConfined(t testing.TB, run string) {
	t.Helper()
	ids, err := exec.Command("docker", "ps", "-q", "--filter", "label=mscli.run="+run).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	if len(strings.Fields(string(ids))) == 0 {
		t.Fatalf("no container of run %s is running", run)
	}
	out, err := exec.Command("docker", append([]string{"inspect"}, strings.Fields(string(ids))...)...).Output()
	if err != nil {
		t.Fatalf("docker inspect: %v", err)
	}
	var cs []struct {
		Name       string
		HostConfig struct {
			Privileged                             bool
			NetworkMode, PidMode, IpcMode, UTSMode string
			UsernsMode, CgroupnsMode               string
			CapAdd, SecurityOpt                    []string
			Devices                                []struct{ PathOnHost string }
			PortBindings                           map[string][]struct{ HostIp string }
		}
		Mounts []struct {
			Type, Source, Destination string
		}
		NetworkSettings struct {
			Ports map[string][]struct{ HostIp string }
		}
	}
	if err := json.Unmarshal(out, &cs); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		h := c.HostConfig
		if h.Privileged || len(h.CapAdd) > 0 || len(h.Devices) > 0 {
			t.Errorf("%s: privileged %v, added capabilities %v, devices %v", c.Name, h.Privileged, h.CapAdd, h.Devices)
		}
		// (The cgroup namespace is the engine's default, "host" on cgroup v1.)
		for _, mode := range []string{h.NetworkMode, h.PidMode, h.IpcMode, h.UTSMode, h.UsernsMode} {
			if mode == "host" {
				t.Errorf("%s shares a namespace with the host: network %q, pid %q, ipc %q, uts %q, userns %q",
					c.Name, h.NetworkMode, h.PidMode, h.IpcMode, h.UTSMode, h.UsernsMode)
				break
			}
		}
		for _, o := range h.SecurityOpt {
			if strings.Contains(o, "unconfined") {
				t.Errorf("%s runs with %s", c.Name, o)
			}
		}
		for _, m := range c.Mounts {
			// Volumes only: a bind mount of the host (its Docker socket, /var/run) is a
			// way out of the container.
			if m.Type == "bind" || strings.HasSuffix(m.Source, "docker.sock") {
				t.Errorf("%s mounts %s from the host at %s", c.Name, m.Source, m.Destination)
			}
		}
		for _, ports := range []map[string][]struct{ HostIp string }{h.PortBindings, c.NetworkSettings.Ports} {
			for port, bs := range ports {
				for _, b := range bs {
					if b.HostIp != "127.0.0.1" {
						t.Errorf("%s publishes %s on %q, want 127.0.0.1 only", c.Name, port, b.HostIp)
					}
				}
			}
		}
	}
}

func assertNoLeftovers(t testing.TB, run string) {
	t.Helper()
	for _, kind := range []string{"container ls -a", "network ls", "volume ls"} {
		args := append(strings.Fields(kind), "-q", "--filter", "label=mscli.run="+run)
		out, err := exec.Command("docker", args...).Output()
		if err != nil {
			t.Errorf("docker %s: %v", kind, err)
			continue
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("left behind (%s): %s", kind, s)
		}
	}
}

func put(base, op string, amount int) (int, error) {
	req, _ := http.NewRequest(http.MethodPut, base+"/accounts/acct-1/deposits/"+op, strings.NewReader(fmt.Sprintf(`{"amount":%d}`, amount)))
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// The bank with PostgreSQL, every node a container, every link through toxiproxy: it
// serves through its proxies; a partition refuses; kill and restart, pause and resume,
// snapshot, wipe and restore act on the containers; Down leaves nothing labelled.
func TestBankOnPostgres(t *testing.T) {
	ctx := context.Background()
	e := up(t, bankPlan("postgres"))
	t.Logf("topology ready in %s", e.ReadyAfter)
	eps := e.Endpoints("bank")
	if len(eps) != 2 || len(e.ObserveURLs("bank")) != 2 {
		t.Fatalf("endpoints %v, observe %v", eps, e.ObserveURLs("bank"))
	}
	for i, ep := range eps {
		if code, err := put(ep, fmt.Sprintf("d-%d", i), 10); err != nil || code != http.StatusAccepted {
			t.Fatalf("PUT through %s: %d %v", ep, code, err)
		}
	}
	links, err := e.Links("client->bank/0")
	if err != nil || len(links) != 1 {
		t.Fatalf("links: %v %v", links, err)
	}
	if err := links[0].SetEnabled(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := put(eps[0], "cut", 1); err == nil {
		t.Error("PUT through a disabled proxy succeeded")
	}
	if err := links[0].SetEnabled(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := links[0].AddToxic(ctx, "slow", "latency", "downstream", 1, map[string]any{"latency": 300}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if code, err := put(eps[0], "slow", 1); err != nil || code != http.StatusAccepted || time.Since(began) < 300*time.Millisecond {
		t.Errorf("PUT with 300ms latency: %d %v in %s", code, err, time.Since(began))
	}
	if err := links[0].RemoveToxic(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	nodes, err := e.Nodes("bank/0")
	if err != nil {
		t.Fatal(err)
	}
	direct := e.ObserveURLs("bank")[0]
	if err := nodes[0].Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := put(direct, "dead", 1); err == nil {
		t.Error("a killed replica answered")
	}
	if err := nodes[0].Start(ctx); err != nil {
		t.Fatal(err)
	}
	broker, _ := e.Nodes("broker")
	if err := broker[0].Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if err := broker[0].Resume(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := e.Nodes("bank-db")
	if err != nil {
		t.Fatal(err)
	}
	dn, ok := db[0].(interface {
		Snapshot(context.Context, string) error
		Wipe(context.Context, string) error
	})
	if !ok {
		t.Fatal("bank-db has no data faults")
	}
	if err := dn.Snapshot(ctx, "early"); err != nil {
		t.Fatal(err)
	}
	if code, err := put(eps[1], "after-snapshot", 5); err != nil || code != http.StatusAccepted {
		t.Fatalf("PUT: %d %v", code, err)
	}
	// Where the engine cannot freeze the container, the snapshot is taken of the
	// stopped database, which is started again: the bank goes on.
	e.BreakFreezer()
	if err := dn.Snapshot(ctx, "stopped"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(e.SnapshotFile("bank", "stopped")); err != nil || fi.Size() == 0 {
		t.Fatalf("snapshot taken with the database stopped: %v", err)
	}
	eventually(t, 20*time.Second, "the bank serves again after the stopped snapshot", func() bool {
		code, err := put(eps[0], "after-stopped", 1)
		return err == nil && code == http.StatusAccepted
	})
	time.Sleep(time.Second)
	if err := dn.Wipe(ctx, "early"); err != nil {
		t.Fatal(err)
	}
	// The bank replayed its events: what the snapshot lacked is back.
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(e.ObserveURLs("bank")[0] + "/operations/after-snapshot")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after-snapshot lost after the restore: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// BenchmarkReadyTopology measures the time from nothing to a ready topology — broker,
// PostgreSQL, toxiproxy and two bank replicas — with the images present. Beside it, in
// the same iterations, the engine's floor: five bare containers, one per node, started
// together (EngineFloor), which no work of mscli's can go under; ready÷floor is what
// mscli adds, a figure that carries from one machine to another.
func BenchmarkReadyTopology(b *testing.B) {
	const nodes = 5 // broker, PostgreSQL, toxiproxy, two replicas
	var total, pg, floor time.Duration
	for i := range b.N {
		id := fmt.Sprintf("b%d", time.Now().UnixNano())
		began := time.Now()
		var pgReady atomic.Int64
		progress := func(ev testbed.Event) {
			if ev.Node == plan.DatabaseNode("bank") && ev.State == testbed.NodeReady {
				pgReady.CompareAndSwap(0, int64(time.Since(began)))
			}
		}
		e, err := docker.Up(context.Background(), bankPlan("postgres"), testbed.Options{RunID: id, Dir: b.TempDir(), Binary: bin,
			StartTimeout: 60 * time.Second, Progress: progress})
		if err != nil {
			if e != nil {
				e.Down(context.Background())
			}
			b.Fatal(err)
		}
		total += e.ReadyAfter
		if pgReady.Load() == 0 {
			b.Fatal("the PostgreSQL node never reported ready")
		}
		pg += time.Duration(pgReady.Load())
		if err := e.Down(context.Background()); err != nil {
			b.Fatal(err)
		}
		f, err := docker.EngineFloor(context.Background(), fmt.Sprintf("%s-floor%d", id, i), images.MscliImage("test"), nodes)
		if err != nil {
			b.Fatal(err)
		}
		floor += f
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-to-ready")
	b.ReportMetric(pg.Seconds()/float64(b.N), "s-postgres-ready")
	b.ReportMetric(floor.Seconds()/float64(b.N), "s-engine-floor")
	b.ReportMetric(total.Seconds()/floor.Seconds(), "ready/floor")
	b.ReportMetric(0, "ns/op")
}

func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, d, 100*time.Millisecond, what, cond)
}
