package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mscli/mscli/internal/testbin"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// The end-to-end tests run the real binary (testbin: MSCLI_BIN, or one built once).
func mscliBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end run: skipped with -short")
	}
	bin, err := testbin.Path()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// runBank runs the bank scenario on the local testbed and returns the exit code and
// the result it printed as JSON.
func runBank(t *testing.T, out string, extra ...string) (int, *reports.Run, string) {
	t.Helper()
	return runScenario(t, "local", "bank-idempotency", out, extra...)
}

func runScenario(t *testing.T, tb, scenario, out string, extra ...string) (int, *reports.Run, string) {
	t.Helper()
	args := append([]string{"run", scenario, "--testbed", tb, "--seed", "1", "--format", "json", "--out", out}, extra...)
	code, stdout, stderr := runMscli(t, nil, args...)
	var res reports.Run
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("exit %d; stdout is not a result: %v\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	return code, &res, stderr
}

// runMscli runs the mscli binary with args, env added to this process's environment,
// and returns its exit code, stdout and stderr; a binary that does not start fails t.
func runMscli(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(mscliBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

func verdicts(r *reports.Run) map[string]invariants.Verdict {
	m := map[string]invariants.Verdict{}
	for _, res := range r.Results {
		m[res.Name] = res.Verdict
	}
	return m
}

// TestRunLocal is the product's main job end to end: the clean bank passes every
// invariant under each scenario's faults, and each known bug is caught by the invariant
// the scenario says catches it.
func TestRunLocal(t *testing.T) {
	mscliBinary(t)
	runTable(t, "local")
}

// TestRunDocker is the same table on the docker testbed: containers, toxiproxy in a
// container, PostgreSQL for db-loss-restore.
func TestRunDocker(t *testing.T) {
	dockerImages(t)
	runTable(t, "docker")
}

func runTable(t *testing.T, tb string) {
	cases := []struct{ scenario, bug, catches string }{
		{"bank-idempotency", "", ""},
		{"bank-idempotency", "double-apply", "idempotent"},
		{"bank-idempotency", "ack-before-commit", "durable"},
		{"bank-idempotency", "publish-before-commit", "converges"},
		{"bank-idempotency", "unordered-projection", "ordered"},
		{"db-loss-restore", "", ""},
		{"db-loss-restore", "no-replay", "durable"},
		// The order saga: both coordination styles clean, the database loss, and a
		// bug of each kind (the sweeps of docs/scenarios.md run every one on more seeds).
		{"saga-order", "", ""},
		{"saga-order", "orchestrator-in-memory", "saga-atomic"},
		{"saga-choreography", "", ""},
		{"saga-choreography", "double-compensation", "saga-conservation"},
		{"saga-db-loss", "", ""},
		{"saga-db-loss", "no-replay", "saga-conservation"},
		// Seed 001's fleet: two of its scenarios clean, the dead-letter file and the
		// competing consumers with a bug each (the sweeps run every case on both).
		{"delivery-semantics", "", ""},
		{"dlq-poison", "", ""},
		{"dlq-poison", "lose-on-dlq", "dead-letters-accounted"},
		{"competing-consumers", "sticky-consumer", "spread"},
		// Seed 003's gateway: clean on both, the other bugs on the faster testbed.
		{"circuit-breaker", "", ""},
	}
	if tb == "docker" {
		cases = append(cases, struct{ scenario, bug, catches string }{"circuit-breaker", "shared-pool", "fail-fast"})
	}
	if tb == "local" {
		// The rest of the bugs, on the faster testbed.
		cases = append(cases, []struct{ scenario, bug, catches string }{
			{"saga-order", "skip-compensation", "saga-atomic"},
			{"saga-order", "compensate-undone-step", "saga-atomic"},
			{"saga-order", "no-step-dedup", "idempotent"},
			{"delivery-semantics", "ack-early-for-alerts", "delivery"},
			{"delivery-semantics", "no-dedup-payments", "delivery"},
			{"dlq-poison", "dlq-and-process", "dead-letters-accounted"},
			{"competing-consumers", "", ""},
			{"circuit-breaker", "no-breaker", "fail-fast"},
			{"circuit-breaker", "retry-storm", "bounded-load"},
			{"circuit-breaker", "breaker-never-closes", "recovers"},
			{"circuit-breaker", "retry-without-id", "durable"},
		}...)
	}
	for _, c := range cases {
		name := c.bug
		if name == "" {
			name = "no-bug"
		}
		t.Run(c.scenario+"/"+name, func(t *testing.T) {
			var extra []string
			if c.bug != "" {
				extra = []string{"--inject-bug", c.bug}
			}
			out := t.TempDir()
			code, res, stderr := runScenario(t, tb, c.scenario, out, extra...)
			stdout, _ := json.Marshal(res)
			noPasswords(t, out, stderr, string(stdout))
			v := verdicts(res)
			if c.bug == "" {
				if code != 0 {
					t.Fatalf("exit %d, want 0; verdicts %v\n%s", code, v, summary(res))
				}
				for name, verdict := range v {
					if verdict != invariants.Pass {
						t.Errorf("%s: %s", name, verdict)
					}
				}
				// bank-idempotency's faults produce every outcome (its partition, 503s).
				if res.Ops.Ok == 0 || c.scenario != "saga-db-loss" && res.Ops.Info == 0 || c.scenario == "bank-idempotency" && res.Ops.Fail == 0 {
					t.Errorf("want non-zero ok, fail and info counts: %+v", res.Ops)
				}
				f := res.Faults
				if f.Planned == 0 || f.Applied != f.Planned || f.Healed != f.Planned || f.Errors != 0 {
					t.Errorf("every planned fault applied and healed: %+v\nstderr:\n%s", f, stderr)
				}
				if !strings.Contains(stderr, "testbed") {
					t.Errorf("no progress on stderr:\n%s", stderr)
				}
				return
			}
			if code != 1 {
				t.Fatalf("exit %d, want 1; verdicts %v\n%s", code, v, summary(res))
			}
			if v[c.catches] != invariants.Fail {
				t.Fatalf("%s should fail with %s: verdicts %v\n%s", c.catches, c.bug, v, summary(res))
			}
		})
	}
}

// passwordRE finds a database password written out: in a URL, as a variable, or in
// SQL. A URL's password that url.Redacted replaced (":xxxxx@") is none: see
// findPassword.
var passwordRE = regexp.MustCompile(`postgres(?:ql)?://[^:/@\s"']+:([^@\s"']+)@|(?:POSTGRES_PASSWORD|PGPASSWORD|MSCLI_DB)=\S|"(?:POSTGRES_PASSWORD|PGPASSWORD)":|PASSWORD '`)

func findPassword(b []byte) string {
	for _, m := range passwordRE.FindAllSubmatch(b, -1) {
		if string(m[1]) != "xxxxx" {
			return string(m[0])
		}
	}
	return ""
}

// noPasswords fails if a run's directory (the plan, the logs, the reports) or its
// output shows a database password.
func noPasswords(t *testing.T, dir string, outputs ...string) {
	t.Helper()
	for _, out := range outputs {
		if m := findPassword([]byte(out)); m != "" {
			t.Errorf("the run's output shows a database password: %q", m)
		}
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasSuffix(path, ".tar") {
			return nil // a snapshot holds the database's files: the password's hash, not it
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrPermission) {
			return nil // a local database's own files, the postgres user's
		}
		if err != nil {
			return err
		}
		if m := findPassword(b); m != "" {
			t.Errorf("%s shows a database password: %q", path, m)
		}
		return nil
	})
	if err != nil {
		t.Errorf("reading %s for passwords: %v", dir, err)
	}
}

// dockerImages skips without a Docker engine (fails under CI=true) and builds the
// images the docker runs need: mscli's from the binary, PostgreSQL's if missing.
func dockerImages(t *testing.T) {
	t.Helper()
	bin := mscliBinary(t)
	if err := exec.Command("docker", "info").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Docker engine under CI=true: %v", err)
		}
		t.Skipf("no Docker engine: %v", err)
	}
	imagesOnce.Do(func() {
		if out, err := exec.Command(bin, "images", "build").CombinedOutput(); err != nil {
			imagesErr = fmt.Errorf("mscli images build: %v\n%s", err, out)
			return
		}
		if exec.Command("docker", "image", "inspect", "mscli/postgres:15-bookworm").Run() != nil &&
			exec.Command("docker", "image", "inspect", "postgres:16-alpine").Run() != nil {
			if out, err := exec.Command(bin, "images", "build", "--postgres").CombinedOutput(); err != nil {
				imagesErr = fmt.Errorf("mscli images build --postgres: %v\n%s", err, out)
			}
		}
	})
	if imagesErr != nil {
		t.Fatal(imagesErr)
	}
}

var (
	imagesOnce sync.Once
	imagesErr  error
)

// kill -9 of mscli mid-run on docker leaves its containers; mscli clean removes them.
func TestCleanAfterKillDocker(t *testing.T) {
	dockerImages(t)
	out := t.TempDir()
	cmd := startRun(t, "docker", out)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	dirs, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(dirs) != 1 {
		t.Fatalf("want one run directory in %s, found %v", out, dirs)
	}
	run := filepath.Base(dirs[0])
	count := func() int {
		n := 0
		for _, kind := range []string{"container ls -a", "network ls", "volume ls"} {
			b, err := exec.Command("docker", append(strings.Fields(kind), "-q", "--filter", "label=mscli.run="+run)...).Output()
			if err != nil {
				t.Fatal(err)
			}
			n += len(strings.Fields(string(b)))
		}
		return n
	}
	if count() == 0 {
		t.Fatal("kill -9 of mscli left nothing behind: nothing for clean to prove")
	}
	// --run: other tests may have containers of their own runs up right now.
	if msg, err := exec.Command(mscliBinary(t), "clean", "--root", out, "--run", run).CombinedOutput(); err != nil {
		t.Fatalf("mscli clean: %v\n%s", err, msg)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d containers, networks and volumes labelled mscli.run left after mscli clean", n)
	}
}

func summary(r *reports.Run) string {
	var b bytes.Buffer
	_ = reports.WriteText(&b, r)
	return b.String()
}

// ^C during a run: exit 130, every child gone.
func TestRunInterrupted(t *testing.T) {
	out := t.TempDir()
	cmd := startRun(t, "local", out)
	time.Sleep(2 * time.Second)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("mscli did not exit within 30s of ^C")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want code 130", err)
	}
	pids := runPids(t, out)
	if len(pids) < 3 {
		t.Fatalf("pid file lists %d processes, want the broker and two replicas", len(pids))
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("pid %d survived the interrupted run", pid)
		}
	}
}

// kill -9 of mscli leaves its children running; `mscli clean` removes them.
func TestCleanAfterKill(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, ".mscli", "runs")
	cmd := startRun(t, "local", out)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	pids := runPids(t, out)
	t.Cleanup(func() {
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	})
	// On Linux the children die with mscli (Pdeathsig); clean must find nothing it
	// cannot remove either way.
	c := exec.Command(mscliBinary(t), "clean", "--root", root)
	msg, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("mscli clean: %v\n%s", err, msg)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range pids {
		for alive(p) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if alive(p) {
			t.Errorf("pid %d still alive after mscli clean:\n%s", p, msg)
		}
	}
	if !strings.Contains(string(msg), "leftover process(es) stopped") {
		t.Errorf("clean did not report what it stopped:\n%s", msg)
	}
}

// mscli check reproduces a recorded run's verdicts; a duplicated effect makes it fail.
func TestCheckRecordedRun(t *testing.T) {
	out := t.TempDir()
	code, res, _ := runBank(t, out)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, summary(res))
	}
	c := exec.Command(mscliBinary(t), "check", res.Dir, "--format", "json")
	b, err := c.Output()
	if err != nil {
		t.Fatalf("check: %v\n%s", err, b)
	}
	var again reports.Run
	if err := json.Unmarshal(b, &again); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(verdicts(&again)) != fmt.Sprint(verdicts(res)) {
		t.Fatalf("check gave %v, the run %v", verdicts(&again), verdicts(res))
	}
	// Duplicate one applied write-model effect by hand.
	path := filepath.Join(res.Dir, "effects.jsonl")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dup string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, `"view":"write"`) && strings.Contains(line, `"kind":"debit"`) {
			dup = line
			break
		}
	}
	if dup == "" {
		t.Fatal("no write-model debit in effects.jsonl")
	}
	if err := os.WriteFile(path, append(data, []byte(dup+"\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	c = exec.Command(mscliBinary(t), "check", res.Dir)
	b, err = c.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("check of the edited run: %v, want exit 1\n%s", err, b)
	}
	if !strings.Contains(string(b), "FAIL") || !strings.Contains(string(b), "idempotent") {
		t.Errorf("check output does not name idempotent failing:\n%s", b)
	}
}

// startRun starts `mscli run bank-idempotency` on testbed tb, recording into out, and
// returns once its workload has begun.
func startRun(t *testing.T, tb, out string) *exec.Cmd {
	t.Helper()
	cmd, working := launchRun(t, tb, out)
	waitWorking(t, cmd, working)
	return cmd
}

// launchRun starts a bank-idempotency run; working is closed when its workload runs.
// The run is killed when the test ends, if it still runs.
func launchRun(t *testing.T, tb, out string) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	r := launch(t, tb, out)
	return r.cmd, r.working
}

// launched is a run under way: its command, a channel closed when its workload runs,
// and what it printed (stdout whole, stderr's lines, both read to the end).
type launched struct {
	cmd     *exec.Cmd
	working chan struct{}
	stdout  bytes.Buffer
	errBuf  bytes.Buffer // stderr, when it is kept whole rather than read by lines
	mu      sync.Mutex
	stderr  []string
	read    sync.WaitGroup // the stderr reader; wait for it before reading stderr
}

// launch starts `mscli run bank-idempotency --testbed tb --out out extra...`.
func launch(t *testing.T, tb, out string, extra ...string) *launched {
	t.Helper()
	r := &launched{working: make(chan struct{})}
	r.cmd = exec.Command(mscliBinary(t), append([]string{"run", "bank-idempotency", "--testbed", tb, "--out", out}, extra...)...)
	r.cmd.Stdout = &r.stdout
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.cmd.Process.Kill() })
	r.read.Add(1)
	go func() {
		defer r.read.Done()
		sc := bufio.NewScanner(stderr)
		closed := false
		for sc.Scan() { // to the end, so the run never blocks on a full pipe
			r.mu.Lock()
			r.stderr = append(r.stderr, sc.Text())
			r.mu.Unlock()
			if !closed && strings.Contains(sc.Text(), " workload ") {
				close(r.working)
				closed = true
			}
		}
	}()
	return r
}

// wait waits for the run's end: its exit code (-1 if it did not exit) and stderr.
func (r *launched) wait() (int, []string) {
	err := r.cmd.Wait()
	r.read.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return code, r.stderr
}

func waitWorking(t *testing.T, cmd *exec.Cmd, working <-chan struct{}) {
	t.Helper()
	select {
	case <-working:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("no workload progress line within 60s")
	}
}

func runPids(t *testing.T, out string) []int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(out, "*", "pids"))
	if len(files) != 1 {
		t.Fatalf("want one run directory with a pid file under %s, found %v", out, files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			if p, err := strconv.Atoi(f[0]); err == nil {
				pids = append(pids, p)
			}
		}
	}
	return pids
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// A zombie has exited; it only waits for its parent.
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}
