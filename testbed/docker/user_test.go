package docker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/testbed"
	"github.com/mscli/mscli/testbed/docker"
)

// userImage builds testdata/userapp, static, into an image FROM scratch through the
// engine's API (no registry), removed when the test ends. Its EXPOSE is a port no
// service uses: a replica must never publish it on 0.0.0.0.
func userImage(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "userapp")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = filepath.Join("testdata", "userapp")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build testdata/userapp: %v\n%s", err, b)
	}
	exe, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	ref := fmt.Sprintf("mscli-test-userapp:t%d", time.Now().UnixNano())
	df := "FROM scratch\nCOPY userapp /userapp\nEXPOSE 9999\nENTRYPOINT [\"/userapp\"]\n"
	if err := docker.BuildImage(context.Background(), ref, df, map[string][]byte{"userapp": exe}); err != nil {
		t.Fatalf("build %s: %v", ref, err)
	}
	t.Cleanup(func() { exec.Command("docker", "image", "rm", "-f", ref).Run() })
	return ref
}

// userPlan: orders (2 replicas on port 8080, ready on /healthz, depends on the broker,
// its own PostgreSQL, a template and a bug in its env); cache (a port, no probe: TCP,
// and slow to listen); audit (no port, depends on orders).
func userPlan(image string) *plan.Plan {
	return &plan.Plan{Scenario: "test", Topology: plan.Topology{Broker: "nats",
		Services: []plan.Service{
			{Name: "audit", Image: image, Replicas: 1, DependsOn: []string{"orders"},
				Env: map[string]string{"WATCH_ADDR": `{{.Addr "orders"}}`}},
			{Name: "cache", Image: image, Replicas: 1, Port: 7000, Env: map[string]string{"USERAPP_DELAY": "1500ms"}},
			{Name: "orders", Image: image, Replicas: 2, Port: 8080, Ready: plan.Probe{HTTP: "/healthz"},
				DependsOn: []string{"broker"}, Database: "postgres",
				Env:  map[string]string{"BROKER_FROM_TEMPLATE": `{{.Addr "broker"}}`, "GREETING": "replica {{.Replica}}"},
				Bugs: []plan.Bug{{Name: "loud", Breaks: "durable", Env: map[string]string{"USERAPP_LOUD": "on"}}}},
		},
		Links: []plan.Link{
			{Name: "audit->orders", From: "audit", To: "orders"},
			{Name: "client->cache", From: "client", To: "cache"},
			{Name: "client->orders", From: "client", To: "orders"},
			{Name: "orders->broker", From: "orders", To: "broker"},
			{Name: "orders->orders-db", From: "orders", To: "orders-db"},
		}}}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

type dialed struct {
	Connected bool   `json:"connected"`
	Answer    string `json:"answer"`
	Error     string `json:"error"`
}

func dial(t *testing.T, base, query string) dialed {
	t.Helper()
	var d dialed
	getJSON(t, base+"/dial?"+query, &d)
	return d
}

func healthy(url string) bool {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(url + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func dockerOut(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Services of the user's own run from their image: told their port, replica, the
// broker's and their database's addresses through toxiproxy, their templates and the
// bug switched on; reached through their client proxies; cut off by their links;
// killed, restarted, and restarted around a wipe of their database; a service without
// a port has no client link; nothing is published beyond 127.0.0.1; Down leaves
// nothing of the run.
func TestUserService(t *testing.T) {
	ctx := context.Background()
	img := userImage(t)
	e := up(t, userPlan(img), "loud")
	t.Logf("topology ready in %s", e.ReadyAfter)

	// Ready: cache listens 1.5s after it starts, and a TCP probe through the engine's
	// port proxy must not take the proxy for the service.
	if u := e.ObserveURLs("cache"); len(u) != 1 || !healthy(u[0]) {
		t.Errorf("cache, probed over TCP, does not answer once Up returned: %v", u)
	}
	eps, direct := e.Endpoints("orders"), e.ObserveURLs("orders")
	if len(eps) != 2 || len(direct) != 2 {
		t.Fatalf("orders: endpoints %v, observe %v", eps, direct)
	}
	for _, u := range direct {
		if !healthy(u) {
			t.Errorf("%s/healthz does not answer", u)
		}
	}

	// What each replica was told, read through its client proxy.
	proxied := regexp.MustCompile(`^toxiproxy:\d+$`)
	dbURL := regexp.MustCompile(`^postgres://orders:[0-9a-f]{24}@toxiproxy:\d+/orders\?sslmode=disable$`) // the password is random per run
	brokerAddrs := map[string]bool{}
	for i, ep := range eps {
		var env map[string]string
		getJSON(t, ep+"/env", &env)
		want := map[string]string{"PORT": "8080", "MSCLI_SERVICE": "orders", "MSCLI_REPLICA": fmt.Sprint(i),
			"NATS_URL": "nats://" + env["BROKER_ADDR"], "BROKER_FROM_TEMPLATE": env["BROKER_ADDR"],
			"GREETING": fmt.Sprintf("replica %d", i), "USERAPP_LOUD": "on"}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("orders/%d: %s=%q, want %q", i, k, env[k], v)
			}
		}
		if !proxied.MatchString(env["BROKER_ADDR"]) || !dbURL.MatchString(env["DATABASE_URL"]) {
			t.Errorf("orders/%d: BROKER_ADDR=%q DATABASE_URL=%q: want toxiproxy's", i, env["BROKER_ADDR"], env["DATABASE_URL"])
		}
		brokerAddrs[env["BROKER_ADDR"]] = true
		if d := dial(t, ep, "env=BROKER_ADDR"); !d.Connected || !strings.HasPrefix(d.Answer, "INFO") {
			t.Errorf("orders/%d: the broker through its proxy: %+v", i, d)
		}
		if d := dial(t, ep, "env=DATABASE_URL&pg=1"); !d.Connected || (d.Answer != "N" && d.Answer != "S") {
			t.Errorf("orders/%d: PostgreSQL through its proxy: %+v", i, d)
		}
	}
	if len(brokerAddrs) != 2 {
		t.Errorf("the replicas share a broker proxy: %v", brokerAddrs)
	}

	// Cutting orders->broker cuts the broker off both replicas, and only that.
	links, err := e.Links("orders->broker")
	if err != nil || len(links) != 2 || links[0].Name() != "orders/0->broker" {
		t.Fatalf("links orders->broker: %v %v", links, err)
	}
	for _, l := range links {
		if err := l.SetEnabled(ctx, false); err != nil {
			t.Fatal(err)
		}
	}
	for i, ep := range eps {
		if d := dial(t, ep, "env=BROKER_ADDR"); d.Connected {
			t.Errorf("orders/%d reaches the broker through a disabled proxy: %+v", i, d)
		}
		if d := dial(t, ep, "env=DATABASE_URL&pg=1"); !d.Connected {
			t.Errorf("orders/%d lost its database with the broker: %+v", i, d)
		}
	}
	for _, l := range links {
		if err := l.SetEnabled(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	if d := dial(t, eps[0], "env=BROKER_ADDR"); !d.Connected {
		t.Errorf("the broker after the proxy is enabled again: %+v", d)
	}

	// audit: no port, so no client link and nothing to observe; it reaches orders
	// through its own proxy.
	if eps, obs := e.Endpoints("audit"), e.ObserveURLs("audit"); len(eps) != 0 || len(obs) != 0 {
		t.Errorf("audit has no port, yet endpoints %v, observe %v", eps, obs)
	}
	if _, err := e.Links("client->audit"); err == nil {
		t.Error("a client link to audit, which has no port")
	}
	if l, err := e.Links("audit->orders"); err != nil || len(l) != 1 || l[0].Name() != "audit/0->orders" {
		t.Errorf("links audit->orders: %v %v", l, err)
	}
	audit := e.ContainerID("audit/0")
	eventually(t, 10*time.Second, "audit reaches orders through its proxy", func() bool {
		return strings.Contains(dockerOut(t, "logs", audit), ": 200 OK")
	})
	// Nothing published beyond 127.0.0.1: not audit's image's EXPOSE, not orders'.
	for _, node := range []string{"audit/0", "orders/0", "cache/0"} {
		for _, line := range strings.Split(dockerOut(t, "port", e.ContainerID(node)), "\n") {
			if line != "" && !strings.Contains(line, "-> 127.0.0.1:") {
				t.Errorf("%s publishes %s", node, line)
			}
		}
	}

	// Kill and restart a replica of the user's.
	nodes, err := e.Nodes("orders/0")
	if err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if healthy(direct[0]) {
		t.Error("a killed replica answered")
	}
	if err := nodes[0].Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !healthy(e.ObserveURLs("orders")[0]) {
		t.Error("the restarted replica does not answer")
	}

	// Data faults on orders-db restart its replicas around the wipe.
	started := func(node string) string {
		return dockerOut(t, "inspect", "-f", "{{.State.StartedAt}}", e.ContainerID(node))
	}
	before := []string{started("orders/0"), started("orders/1")}
	db, err := e.Nodes("orders-db")
	if err != nil {
		t.Fatal(err)
	}
	dn := db[0].(interface {
		Snapshot(context.Context, string) error
		Wipe(context.Context, string) error
	})
	if err := dn.Snapshot(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if err := dn.Wipe(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	for i, u := range e.ObserveURLs("orders") {
		if s := started(plan.ReplicaNode("orders", i)); s == before[i] {
			t.Errorf("orders/%d was not restarted around the wipe", i)
		}
		if d := dial(t, u, "env=DATABASE_URL&pg=1"); !d.Connected {
			t.Errorf("orders/%d: the restored database: %+v", i, d)
		}
	}

	if err := e.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if left := dockerOut(t, "ps", "-aq", "--filter", "label=mscli.run="+e.RunID()); left != "" {
		t.Errorf("containers left after Down: %s", left)
	}
}

// The docker testbed refuses, before starting anything, a service it cannot run: one
// with a command only, or whose image the engine lacks (it never pulls).
func TestUserServiceRefused(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		svc  plan.Service
		want []string
	}{
		{plan.Service{Name: "orders", Command: []string{"./orders"}, Replicas: 1},
			[]string{"service orders has no image: (it has command: only, which the local testbed runs)"}},
		{plan.Service{Name: "orders", Image: "mscli-test-absent:none", Port: 8080, Replicas: 1},
			[]string{"image mscli-test-absent:none is missing", "service orders", "docker build -t mscli-test-absent:none ."}},
	} {
		id := fmt.Sprintf("t%d", time.Now().UnixNano())
		pl := &plan.Plan{Scenario: "test", Topology: plan.Topology{Broker: "nats", Services: []plan.Service{c.svc}}}
		e, err := docker.Up(ctx, pl, testbed.Options{RunID: id, Dir: t.TempDir(), Binary: bin})
		if e != nil {
			e.Down(ctx)
		}
		if err == nil {
			t.Errorf("%+v: Up succeeded", c.svc)
			continue
		}
		t.Logf("refused: %v", err)
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %v; want %q in it", c.svc, err, w)
			}
		}
		var missing *docker.MissingImageError
		if c.svc.Image != "" && !errors.As(err, &missing) {
			t.Errorf("%v: not a MissingImageError", err)
		}
		if c.svc.Image != "" {
			// `mscli images <scenario>` lists it, missing, with how to build it.
			needs, err := docker.Needs(ctx, pl, docker.NeedsOptions{Mscli: "mscli:test"})
			if err != nil || len(needs) != 2 || needs[1].Ref != c.svc.Image || needs[1].Present ||
				needs[1].Build != "docker build -t mscli-test-absent:none ." {
				t.Errorf("needs: %+v, %v", needs, err)
			}
		}
		assertNoLeftovers(t, id)
	}
}
