package workload_test

import (
	"fmt"

	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/workload"
)

// The operation sequence of a client depends only on the workload and its process
// number: the same plan sends the same operations.
func ExampleNewGenerator() {
	w := plan.Workload{Clients: 4, Seed: 42, Params: map[string]string{"accounts": "20", "opening": "1000", "mix": "0.5"}}
	g := workload.NewGenerator(w, 1)
	for range 3 {
		op := g.Next()
		if op.F == workload.FRead {
			fmt.Println(op.F, op.Key) // a read has no id and no amount
			continue
		}
		fmt.Println(op.ID, op.F, op.Key, op.Amount)
	}
	// Output:
	// w-000021 withdraw acct-16 92
	// d-000025 deposit acct-3 83
	// read acct-6
}
