package scenarios

import (
	"strings"
	"testing"
)

// A fixture that fronts other services (the gateway) names them in depends-on: each is
// a link through a proxy from each of its replicas, which faults can target; any other
// fixture declares its dependencies itself.
func TestFixtureUpstreams(t *testing.T) {
	s, err := Load("catalog/circuit-breaker.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var links []string
	for _, l := range s.Topology().Links {
		links = append(links, l.Name)
	}
	if got, want := strings.Join(links, " "), "client->bank bank->broker client->catalog catalog->broker client->gateway gateway->broker gateway->bank gateway->catalog"; got != want {
		t.Errorf("links %s, want %s", got, want)
	}
	tg := s.targets()
	for _, n := range []string{"gateway->catalog", "gateway/0->catalog", "gateway/0->bank"} {
		if !contains(tg.valid["link"], n) {
			t.Errorf("link %s is not a valid target", n)
		}
	}

	const head = "name: x\nduration: 10s\ninvariants: [durable]\nsystem:\n  services:\n    bank: {fixture: bank}\n    catalog: {fixture: catalog}\n"
	for _, tt := range []struct{ name, in, want string }{
		{"no upstreams", head + "    gateway: {fixture: gateway}\n",
			"8:5: fixture gateway fronts other services: name them in depends-on, e.g. depends-on: [bank, catalog]"},
		{"an unknown upstream", head + "    gateway: {fixture: gateway, depends-on: [bank, catalgo]}\n",
			`8:52: unknown node "catalgo"; did you mean "catalog"? (known: bank, catalog)`},
		{"the broker is no upstream", head + "    gateway: {fixture: gateway, depends-on: [broker]}\n",
			`8:46: unknown node "broker" (known: bank, catalog)`},
		{"itself", head + "    gateway: {fixture: gateway, depends-on: [gateway]}\n",
			"8:46: a service does not depend on itself"},
		{"more upstream replicas", "name: x\nduration: 10s\ninvariants: [durable]\nsystem:\n  services:\n    bank: {fixture: bank, replicas: 2}\n    catalog: {fixture: catalog}\n    gateway: {fixture: gateway, depends-on: [bank, catalog]}\n",
			"8:46: bank runs 2 replicas and gateway 1: each replica of gateway reaches one of bank's, so give gateway at least 2 replicas"},
		{"a service of your own", head + "    shop: {command: [./shop], port: 8080}\n    gateway: {fixture: gateway, depends-on: [bank, shop]}\n",
			"9:52: fixture gateway fronts fixture services only; shop is a service of your own"},
		{"another fixture", "name: x\nduration: 10s\ninvariants: [durable]\nsystem:\n  services:\n    bank: {fixture: bank, depends-on: [catalog]}\n    catalog: {fixture: catalog}\n",
			"depends-on: is for a service of your own; fixture bank declares it itself"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant one with %q", err, tt.want)
			}
		})
	}
}
