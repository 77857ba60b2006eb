package mscli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/testbed"
)

// The orders example (examples/: a service of its own module, tested through its HTTP
// API and its database with no Go code) is held to its scenario's claim on both
// testbeds: clean, every invariant holds; with its deduplication switched off
// (--inject-bug no-dedup), idempotent fails with a witness that names the operation
// and the faults active when it was applied twice. The Example runs it clean on the
// local testbed. The same holds for the service as its docker-compose.yml runs it.
// `make examples` builds the binaries and images these runs start.
func TestExampleOrders(t *testing.T) {
	for _, tc := range []struct {
		file, testbed, bug string
	}{
		{"examples/orders.yaml", "local", "no-dedup"},
		{"examples/orders.yaml", "docker", ""},
		{"examples/orders.yaml", "docker", "no-dedup"},
		// The same service as its unchanged docker-compose.yml runs it.
		{"examples/orders-compose.yaml", "docker", ""},
		{"examples/orders-compose.yaml", "docker", "no-dedup"},
	} {
		name := strings.TrimSuffix(filepath.Base(tc.file), ".yaml") + "/" + tc.testbed + "/" + tc.bug
		if tc.bug == "" {
			name += "clean"
		}
		t.Run(name, func(t *testing.T) {
			o := localOptions(t, io.Discard)
			o.Testbed = tc.testbed
			if tc.bug != "" {
				o.Bugs = []string{tc.bug}
			}
			if tc.testbed == "docker" {
				requireDocker(t)
				requireFile(t, "examples/orders/orders", "make -C examples image")
			} else {
				requireFile(t, "examples/orders/orders", "make -C examples bin")
				// The PostgreSQL of the service runs as the postgres user, which may not
				// enter the test's private artifact folder: the default run directory
				// (a fresh one others may enter) instead.
				o.Dir = ""
			}
			res, err := RunFile(context.Background(), tc.file, o)
			if err != nil {
				t.Fatal(err)
			}
			if o.Dir == "" && !t.Failed() {
				defer func() {
					if !t.Failed() {
						os.RemoveAll(filepath.Dir(res.Dir))
					}
				}()
			}
			if tc.bug == "" {
				if !res.Passed() {
					t.Fatalf("clean run did not pass:\n%s", res)
				}
				return
			}
			got := res.Invariant("idempotent")
			if got.Verdict != "fail" || len(got.Witnesses) == 0 {
				t.Fatalf("with %s, idempotent is %s (%s), want fail with witnesses\n%s", tc.bug, got.Verdict, got.Summary, res)
			}
			// Every witness names the operation and its history; the duplicates the
			// faults caused name the faults active when they happened (a retry at a slow
			// start can duplicate an order before any fault, too).
			withFaults := false
			for _, w := range got.Witnesses {
				if !strings.HasPrefix(w.ID, "order-") || len(w.Ops) == 0 {
					t.Errorf("witness does not name the operation and its history: %+v", w)
				}
				withFaults = withFaults || len(w.Faults) > 0
			}
			if !withFaults {
				t.Errorf("no witness names a fault active when the order was duplicated: %+v", got.Witnesses)
			}
		})
	}
}

func requireDocker(t *testing.T) {
	t.Helper()
	tb, _ := testbed.Lookup("docker")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := tb.Available(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("docker testbed: %v", err)
		}
		t.Skipf("docker testbed: %v", err)
	}
}

func requireFile(t *testing.T, path, fix string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing: run %s", path, fix)
	}
}
