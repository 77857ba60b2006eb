package scenarios

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mscli/mscli/plan"
)

func serviceNamed(t *testing.T, s *Scenario, name string) plan.Service {
	t.Helper()
	for _, svc := range s.System.Services {
		if svc.Name == name {
			return svc
		}
	}
	t.Fatalf("no service %s", name)
	return plan.Service{}
}

// A compose file's services become the system's: images (or one built from build:),
// env as written, ports from ports: targets, expose: and what dependents name,
// dependencies from depends_on and from hosts named in the environment; the scenario
// adds ready, replicas, observe and bugs to one of them, and a service of its own.
func TestComposeMapping(t *testing.T) {
	s, err := Load("testdata/good-compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, svc := range s.System.Services {
		names = append(names, svc.Name)
	}
	if want := []string{"api", "cache", "checker", "db", "worker"}; !slices.Equal(names, want) {
		t.Fatalf("services %v, want %v", names, want)
	}

	api := serviceNamed(t, s, "api")
	ctx, _ := filepath.Abs("testdata/compose/api")
	want := plan.Service{Name: "api", Image: "mscli-compose-shop-api:latest", Hostnames: true,
		Env: map[string]string{
			"DATABASE_URL": "postgres://shop:secret@db:5432/shop?sslmode=disable", "CACHE_ADDR": "cache:6379",
			"LEGACY_DB": "mydb:5432", "ARCHIVE": "postgres://u:p@mydb.internal/x", "GREETING": "hello {{.Port}}"},
		Port: 80, Ports: []int{80, 9090}, Ready: plan.Probe{HTTP: "/readyz"},
		DependsOn: []string{"cache", "db"}, Replicas: 2,
		Observe: plan.Observe{SQL: &plan.SQLObserve{URL: "postgres://shop:secret@db:5432/shop?sslmode=disable",
			Effects: "SELECT 'write' AS view, 'order' AS kind, customer AS key, id, amount FROM orders"}},
		Bugs:      []plan.Bug{{Name: "no-dedup", Breaks: "idempotent", Env: map[string]string{"SHOP_DEDUP": "off"}}},
		Container: &plan.Container{Build: &plan.Build{Context: ctx, Dockerfile: "Dockerfile"}},
	}
	if !reflect.DeepEqual(api, want) {
		t.Errorf("api:\n got %+v\nwant %+v", api, want)
	}
	// cache listens on no port the file gives: its dependent names 6379.
	if c := serviceNamed(t, s, "cache"); c.Port != 6379 || c.Ports != nil || !c.Hostnames || c.Image != "redis:7" {
		t.Errorf("cache: %+v", c)
	}
	if db := serviceNamed(t, s, "db"); db.Port != 5432 || db.Ready != (plan.Probe{}) || db.Env["POSTGRES_USER"] != "api" || db.DependsOn != nil {
		t.Errorf("db (pg_isready is no probe mscli runs: TCP on 5432): %+v", db)
	}
	w := serviceNamed(t, s, "worker")
	if w.Replicas != 3 || w.Port != 0 || !slices.Equal(w.DependsOn, []string{"api", "db"}) ||
		!reflect.DeepEqual(w.Container, &plan.Container{Entrypoint: []string{"/bin/worker"}, Cmd: []string{"--queue", "jobs"}}) {
		t.Errorf("worker: %+v %+v", w, w.Container)
	}
	if c := serviceNamed(t, s, "checker"); c.Hostnames || c.Image != "shop-checker:1" {
		t.Errorf("the scenario's own service: %+v", c)
	}

	// Nothing depends on mscli's broker: it is no target, and a run starts none.
	top := s.Topology()
	if top.NeedsBroker() {
		t.Error("the compose system needs mscli's broker")
	}
	if _, ok := s.targets().role[plan.TargetNode][plan.BrokerNode]; ok {
		t.Error("broker is a target of a system without one")
	}
	var links []string
	for _, l := range top.Links {
		links = append(links, l.Name)
	}
	for _, l := range []string{"client->api", "api->db", "api->cache", "worker->api", "worker->db", "checker->db"} {
		if !slices.Contains(links, l) {
			t.Errorf("no link %s in %v", l, links)
		}
	}

	// The healthcheck, when the scenario gives no ready: an HTTP request to the
	// service's own port is that probe.
	s2, err := Parse("testdata/inline.yaml", []byte("name: x\nduration: 10s\nsystem: {compose: compose/docker-compose.yml}\nworkload: {kind: http, service: api, operations: [{name: o, path: /o}]}\ninvariants: [durable]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a := serviceNamed(t, s2, "api"); a.Ready != (plan.Probe{HTTP: "/healthz"}) || a.Replicas != 1 || a.Observe.Observed() {
		t.Errorf("api without the scenario's additions: %+v", a)
	}
}

func TestHostsIn(t *testing.T) {
	for _, c := range []struct {
		key, in string
		want    []hostRef
	}{
		{"DB_HOST", "db", []hostRef{{"db", 0}}},
		{"POSTGRES_USER", "orders", nil},
		{"KAFKA_BROKERS", "k1,k2:9093", []hostRef{{"k1", 0}, {"k2", 9093}}},
		{"", "db:5432", []hostRef{{"db", 5432}}},
		{"", "nats://nats:4222", []hostRef{{"nats", 4222}}},
		{"", "postgres://u:p@db/x?sslmode=disable", []hostRef{{"db", 5432}}},
		{"", "http://api:8080/", []hostRef{{"api", 8080}}},
		{"", "jdbc:postgresql://DB:5433/x", []hostRef{{"db", 5433}}},
		{"", "nats://a:4222,nats://b:4223", []hostRef{{"a", 4222}, {"b", 4223}}},
		{"", "kafka-0:9092, kafka-1:9092", []hostRef{{"kafka-0", 9092}, {"kafka-1", 9092}}},
		{"", "root@cache:22", []hostRef{{"cache", 22}}},
		{"", "mydb:5432", []hostRef{{"mydb", 5432}}},
		{"", "db/data", nil},
		{"", "a=b", nil},
		{"", "db:notaport", nil},
		{"GREETING", "hello world", nil},
	} {
		if c.key == "" {
			c.key = "X"
		}
		if got := hostsIn(c.key, c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("hostsIn(%s=%q) = %v, want %v", c.key, c.in, got, c.want)
		}
	}
}

// What mscli cannot honour is refused at its place in the compose file; what the
// scenario may not say of a compose service, at its place in the scenario.
func TestComposeErrors(t *testing.T) {
	const bad = "testdata/compose-bad/docker-compose.yml:"
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"compose file problems", "name: x\nduration: 20s\nsystem:\n  compose: compose-bad/docker-compose.yml\n  services:\n    app: {image: other:1, replicas: 2, env: {A: b}}\ninvariants: [durable]\n", []string{
			"6:11: image: service app comes from the compose file, which says how it runs; here give only ready, replicas, observe, bugs and secrets",
			"6:40: env: service app comes from the compose file",
			bad + "4:5: compose service web: network_mode: host: mscli runs every service on the run's own network",
			bad + "8:9: compose service files: volumes: /etc/conf (bind): mscli mounts nothing of the host",
			bad + "10:9: compose service files: ports: 53/udp: mscli's links carry TCP only",
			bad + "15:9: compose service app: depends_on: migrate: condition service_completed_successfully",
			bad + "16:7: compose service app: it depends on quiet, which listens on no port mscli knows of",
			bad + "23:3: compose service my_svc: mscli names nodes and links after services",
		}},
		{"variables from the shell", "name: x\nduration: 20s\nsystem: {compose: compose-vars/docker-compose.yml}\nworkload: {kind: http, service: app, operations: [{name: o, path: /o}]}\ninvariants: [durable]\n",
			[]string{"3:19: compose file testdata/compose-vars/docker-compose.yml: it uses GITHUB_TOKEN, HOME, which the .env beside it does not define"}},
		{"beyond its folder", "name: x\nduration: 20s\nsystem: {compose: compose-unsafe/docker-compose.yml}\nworkload: {kind: http, service: app, operations: [{name: o, path: /o}]}\ninvariants: [durable]\n", []string{
			"testdata/compose-unsafe/docker-compose.yml:4:5: compose service app: build.context",
			"testdata/compose-unsafe/docker-compose.yml:5:5: compose service app: environment: SECRET_TOKEN has no value",
			"testdata/compose-unsafe/docker-compose.yml:7:5: compose service app: env_file:",
		}},
		{"no such file", "name: x\nduration: 20s\nsystem: {compose: nope.yml, services: {app: {replicas: 2}}}\ninvariants: [durable]\n",
			[]string{"3:19: compose file testdata/nope.yml: no such file or directory"}},
		{"not a compose file", "name: x\nduration: 20s\nsystem: {compose: good-minimal.yaml}\ninvariants: [durable]\n",
			[]string{"3:19: compose file testdata/good-minimal.yaml:"}},
		{"sql url", "name: x\nduration: 20s\nsystem:\n  compose: compose/docker-compose.yml\n  services:\n    api:\n      observe: {sql: {url: 'postgres://u:p@db:5433/x', effects: SELECT 1}}\n    worker:\n      observe: {sql: {url: 'postgres://u:p@dbb/x', effects: SELECT 1}}\ninvariants: [durable]\nworkload: {kind: http, service: api, operations: [{name: o, path: /o}]}\n", []string{
			"7:28: db listens on no port 5433 (its ports: 5432)",
			`9:28: url names "dbb", no node of this system; did you mean "db"?`,
		}},
		{"faults on the broker nothing runs", "name: x\nduration: 20s\nsystem: {compose: compose/docker-compose.yml}\nworkload: {kind: http, service: api, operations: [{name: o, path: /o}]}\nfaults: [{at: 1s, fault: kill, node: broker}]\ninvariants: [durable]\n",
			[]string{`5:38: unknown node "broker"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("testdata/scenario.yaml", []byte(c.in))
			if err == nil {
				t.Fatal("accepted")
			}
			got := strings.Split(err.Error(), "\n")
			if len(got) != len(c.want) {
				t.Fatalf("%d problems, want %d:\n%v", len(got), len(c.want), err)
			}
			for i, w := range c.want {
				if !strings.HasPrefix(w, "testdata/") {
					w = "testdata/scenario.yaml:" + w
				}
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("problem %d:\n got %s\nwant %s…", i, got[i], w)
				}
			}
		})
	}
}

// Only the docker testbed runs a compose file's services: a run on the local testbed
// is refused before anything starts, at the service.
func TestComposeTestbeds(t *testing.T) {
	s, err := Load("testdata/good-compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckTestbed(plan.TestbedDocker); err != nil {
		t.Errorf("docker: %v", err)
	}
	err = s.CheckTestbed(plan.TestbedLocal)
	if err == nil || !strings.Contains(err.Error(), "testdata/good-compose.yaml:9:7: service api comes from a compose file") ||
		!strings.Contains(err.Error(), "use --testbed docker") {
		t.Errorf("local: %v", err)
	}
	pl, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPlanTestbed(pl, plan.TestbedLocal); err == nil || !strings.Contains(err.Error(), "service worker comes from a compose file") {
		t.Errorf("local, the plan: %v", err)
	}
}

// observe.sql.url reads one database: a service of several replicas is several.
func TestComposeSQLURLNamesOneDatabase(t *testing.T) {
	const y = "name: x\nduration: 20s\nsystem:\n  compose: compose/docker-compose.yml\n  services:\n    db: {replicas: 2}\n    api:\n      observe: {sql: {url: 'postgres://u:p@db:5432/x', effects: SELECT 1}}\n" +
		"invariants: [durable]\nworkload: {kind: http, service: api, operations: [{name: o, path: /o}]}\n"
	_, err := Parse("testdata/scenario.yaml", []byte(y))
	if err == nil || !strings.Contains(err.Error(), "db runs 2 replicas, each a database of its own") {
		t.Fatalf("got %v", err)
	}
}
