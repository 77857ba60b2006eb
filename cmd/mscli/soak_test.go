//go:build soak

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mscli/mscli/reports"
)

// The soak (make soak; not part of make test): many runs interrupted at random points
// with SIGINT or SIGKILL across both testbeds and both catalog scenarios, then one
// mscli clean, asserting that nothing of any of them is left; then pairs of runs at
// once, each pair's verdicts the same as the scenario's alone on that seed and testbed.
//
//	SOAK_RUNS (50) interrupted runs, SOAK_PAIRS (20) pairs, SOAK_SEED (time) the draws,
//	SOAK_TESTBEDS (local,docker) and SOAK_SCENARIOS (bank-idempotency,db-loss-restore).
func TestSoak(t *testing.T) {
	dockerImages(t)
	runs, pairs := soakEnv(t, "SOAK_RUNS", 50), soakEnv(t, "SOAK_PAIRS", 20)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SOAK_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("SOAK_SEED=%d SOAK_RUNS=%d SOAK_PAIRS=%d", seed, runs, pairs)
	rng := rand.New(rand.NewPCG(seed, 0))
	testbeds := []string{"local", "docker"}
	scenarios := []string{"bank-idempotency", "db-loss-restore"}
	if s := os.Getenv("SOAK_TESTBEDS"); s != "" {
		testbeds = strings.Split(s, ",")
	}
	if s := os.Getenv("SOAK_SCENARIOS"); s != "" {
		scenarios = strings.Split(s, ",")
	}

	t.Run("interrupted", func(t *testing.T) {
		root := t.TempDir()
		out := filepath.Join(root, ".mscli", "runs")
		type tally struct{ runs, finished, code130, leftBefore int }
		tallies := map[string]*tally{}
		start := time.Now()
		for i := range runs {
			tb, sc := testbeds[i%len(testbeds)], scenarios[(i/len(testbeds))%len(scenarios)]
			sig := []syscall.Signal{syscall.SIGINT, syscall.SIGKILL}[rng.IntN(2)]
			after := time.Duration(rng.Int64N(int64(35 * time.Second)))
			before, _ := filepath.Glob(filepath.Join(out, "*"))
			cmd := exec.Command(mscliBinary(t), "run", sc, "--testbed", tb, "--out", out, "--seed", strconv.Itoa(1+rng.IntN(10)))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			key := fmt.Sprintf("%s %s %s", tb, sc, sig)
			if tallies[key] == nil {
				tallies[key] = &tally{}
			}
			ta := tallies[key]
			ta.runs++
			var err error
			select {
			case err = <-done:
				ta.finished++ // it ended before its signal: a finished run must leave nothing either
			case <-time.After(after):
				_ = cmd.Process.Signal(sig)
				select {
				case err = <-done:
				case <-time.After(60 * time.Second):
					_ = cmd.Process.Kill()
					t.Errorf("run %d (%s): no exit within 60s of %s", i, key, sig)
					err = <-done
				}
			}
			code := exitOf(err)
			if sig == syscall.SIGINT && code == 130 {
				ta.code130++
			}
			if sig == syscall.SIGINT && code != 130 && code != 0 {
				t.Errorf("run %d (%s after %s): exit %d, want 130 (or 0 if it had finished)\n%s", i, key, after.Round(time.Millisecond), code, tail(stderr.String(), 10))
			}
			// What a SIGINT or a finished run leaves, before any clean: nothing.
			after2, _ := filepath.Glob(filepath.Join(out, "*"))
			for _, d := range after2 {
				if slices.Contains(before, d) {
					continue
				}
				if n := leftovers(t, d); n != "" && (sig == syscall.SIGINT || code == 0) {
					ta.leftBefore++
					t.Errorf("run %d (%s, exit %d) left before any clean: %s", i, key, code, n)
				}
			}
		}
		msg, err := exec.Command(mscliBinary(t), "clean", "--root", root).CombinedOutput()
		if err != nil {
			t.Fatalf("mscli clean: %v\n%s", err, msg)
		}
		dirs, _ := filepath.Glob(filepath.Join(out, "*"))
		left := 0
		for _, d := range dirs {
			if n := leftovers(t, d); n != "" {
				left++
				t.Errorf("after mscli clean, run %s left %s", filepath.Base(d), n)
			}
		}
		t.Logf("%d interrupted runs (%d run directories) in %s; after one mscli clean: %d runs with anything left", runs, len(dirs), time.Since(start).Round(time.Second), left)
		t.Logf("| testbed scenario signal | runs | ended before the signal | exit 130 | left something before clean |")
		for _, k := range slices.Sorted(maps.Keys(tallies)) {
			ta := tallies[k]
			t.Logf("| %s | %d | %d | %d | %d |", k, ta.runs, ta.finished, ta.code130, ta.leftBefore)
		}
		t.Logf("mscli clean said:\n%s", tail(string(msg), 8))
	})

	t.Run("pairs", func(t *testing.T) {
		root := t.TempDir()
		out := filepath.Join(root, ".mscli", "runs")
		alone := map[string]map[string]string{}
		start := time.Now()
		same := 0
		for i := range pairs {
			tb, sc := testbeds[i%len(testbeds)], scenarios[(i/len(testbeds))%len(scenarios)]
			key := tb + " " + sc
			if alone[key] == nil {
				code, v := verdictsOf(t, launchScenario(t, tb, sc, out))
				if code != 0 {
					t.Fatalf("%s alone: exit %d, want 0: %v", key, code, v)
				}
				alone[key] = v
			}
			a, b := launchScenario(t, tb, sc, out), launchScenario(t, tb, sc, out)
			ca, va := verdictsOf(t, a)
			cb, vb := verdictsOf(t, b)
			if ca == 0 && cb == 0 && maps.Equal(va, alone[key]) && maps.Equal(vb, alone[key]) {
				same++
				continue
			}
			t.Errorf("pair %d (%s): exits %d and %d, verdicts %v and %v; alone %v", i, key, ca, cb, va, vb, alone[key])
		}
		dirs, _ := filepath.Glob(filepath.Join(out, "*"))
		for _, d := range dirs {
			if n := leftovers(t, d); n != "" {
				t.Errorf("run %s left %s", filepath.Base(d), n)
			}
		}
		t.Logf("%d pairs at once in %s: %d with both verdicts the same as alone (%d run directories, none left anything)", pairs, time.Since(start).Round(time.Second), same, len(dirs))
	})
}

func soakEnv(t *testing.T, name string, def int) int {
	if s := os.Getenv(name); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			t.Fatalf("%s=%q: want a count", name, s)
		}
		return n
	}
	return def
}

// launchScenario starts `mscli run sc` on seed 1 with its result as JSON on stdout.
func launchScenario(t *testing.T, tb, sc, out string) *launched {
	t.Helper()
	r := &launched{working: make(chan struct{})}
	r.cmd = exec.Command(mscliBinary(t), "run", sc, "--testbed", tb, "--out", out, "--seed", "1", "--format", "json")
	r.cmd.Stdout = &r.stdout
	r.cmd.Stderr = &r.errBuf
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.cmd.Process.Kill() })
	return r
}

// verdictsOf waits for a run and returns its exit code and each check's verdict.
func verdictsOf(t *testing.T, r *launched) (int, map[string]string) {
	t.Helper()
	code := exitOf(r.cmd.Wait())
	var res reports.Run
	if err := json.Unmarshal(r.stdout.Bytes(), &res); err != nil {
		t.Errorf("exit %d; stdout is not a result: %v\nstderr:\n%s", code, err, tail(r.errBuf.String(), 30))
		return code, nil
	}
	if code != 0 {
		t.Logf("exit %d:\n%s", code, tail(r.errBuf.String(), 30))
	}
	v := map[string]string{}
	for _, c := range res.Results {
		v[c.Name] = string(c.Verdict)
	}
	return code, v
}

func exitOf(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return -1
}

// leftovers says what of the run in dir is still there: its containers, networks and
// volumes (labelled mscli.run) and the live processes of its pid file; "" for nothing.
func leftovers(t *testing.T, dir string) string {
	t.Helper()
	run := filepath.Base(dir)
	var parts []string
	for _, kind := range []string{"container ls -a", "network ls", "volume ls"} {
		if n := len(labelled(t, kind, run)); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.Fields(kind)[0]+"s"))
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, "pids")); err == nil {
		n := 0
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) > 0 {
				if p, err := strconv.Atoi(f[0]); err == nil && alive(p) {
					n++
				}
			}
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d processes of its pid file", n))
		}
	}
	// Any process whose command line names the run's directory (a local database's).
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	n := 0
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(dir)) {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil && alive(pid) {
				n++
			}
		}
	}
	if n > 0 {
		parts = append(parts, fmt.Sprintf("%d processes naming its directory", n))
	}
	return strings.Join(parts, ", ")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
