package mscli_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/mscli/mscli"
)

// The order-intake service of examples/ (an ordinary service of its own Go module:
// net/http, PostgreSQL, NATS JetStream) under its scenario, examples/orders.yaml, on
// the local testbed: mscli starts the broker, a PostgreSQL and two replicas of the
// service's binary, drives its HTTP API with retries through a slow link, kills a
// replica, cuts it off its broker, and checks that every Idempotency-Key made one
// order. The binary for the node roles is found or built (FindBinary).
func Example() {
	if err := buildOrders(); err != nil {
		fmt.Println(err)
		return
	}
	res, err := mscli.RunFile(context.Background(), "examples/orders.yaml", mscli.Options{
		Testbed: "local",
		Seed:    1,
		Timeout: 5 * time.Minute,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Invariant("idempotent").Verdict)
	if !res.Passed() {
		for _, f := range res.Failures() {
			fmt.Println(f)
		}
		fmt.Println("run directory:", res.Dir)
		return
	}
	os.RemoveAll(filepath.Dir(res.Dir)) // the fresh directory Options.Dir defaults to
	// Output: pass
}

// buildOrders builds the example service's binary, examples/orders/orders, when it
// is missing, as `make -C examples bin` does: static, in the examples' own module.
func buildOrders() error {
	if _, err := os.Stat("examples/orders/orders"); err == nil {
		return nil
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", "orders/orders", "./orders")
	cmd.Dir = "examples"
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the orders example: %v\n%s", err, out)
	}
	return nil
}
