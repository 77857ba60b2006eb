package scenarios_test

import (
	"fmt"
	"os"

	"github.com/mscli/mscli/scenarios"
)

// A scenario from YAML, planned with a seed and shown as the dry run shows it.
func ExampleScenario_Plan() {
	s, err := scenarios.Parse("example.yaml", []byte(`
name: example
duration: 10s
system:
  services:
    bank: {fixture: bank, replicas: 2}
workload: {clients: 2, rate: 50}
faults:
  - {at: 2s, for: 3s, fault: partition, link: bank->broker}
  - {at: 6s, fault: kill, node: bank, restart-after: 1s}
invariants: [durable, {converges: {within: 2s}}]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := s.Plan(42)
	if err != nil {
		fmt.Println(err)
		return
	}
	p.WriteTimeline(os.Stdout)
	// Output:
	// scenario  example
	// seed      42
	// duration  10s
	//
	// topology
	//   broker   nats
	//   service  bank  fixture bank  replicas 2  database testbed default
	//   link     client->bank
	//   link     bank->broker
	//
	// workload  bank (accounts=10 mix=0.7 opening=1000): 2 clients, 50 ops/s, timeout 500ms, retry 5 attempts (backoff 20ms, max 1s)
	//
	// faults (2)
	//   START  STOP     FAULT      TARGET        PARAMS            SOURCE
	//   2s     5s       partition  bank->broker  direction=both    scenario
	//   6s     instant  kill       bank/0        restart-after=1s  scenario
	//
	// invariants
	//   durable
	//   converges  within=2s
}

// Every problem of a file comes back at once, each at its line and column.
func ExampleParse_errors() {
	_, err := scenarios.Parse("bank.yaml", []byte(`name: bank
duration: fast
system:
  services:
    bank: {fixture: bank, replicas: 2}
invariants: [durable, idempotnet]
faults:
  - {at: 1s, for: 2s, fault: partition, link: bank->brokr}
`))
	fmt.Println(err)
	// Output:
	// bank.yaml:2:11: invalid duration "fast" (write e.g. 500ms, 3s, 1m30s)
	// bank.yaml:6:23: unknown invariant "idempotnet"; did you mean "idempotent"? (known: idempotent, durable, conservation, ordered, converges, fail-fast, bounded-load, recovers, delivery, dead-letters-accounted, saga-atomic, saga-conservation, spread)
	// bank.yaml:8:47: unknown link "bank->brokr"; did you mean "bank->broker"?
}
