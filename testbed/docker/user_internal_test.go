package docker

import (
	"reflect"
	"testing"

	"github.com/mscli/mscli/plan"
)

// Replica i of a service reaches replica i mod n of a service it depends on; services
// start after those they depend on; a fixture gets only the bugs it can take.
func TestUserWiring(t *testing.T) {
	pl := &plan.Plan{Topology: plan.Topology{Services: []plan.Service{
		{Name: "api", Image: "api", Replicas: 3, Port: 8080, DependsOn: []string{"cache", "broker", "bank"}},
		{Name: "bank", Fixture: "bank", Replicas: 1},
		{Name: "cache", Image: "cache", Replicas: 2, Port: 6379,
			Bugs: []plan.Bug{{Name: "stale", Breaks: "converges"}}},
		{Name: "quiet", Image: "quiet", Replicas: 1},
		{Name: "worker", Image: "worker", Replicas: 1, DependsOn: []string{"quiet"}},
	}}}
	for _, c := range []struct {
		from string
		i    int
		dep  string
		want string
	}{
		{"api", 0, "cache", "cache-0:6379"}, {"api", 1, "cache", "cache-1:6379"}, {"api", 2, "cache", "cache-0:6379"},
		{"api", 2, "broker", "broker:4222"}, {"api", 1, "bank", "bank-0:8080"},
	} {
		if got, err := upstream(pl, c.from, c.i, c.dep); err != nil || got != c.want {
			t.Errorf("upstream(%s/%d -> %s) = %q, %v; want %q", c.from, c.i, c.dep, got, err, c.want)
		}
	}
	for _, dep := range []string{"quiet", "nope"} {
		if _, err := upstream(pl, "worker", 0, dep); err == nil {
			t.Errorf("upstream to %s: no error", dep)
		}
	}
	want := [][]string{{"bank", "cache", "quiet"}, {"api", "worker"}}
	if got := startOrder(pl.Topology.Services); !reflect.DeepEqual(got, want) {
		t.Errorf("start order %v, want %v", got, want)
	}
	cycle := []plan.Service{{Name: "a", DependsOn: []string{"b"}}, {Name: "b", DependsOn: []string{"a"}}, {Name: "c", DependsOn: []string{"a"}}}
	if got := startOrder(cycle); !reflect.DeepEqual(got, [][]string{{"a"}, {"b", "c"}}) {
		t.Errorf("start order of a cycle: %v", got)
	}
	// This test binary does not link the bank fixture in: it gets every bug no service
	// of the user's declares.
	if got := pl.Topology.BugsFor(pl.Topology.Services[1], []string{"double-apply", "stale"}); !reflect.DeepEqual(got, []string{"double-apply"}) {
		t.Errorf("bank's bugs: %v", got)
	}
	for s, want := range map[int]readiness{
		0: {port: "8080", tcp: true},
		3: {},
	} {
		if got := userReadiness(pl.Topology.Services[s]); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: readiness %+v, want %+v", pl.Topology.Services[s].Name, got, want)
		}
	}
	if got := userReadiness(plan.Service{Image: "x", Port: 80, Ready: plan.Probe{HTTP: "/healthz"}}); !reflect.DeepEqual(got, readiness{port: "80", http: "/healthz"}) {
		t.Errorf("HTTP readiness: %+v", got)
	}
}
