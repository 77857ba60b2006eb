package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// On the docker testbed too: a container of the user's own is given its secret in its
// environment (it prints the value's SHA-256), and the value is in nothing the run
// writes — the saved container logs, the records, the reports, stdout, stderr — nor in
// the log tail quoted when the container dies as it starts.
func TestSecretsRedactedDocker(t *testing.T) {
	dockerImages(t)
	image := userAppImage(t)
	token, sum, marker := newSecret(t)
	scenario := func(extra string) string {
		return infraScenario(t, infraScenarioYAML("2s", fmt.Sprintf(`      image: %s
      port: 8080
      ready: {http: /healthz}
      env: {USERAPP_PRINT: E2E_API_TOKEN%s}
      secrets: [E2E_API_TOKEN]`, image, extra)))
	}
	env := []string{"E2E_API_TOKEN=" + token}

	t.Run("run", func(t *testing.T) {
		r := runInfra(t, t.TempDir(), env, "run", scenario(""), "--testbed", "docker")
		t.Cleanup(func() { removeLabelled(t, r.runID()) })
		// Pings carry no operation ids: idempotent has nothing to judge (exit 2); the
		// run itself must have run (no 1, 3 or 4).
		if r.code != 0 && r.code != 2 {
			t.Fatalf("exit %d, want 0 or 2\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		noSecret(t, token, r.dir, r.stdout, r.stderr)
		logs, _ := filepath.Glob(filepath.Join(r.dir, "logs", "app*"))
		if len(logs) == 0 {
			t.Fatalf("no log of the service saved under %s/logs", r.dir)
		}
		b, err := os.ReadFile(logs[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"E2E_API_TOKEN=" + marker, "on stderr: " + marker, "sha256 " + hex.EncodeToString(sum[:])} {
			if !strings.Contains(string(b), want) {
				t.Errorf("the container's log %s lacks %q:\n%s", logs[0], want, b)
			}
		}
	})

	t.Run("a container that dies as it starts", func(t *testing.T) {
		r := runInfra(t, t.TempDir(), env, "run", scenario(", USERAPP_FAIL: boom"), "--testbed", "docker")
		t.Cleanup(func() { removeLabelled(t, r.runID()) })
		if r.code != 3 {
			t.Fatalf("exit %d, want 3\nstderr:\n%s", r.code, r.stderr)
		}
		noSecret(t, token, r.dir, r.stdout, r.stderr)
		if !strings.Contains(r.stderr, "on stderr: "+marker) {
			t.Errorf("the error does not quote the container's log, redacted:\n%s", r.stderr)
		}
	})
}
