package docker_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/testbed"
	"github.com/mscli/mscli/testbed/docker"
)

// composePlan is a small compose system as scenarios maps one: api (2 replicas, its
// image built from a context, told its database's and cache's addresses by their
// compose names, as a compose file says them); db (2 replicas) and cache, both on
// port 7000 (so each api replica needs two sidecars); nobody depends on mscli's
// broker. cache names db in its environment without depending on it.
func composePlan(image, built, buildDir string) *plan.Plan {
	return &plan.Plan{Scenario: "test", Topology: plan.Topology{Broker: "nats",
		Services: []plan.Service{
			{Name: "api", Image: built, Hostnames: true, Replicas: 2, Port: 8080, Ready: plan.Probe{HTTP: "/healthz"},
				DependsOn: []string{"cache", "db"},
				Env:       map[string]string{"PORT": "8080", "DB_URL": "http://db:7000/", "CACHE_ADDR": "cache:7000", "NOTE": "{{.Port}} stays"},
				Container: &plan.Container{Build: &plan.Build{Context: buildDir, Dockerfile: "api.Dockerfile", Args: map[string]string{"GREETING": "built"}}}},
			{Name: "cache", Image: image, Hostnames: true, Replicas: 1, Port: 7000,
				Env: map[string]string{"PORT": "7000", "PEER": "db:7000"}},
			{Name: "db", Image: image, Hostnames: true, Replicas: 2, Port: 7000, Env: map[string]string{"PORT": "7000"}},
		},
		Links: []plan.Link{
			{Name: "client->api", From: "client", To: "api"},
			{Name: "api->cache", From: "api", To: "cache"},
			{Name: "api->db", From: "api", To: "db"},
			{Name: "client->cache", From: "client", To: "cache"},
			{Name: "client->db", From: "client", To: "db"},
		}}}
}

// A compose system on the docker testbed: each service keeps the configuration its
// compose file gives it, and reaches its dependencies by their compose names and
// ports — through sidecar proxies, one per replica (two when two dependencies share a
// port), replica i of a dependency from replica i of its dependent. Disabling a link
// cuts exactly that path; a dependency's name resolves for its dependents only; the
// image is built from its context; no broker runs; Down removes every container,
// sidecars included.
func TestComposeHostnames(t *testing.T) {
	ctx := context.Background()
	img := userImage(t)
	dir := t.TempDir()
	df := fmt.Sprintf("FROM %s\nARG GREETING\nENV BUILT=$GREETING\n", img)
	if err := os.WriteFile(filepath.Join(dir, "api.Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	built := fmt.Sprintf("mscli-test-compose-api:t%d", time.Now().UnixNano())
	t.Cleanup(func() { exec.Command("docker", "image", "rm", "-f", built).Run() })
	e := up(t, composePlan(img, built, dir))
	t.Logf("topology ready in %s", e.ReadyAfter)

	eps := e.Endpoints("api")
	if len(eps) != 2 {
		t.Fatalf("api endpoints %v", eps)
	}
	for i, ep := range eps {
		// Its configuration as the compose file says it, and its built image's.
		var env map[string]string
		getJSON(t, ep+"/env", &env)
		want := map[string]string{"DB_URL": "http://db:7000/", "CACHE_ADDR": "cache:7000", "NOTE": "{{.Port}} stays", "BUILT": "built",
			"MSCLI_SERVICE": "api", "MSCLI_REPLICA": fmt.Sprint(i)}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("api/%d: %s=%q, want %q", i, k, env[k], v)
			}
		}
		for k := range env {
			if strings.HasSuffix(k, "_ADDR") && k != "CACHE_ADDR" || k == "NATS_URL" || k == "DATABASE_URL" {
				t.Errorf("api/%d was told %s=%s", i, k, env[k])
			}
		}
		// db by its name and port: replica i of db from replica i of api; cache, on
		// the same port, through the second sidecar.
		if d := dial(t, ep, "env=DB_URL&http=/whoami"); !d.Connected || d.Answer != fmt.Sprintf("db/%d", i) {
			t.Errorf("api/%d -> db by its name: %+v", i, d)
		}
		if d := dial(t, ep, "env=CACHE_ADDR&http=/whoami"); !d.Connected || d.Answer != "cache/0" {
			t.Errorf("api/%d -> cache by its name: %+v", i, d)
		}
	}

	// The link api/0->db is api/0's sidecar proxy: disabled, it cuts api/0 off db and
	// nothing else.
	links, err := e.Links("api->db")
	if err != nil || len(links) != 2 || links[0].Name() != "api/0->db" || links[1].Name() != "api/1->db" {
		t.Fatalf("links api->db: %v %v", links, err)
	}
	if err := links[0].SetEnabled(ctx, false); err != nil {
		t.Fatal(err)
	}
	if d := dial(t, eps[0], "env=DB_URL&http=/whoami"); d.Connected {
		t.Errorf("api/0 reaches db through a disabled link: %+v", d)
	}
	if d := dial(t, eps[0], "env=CACHE_ADDR&http=/whoami"); !d.Connected {
		t.Errorf("api/0 lost cache with db: %+v", d)
	}
	if d := dial(t, eps[1], "env=DB_URL&http=/whoami"); !d.Connected {
		t.Errorf("api/1 lost db with api/0's link: %+v", d)
	}
	if err := links[0].SetEnabled(ctx, true); err != nil {
		t.Fatal(err)
	}
	if d := dial(t, eps[0], "env=DB_URL&http=/whoami"); !d.Connected {
		t.Errorf("api/0 -> db once the link is enabled again: %+v", d)
	}
	// A toxic on it slows exactly that path.
	if err := links[1].AddToxic(ctx, "slow", "latency", "downstream", 1, map[string]any{"latency": 400}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if d := dial(t, eps[1], "env=DB_URL&http=/whoami"); !d.Connected || time.Since(began) < 400*time.Millisecond {
		t.Errorf("api/1 -> db with 400ms of latency: %+v in %s", d, time.Since(began))
	}
	if err := links[1].RemoveToxic(ctx, "slow"); err != nil {
		t.Fatal(err)
	}

	// A killed replica comes back with its names leading to the same sidecars.
	api0, err := e.Nodes("api/0")
	if err != nil {
		t.Fatal(err)
	}
	if err := api0[0].Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if err := api0[0].Start(ctx); err != nil {
		t.Fatal(err)
	}
	if d := dial(t, e.Endpoints("api")[0], "env=DB_URL&http=/whoami"); !d.Connected || d.Answer != "db/0" {
		t.Errorf("api/0 after a restart -> db: %+v", d)
	}

	// db's name leads nowhere but through its dependents' sidecars: cache, which
	// names it without depending on it, cannot resolve it, and db's containers
	// carry their replica names only.
	cache := e.Endpoints("cache")
	if d := dial(t, cache[0], "env=PEER&http=/whoami"); d.Connected || !strings.Contains(d.Error, "no such host") {
		t.Errorf("cache reaches db, which it does not depend on: %+v", d)
	}
	aliases := dockerOut(t, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.Aliases}}{{end}}", e.ContainerID("db/0"))
	if !strings.Contains(aliases, "db-0") || slices.Contains(strings.Fields(strings.Trim(aliases, "[]")), "db") {
		t.Errorf("db/0's aliases: %s", aliases)
	}

	// The host reaches db's port directly (what observe.sql.url uses); no broker runs.
	addr := e.HostAddr("db", 7000)
	if !healthy("http://" + addr) {
		t.Errorf("HostAddr(db, 7000) = %q does not answer", addr)
	}
	if e.HostAddr("db", 7001) != "" || e.HostAddr("nothing", 7000) != "" {
		t.Error("HostAddr of a port or node that is not there")
	}
	if _, err := e.Nodes("broker"); err == nil || e.BrokerURL() != "" {
		t.Error("a broker runs in a system where nothing depends on it")
	}

	// Every container of the run — 2 api, 2 db, cache, toxiproxy and 4 sidecars — is
	// gone after Down.
	ps := func() []string {
		return strings.Fields(dockerOut(t, "ps", "-a", "--format", "{{.Names}}", "--filter", "label=mscli.run="+e.RunID()))
	}
	names := ps()
	sidecars := 0
	for _, n := range names {
		if strings.Contains(n, ".toxiproxy") && strings.Contains(n, "-api-") {
			sidecars++
		}
	}
	if len(names) != 10 || sidecars != 4 {
		t.Errorf("containers of the run: %v", names)
	}
	if err := e.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if left := ps(); len(left) != 0 {
		t.Errorf("left after Down: %v", left)
	}
}

// A service whose image is built from a context that does not build fails the run
// before anything starts, naming the service and the context.
func TestComposeBuildFails(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY missing /missing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pl := &plan.Plan{Scenario: "test", Topology: plan.Topology{Broker: "nats", Services: []plan.Service{
		{Name: "api", Image: fmt.Sprintf("mscli-test-compose-broken:t%d", time.Now().UnixNano()), Hostnames: true, Replicas: 1, Port: 8080,
			Container: &plan.Container{Build: &plan.Build{Context: dir}}}}}}
	id := fmt.Sprintf("t%d", time.Now().UnixNano())
	e, err := docker.Up(context.Background(), pl, testbed.Options{RunID: id, Dir: t.TempDir(), Binary: bin})
	if e != nil {
		e.Down(context.Background())
	}
	if err == nil || !strings.Contains(err.Error(), "service api: build") || !strings.Contains(err.Error(), dir) {
		t.Errorf("Up: %v", err)
	}
	assertNoLeftovers(t, id)
}
