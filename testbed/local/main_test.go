package local_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "fixture" {
		os.Exit(fakeFixture(os.Args[2:]))
	}
	// Under -race the fake fixtures (this binary) would sleep 1s at every exit, as the
	// race runtime does by default to catch exit-time races.
	os.Setenv("GORACE", "atexit_sleep_ms=0")
	code := m.Run()
	if realDir != "" {
		os.RemoveAll(realDir)
	}
	os.Exit(code)
}

// fakeBinary is this test binary, which plays the fixtures (fake_test.go).
func fakeBinary(t testing.TB) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

var (
	realOnce sync.Once
	realDir  string
	realBin  string
	realErr  error
)

// realBinary builds the mscli binary once (go build ./cmd/mscli) for the tests that run
// the real fixtures. It skips the test when the binary cannot be built or has no
// fixture of that role yet: the fixtures are wired into cmd/mscli separately.
func realBinary(t testing.TB, roles ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("building the mscli binary is slow; skipped with -short")
	}
	realOnce.Do(func() {
		realDir, realErr = os.MkdirTemp("", "mscli-local-test-")
		if realErr != nil {
			return
		}
		bin := filepath.Join(realDir, "mscli")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/mscli")
		cmd.Dir = filepath.Join("..", "..")
		out, err := cmd.CombinedOutput()
		if err != nil {
			realErr = fmt.Errorf("go build ./cmd/mscli: %v\n%s", err, out)
			return
		}
		realBin = bin
	})
	if realErr != nil {
		t.Skipf("no mscli binary: %v", realErr)
	}
	for _, role := range roles {
		var out bytes.Buffer
		cmd := exec.Command(realBin, "fixture", role, "--help")
		cmd.Stdout, cmd.Stderr = &out, &out
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Skipf("mscli fixture %s: %v", role, err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Skipf("mscli has no `fixture %s` yet: %v\n%s", role, err, out.String())
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Skipf("mscli fixture %s --help hangs", role)
		}
	}
	return realBin
}
