package local_test

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/mscli/mscli/internal/testbin"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "fixture" {
		os.Exit(fakeFixture(os.Args[2:]))
	}
	// Under -race the fake fixtures (this binary) would sleep 1s at every exit, as the
	// race runtime does by default to catch exit-time races.
	os.Setenv("GORACE", "atexit_sleep_ms=0")
	code := m.Run()
	testbin.Cleanup()
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

// realBinary is the mscli binary (testbin: MSCLI_BIN, or one built once) for the tests
// that run the real fixtures; it checks that each role answers --help.
func realBinary(t testing.TB, roles ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("building the mscli binary is slow; skipped with -short")
	}
	realBin, err := testbin.Path()
	if err != nil {
		t.Fatal(err)
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
