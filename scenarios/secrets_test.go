package scenarios

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// secretsHead is a valid scenario up to a user's service's keys; cases add its
// secrets: (and env:, bugs:) from line 11.
const secretsHead = `name: x
duration: 5s
invariants: [idempotent]
workload: {kind: http, service: orders, operations: [{name: order, path: /orders}]}
system:
  services:
    orders:
      command: ./orders
      port: 8080
      depends-on: [broker]
`

// A service's secrets: are names only: the plan carries them and never a value, and
// validate reads no environment (the run checks that each is set).
func TestSecretsPlan(t *testing.T) {
	t.Setenv("ORDERS_TOKEN", "a-value-from-the-shell")
	s, err := Parse("t.yaml", []byte(secretsHead+"      secrets: [ORDERS_TOKEN, PAYMENTS_KEY]\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Topology.Services[0].Secrets; !slices.Equal(got, []string{"ORDERS_TOKEN", "PAYMENTS_KEY"}) {
		t.Fatalf("planned secrets %v", got)
	}
	b, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "a-value-from-the-shell") {
		t.Fatal("the plan carries a secret's value")
	}
}

func TestSecretsErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"not a list", "      secrets: ORDERS_TOKEN\n", []string{`11:16: expected a list`}},
		{"bad name", "      secrets: [ORDERS-TOKEN]\n", []string{`11:17: invalid variable name "ORDERS-TOKEN"`}},
		{"twice", "      secrets: [A_TOKEN, A_TOKEN]\n", []string{`11:26: secret A_TOKEN is listed twice`}},
		{"also in env", "      env: {A_TOKEN: x}\n      secrets: [A_TOKEN]\n", []string{`12:17: A_TOKEN is both a secret and in env:`}},
		{"also a bug's env", "      secrets: [A_TOKEN]\n      bugs:\n        b: {env: {A_TOKEN: x}, breaks: idempotent}\n",
			[]string{`11:17: A_TOKEN is both a secret and in env:`}},
		{"the testbed's own", "      secrets: [DATABASE_URL, MSCLI_X, BROKER_ADDR]\n", []string{
			`11:17: DATABASE_URL is a variable the testbed gives the service itself`,
			`11:31: MSCLI_X is a variable the testbed gives the service itself`,
			`11:40: BROKER_ADDR is a variable the testbed gives the service itself`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(secretsHead+tt.in))
			wantErrors(t, err, tt.want)
		})
	}
	fixture := "name: x\nduration: 5s\ninvariants: [idempotent]\nsystem:\n  services:\n    bank: {fixture: bank, secrets: [A_TOKEN]}\n"
	_, err := Parse("t.yaml", []byte(fixture))
	wantErrors(t, err, []string{`6:27: secrets: is for a service of your own`})
}

// A compose service takes secrets: from the scenario: the one way to hand it a value
// of the shell, which its compose file's environment cannot name.
func TestSecretsComposeOverlay(t *testing.T) {
	dir := t.TempDir()
	compose := "services:\n  orders:\n    image: orders:dev\n    expose: [\"8080\"]\n    environment: {LEVEL: debug}\n"
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	scen := "name: x\nduration: 5s\ninvariants: [idempotent]\nworkload: {kind: http, service: orders, operations: [{name: order, path: /orders}]}\nsystem:\n  compose: docker-compose.yml\n  services:\n    orders: {secrets: [ORDERS_TOKEN]}\n"
	path := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(path, []byte(scen), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.System.Services[0].Secrets; !slices.Equal(got, []string{"ORDERS_TOKEN"}) {
		t.Fatalf("the compose service's secrets: %v", got)
	}
}
