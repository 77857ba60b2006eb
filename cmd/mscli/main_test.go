package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

type cobraCommand = cobra.Command

// mscli runs one command line in-process and returns its exit code and output.
func mscli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestValidateReportsEveryErrorWithPosition(t *testing.T) {
	code, _, stderr := mscli(t, "validate", "../../scenarios/testdata/bad.yaml")
	if code != 4 {
		t.Fatalf("exit %d, want 4; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		`bad.yaml:10:1: unknown key "summry"`, `did you mean "summary"`,
		`bad.yaml:15:21: clients: expected an integer`,
		`bad.yaml:18:45: unknown link "client->bnak"`,
		`bad.yaml:19:20: fault ends at 25s, after the scenario's duration 20s`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestValidateCatalogIsClean(t *testing.T) {
	code, out, stderr := mscli(t, "list")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, stderr)
	}
	names := regexp.MustCompile(`(?m)^([a-z0-9-]+)\s{2,}`).FindAllStringSubmatch(out, -1)
	if len(names) < 1 {
		t.Fatalf("list printed no scenario:\n%s", out)
	}
	for _, m := range names {
		if code, _, stderr := mscli(t, "validate", m[1]); code != 0 {
			t.Errorf("validate %s: exit %d\n%s", m[1], code, stderr)
		}
	}
}

func TestDryRunIsDeterministicAndSeedChangesTheTimeline(t *testing.T) {
	dry := func(seed string) string {
		code, out, stderr := mscli(t, "run", "bank-idempotency", "--dry-run", "--seed", seed)
		if code != 0 {
			t.Fatalf("dry run seed %s: exit %d: %s", seed, code, stderr)
		}
		return out
	}
	a, b, c := dry("7"), dry("7"), dry("8")
	if a != b {
		t.Fatalf("seed 7 twice differs:\n%s\n---\n%s", a, b)
	}
	if a == c {
		t.Fatalf("seed 8 gave the same timeline as seed 7:\n%s", a)
	}
	for _, want := range []string{"client->bank", "bank->broker", "kill", "partition", "duplicate", "nemesis"} {
		if !strings.Contains(a, want) {
			t.Errorf("timeline lacks %q:\n%s", want, a)
		}
	}
}

func TestBadInputExitsFour(t *testing.T) {
	for _, args := range [][]string{
		{"run", "no-such-scenario", "--dry-run"},
		{"run", "bank-idempotency", "--dry-run", "--seed", "notanumber"},
		{"run", "bank-idempotency", "--format", "yaml"},
		{"validate"},
		{"check", "/nonexistent/run"},
	} {
		if code, _, stderr := mscli(t, args...); code != 4 {
			t.Errorf("%v: exit %d, want 4 (stderr: %s)", args, code, stderr)
		}
	}
}

func TestEveryCommandHasAnExample(t *testing.T) {
	root := newRoot(&bytes.Buffer{}, &bytes.Buffer{})
	var missing []string
	var visit func(path string, cmds []*cobraCommand)
	visit = func(path string, cmds []*cobraCommand) {
		for _, c := range cmds {
			if c.Name() == "help" || c.Name() == "completion" || strings.HasPrefix(path, "mscli completion") {
				continue
			}
			if c.Example == "" {
				missing = append(missing, path+" "+c.Name())
			}
			visit(path+" "+c.Name(), c.Commands())
		}
	}
	visit("mscli", root.Commands())
	if len(missing) > 0 {
		t.Fatalf("commands without an example in --help: %v", missing)
	}
}
