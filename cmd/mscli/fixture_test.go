package main

import (
	"strings"
	"testing"
)

// The fixture roles come from the registry: each is a command with its flags, and a
// role's refusal of its flags is invalid input.
func TestFixtureRolesAreCommands(t *testing.T) {
	code, out, _ := mscli(t, "fixture", "bank", "--list-bugs")
	if code != 0 || !strings.Contains(out, "double-apply") || !strings.Contains(out, "idempotent") {
		t.Fatalf("fixture bank --list-bugs: exit %d\n%s", code, out)
	}
	if code, _, errOut := mscli(t, "fixture", "bank"); code != 4 || !strings.Contains(errOut, "--broker and --db are required") {
		t.Errorf("fixture bank without --broker: exit %d, %q", code, errOut)
	}
	if code, _, errOut := mscli(t, "fixture", "bank", "--inject-bug", "nope", "--broker", "nats://x", "--db", "sqlite:///x"); code != 4 || !strings.Contains(errOut, `unknown bug "nope"`) {
		t.Errorf("fixture bank --inject-bug nope: exit %d, %q", code, errOut)
	}
	code, _, errOut := mscli(t, "fixture")
	if code != 4 || !strings.Contains(errOut, "'mscli fixture broker'") || !strings.Contains(errOut, "'mscli fixture toxiproxy'") {
		t.Errorf("fixture with no role: exit %d, %q", code, errOut)
	}
}
