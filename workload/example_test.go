package workload_test

import (
	"fmt"

	"github.com/mscli/mscli/scenarios"
	"github.com/mscli/mscli/workload"
)

// The operation sequence of a client depends only on the workload and its process
// number: the same plan sends the same operations.
func ExampleNewGenerator() {
	w := scenarios.Workload{Clients: 4, Accounts: 20, Opening: 1000, Mix: 0.5, Seed: 42}
	g := workload.NewGenerator(w, 1)
	for range 3 {
		op := g.Next()
		fmt.Println(op.ID, op.F, op.Key, op.Amount)
	}
	// Output:
	// d-000021 deposit acct-11 65
	// w-000025 withdraw acct-7 55
	// w-000029 withdraw acct-8 63
}
