package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeScenario(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A fault whose kind no testbed can apply to its target is invalid input, at the
// target's position.
func TestValidateRejectsAFaultOnATargetItsKindCannotTake(t *testing.T) {
	path := writeScenario(t, `name: x
duration: 20s
system:
  services:
    bank: {fixture: bank, replicas: 2}
invariants: [durable]
faults:
  - {at: 1s, fault: wipe, node: bank/0}
  - {at: 2s, for: 1s, fault: pause, node: bank-db}
`)
	code, _, stderr := mscli(t, "validate", path)
	if code != 4 {
		t.Fatalf("exit %d, want 4; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		path + ":8:33: fault wipe acts on an SQLite database node (bank-db; local testbed only) or the broker (local testbed only), not on the replica bank/0",
		path + ":9:43: fault pause acts on the broker or a service replica (bank/0, bank/1), not on the SQLite database bank-db",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// `mscli run` refuses, before anything starts, a fault the chosen testbed cannot apply
// (exit 4); the fault is valid, since the other testbed can.
func TestRunRejectsFaultsTheTestbedCannotApply(t *testing.T) {
	path := writeScenario(t, `name: x
duration: 5s
system:
  services:
    bank: {fixture: bank, replicas: 1, database: postgres}
invariants: [durable]
faults:
  - {at: 1s, fault: kill, node: bank-db, restart-after: 1s}
  - {at: 2s, fault: snapshot, node: broker}
`)
	if code, _, stderr := mscli(t, "validate", path); code != 0 {
		t.Fatalf("validate: exit %d, want 0 (one testbed can apply each fault):\n%s", code, stderr)
	}
	for tb, want := range map[string]string{
		"local":  path + ":8:33: fault kill cannot act on the PostgreSQL database bank-db on the local testbed",
		"docker": path + ":9:37: fault snapshot cannot act on the broker on the docker testbed",
	} {
		out := t.TempDir()
		code, _, stderr := mscli(t, "run", path, "--testbed", tb, "--out", out, "--no-tui")
		if code != 4 {
			t.Fatalf("%s: exit %d, want 4; stderr:\n%s", tb, code, stderr)
		}
		if !strings.Contains(stderr, want) {
			t.Errorf("%s: stderr lacks %q:\n%s", tb, want, stderr)
		}
		if entries, _ := os.ReadDir(out); len(entries) > 0 {
			t.Errorf("%s: a refused run created %s", tb, entries[0].Name())
		}
	}
}
