package plan

import (
	"slices"
	"testing"
)

// A compose service's environment is its own, literal, and it is told no port: its
// configuration is the compose file's.
func TestEnvironHostnames(t *testing.T) {
	s := Service{Name: "orders", Hostnames: true, Port: 8080,
		Env:  map[string]string{"DATABASE_URL": "postgres://u:p@db:5432/x", "NOTE": "{{.Port}}"},
		Bugs: []Bug{{Name: "no-dedup", Env: map[string]string{"ORDERS_DEDUP": "off"}}}}
	env, err := s.Environ(Vars{Service: "orders", Port: 8080, Replica: 1}, []string{"no-dedup"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"DATABASE_URL=postgres://u:p@db:5432/x", "MSCLI_REPLICA=1", "MSCLI_SERVICE=orders", "NOTE={{.Port}}", "ORDERS_DEDUP=off"}
	if !slices.Equal(env, want) {
		t.Errorf("env %v, want %v", env, want)
	}
}

func TestNeedsBroker(t *testing.T) {
	for _, c := range []struct {
		services []Service
		want     bool
	}{
		{[]Service{{Name: "bank", Fixture: "bank"}}, true},
		{[]Service{{Name: "orders", Image: "o", DependsOn: []string{"broker"}}}, true},
		{[]Service{{Name: "orders", Image: "o", DependsOn: []string{"db"}}, {Name: "db", Image: "p", Port: 5432}}, false},
	} {
		if got := (Topology{Services: c.services}).NeedsBroker(); got != c.want {
			t.Errorf("%+v: NeedsBroker %v", c.services, got)
		}
	}
	if p := (Service{Port: 80}).AllPorts(); !slices.Equal(p, []int{80}) {
		t.Errorf("AllPorts %v", p)
	}
}
