package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretScenario is a bank run beside a service of the user's own (a shell script)
// that is given E2E_API_TOKEN as a secret and prints it: split across two writes to
// stdout, whole to stderr, and its SHA-256, which shows it was given the value.
// extra is added to the script's service.
const secretScenario = `name: secret-env
duration: 3s
system:
  services:
    bank: {fixture: bank}
    leaker:
      command:
        - sh
        - -c
        - |
          head="${E2E_API_TOKEN%%????????}"
          printf 'token=%%s' "$head"
          sleep 0.3
          printf '%%s\n' "${E2E_API_TOKEN#"$head"}"
          echo "on stderr: $E2E_API_TOKEN" >&2
          printf 'sha256 %%s\n' "$(printf '%%s' "$E2E_API_TOKEN" | sha256sum)"
          %s
      secrets: [E2E_API_TOKEN]
%s
workload: {kind: bank, clients: 2, rate: 20, accounts: 4, opening: 1000}
invariants: [idempotent, durable]
`

// runSecret runs a scenario on the local testbed with env added to mscli's
// environment; it returns the exit code, stdout and stderr.
func runSecret(t *testing.T, scenario, out string, env ...string) (int, string, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(file, []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	return runMscli(t, env, "run", file, "--testbed", "local", "--seed", "1", "--format", "json", "--out", out)
}

// noSecret fails if value shows in any output or in any file under dir, and returns
// every file's text joined, for what the caller expects to find.
func noSecret(t *testing.T, value, dir string, outputs ...string) string {
	t.Helper()
	for i, out := range outputs {
		if strings.Contains(out, value) {
			t.Errorf("output %d shows the secret:\n%s", i, out)
		}
	}
	var all strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrPermission) {
			return nil
		}
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(value)) {
			t.Errorf("%s shows the secret", path)
		}
		fmt.Fprintf(&all, "== %s\n%s\n", path, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all.String()
}

// newSecret is a random secret for E2E_API_TOKEN, its SHA-256 and its marker.
func newSecret(t *testing.T) (token string, sum [sha256.Size]byte, marker string) {
	t.Helper()
	raw := make([]byte, 12)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	token = "tok-" + hex.EncodeToString(raw)
	return token, sha256.Sum256([]byte(token)), "[secret E2E_API_TOKEN]"
}

// A service's secret reaches it from mscli's environment, and its value appears in
// nothing the run writes: not the run directory's files (plan, logs, records,
// reports), not stdout, not stderr — where it was printed, the marker is.
func TestSecretsRedacted(t *testing.T) {
	mscliBinary(t)
	token, sum, marker := newSecret(t)

	t.Run("run", func(t *testing.T) {
		out := t.TempDir()
		code, stdout, stderr := runSecret(t, fmt.Sprintf(secretScenario, "exec sleep 600", ""), out, "E2E_API_TOKEN="+token)
		if code != 0 {
			t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		files := noSecret(t, token, out, stdout, stderr)
		logs, _ := filepath.Glob(filepath.Join(out, "*", "logs", "leaker*.log"))
		if len(logs) != 1 {
			t.Fatalf("the service's log: %v", logs)
		}
		log, err := os.ReadFile(logs[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"token=" + marker + "\n", "on stderr: " + marker, "sha256 " + hex.EncodeToString(sum[:])} {
			if !strings.Contains(string(log), want) {
				t.Errorf("the service's log lacks %q:\n%s", want, log)
			}
		}
		if !strings.Contains(files, `"E2E_API_TOKEN"`) {
			t.Error("plan.json does not name the secret")
		}
	})

	t.Run("a node that fails to start", func(t *testing.T) {
		// It prints the value and exits: the error quotes its log's last lines.
		out := t.TempDir()
		code, stdout, stderr := runSecret(t, fmt.Sprintf(secretScenario, "exit 1", "      port: 8080"), out, "E2E_API_TOKEN="+token)
		if code != 3 {
			t.Fatalf("exit %d, want 3\nstderr:\n%s", code, stderr)
		}
		noSecret(t, token, out, stdout, stderr)
		if !strings.Contains(stderr, "on stderr: "+marker) {
			t.Errorf("the error does not quote the node's log, redacted:\n%s", stderr)
		}
	})

	for _, c := range []struct{ name, env, want string }{
		{"not set", "E2E_API_TOKEN=", "secret E2E_API_TOKEN is not set in mscli's environment: export E2E_API_TOKEN="},
		{"too short", "E2E_API_TOKEN=abc", "secret E2E_API_TOKEN is 3 characters long; a secret must have at least 8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			code, _, stderr := runSecret(t, fmt.Sprintf(secretScenario, "exec sleep 600", ""), out, c.env)
			if code != 4 || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, want 4 and %q:\n%s", code, c.want, stderr)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("the run made a directory before it checked its secrets: %v", entries)
			}
		})
	}
}
