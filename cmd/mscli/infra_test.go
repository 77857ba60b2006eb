package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
)

// Infrastructure faults under a run: each ends with exit 3, a one-line cause, the
// failing node's log tail where a node failed, nothing of the run left running, no
// result.json that says pass, and a run directory `mscli check` calls incomplete.

// infraRun is one finished mscli run of a scenario file.
type infraRun struct {
	code           int
	stdout, stderr string
	dir            string // the run directory
}

// runID is the run's id: its directory's name, on every process and container.
func (r *infraRun) runID() string { return filepath.Base(r.dir) }

// infraScenario writes a scenario into a temporary folder and returns its path.
func infraScenario(t *testing.T, yaml string) string { return writeScenario(t, yaml) }

// infraScenarioYAML is a short scenario: one service of the user's, driven over HTTP
// for duration, its probe and workload on /healthz; more goes under the service.
func infraScenarioYAML(duration, service string) string {
	return `name: infra
duration: ` + duration + `
system:
  services:
    app:
` + service + `
workload:
  kind: http
  service: app
  rate: 50
  clients: 2
  operations:
    - {name: ping, path: /healthz}
invariants: [idempotent]
`
}

// runInfra runs mscli with args and env added, in the run folder out, and finds the
// run directory it made.
func runInfra(t *testing.T, out string, env []string, args ...string) *infraRun {
	t.Helper()
	r := &infraRun{}
	r.code, r.stdout, r.stderr = runMscli(t, env, append(args, "--out", out, "--format", "json", "--no-tui")...)
	r.dir = runDirIn(t, out)
	return r
}

// runDirIn is the one run directory under out.
func runDirIn(t *testing.T, out string) string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(out, "*", runner.PlanFile))
	if len(dirs) != 1 {
		t.Fatalf("want one run directory under %s, found %v", out, dirs)
	}
	return filepath.Dir(dirs[0])
}

// causeLine is the "mscli: …" line of stderr: the one-line cause.
func causeLine(t *testing.T, stderr string) string {
	t.Helper()
	for line := range strings.SplitSeq(stderr, "\n") {
		if strings.HasPrefix(line, "mscli: ") {
			return line
		}
	}
	t.Fatalf("no one-line cause (mscli: …) on stderr:\n%s", stderr)
	return ""
}

// couldNotRun checks what every infrastructure fault ends with: exit 3, a cause line
// holding each of want, no result.json that says pass, nothing of the run left running,
// and `mscli check` calling the run directory incomplete.
func couldNotRun(t *testing.T, r *infraRun, want ...string) {
	t.Helper()
	if r.code != int(runner.ExitCouldNotRun) {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, runner.ExitCouldNotRun, r.stdout, r.stderr)
	}
	line := causeLine(t, r.stderr)
	for _, w := range want {
		if !strings.Contains(line, w) {
			t.Errorf("the cause %q does not say %q\nstderr:\n%s", line, w, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "panic:") {
		t.Errorf("mscli panicked:\n%s", r.stderr)
	}
	if res, err := reports.ReadFile(filepath.Join(r.dir, runner.ResultFile)); err == nil {
		if reports.RunVerdict(res) == invariants.Pass || res.Verdict == invariants.Pass || res.Incomplete == "" {
			t.Errorf("result.json: verdict %q, incomplete %q: want no pass, and incomplete", res.Verdict, res.Incomplete)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("result.json is unreadable: %v", err)
	}
	if pids := runProcesses(r.runID()); len(pids) > 0 {
		t.Errorf("processes of run %s still run: %v", r.runID(), pids)
	}
	checkIncomplete(t, r.dir)
}

// checkIncomplete runs mscli check on a run directory: never a pass, exit 2, and its
// result says why the records are partial.
func checkIncomplete(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command(mscliBinary(t), "check", dir, "--format", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != int(runner.ExitInconclusive) {
		t.Fatalf("mscli check %s: %v, want exit 2\nstdout:\n%s\nstderr:\n%s", dir, err, stdout.String(), stderr.String())
	}
	var res reports.Run
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("mscli check: %v\n%s", err, stdout.String())
	}
	if res.Verdict == invariants.Pass || !strings.Contains(res.Incomplete, "cut short") {
		t.Errorf("mscli check: verdict %s, incomplete %q: want unknown, and cut short", res.Verdict, res.Incomplete)
	}
	out, _ := exec.Command(mscliBinary(t), "check", dir).Output()
	if !strings.Contains(string(out), "cut short") {
		t.Errorf("mscli check's text does not say the run was cut short:\n%s", out)
	}
}

// runProcesses are the live processes that carry the run's id (MSCLI_RUN, which the
// local testbed gives every node).
func runProcesses(run string) []string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if bytes.Contains(b, []byte("MSCLI_RUN="+run+"\x00")) {
			stat, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "stat"))
			if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
				continue // a zombie runs nothing
			}
			out = append(out, filepath.Base(filepath.Dir(p)))
		}
	}
	return out
}

// A user's node that dies as it starts, on the local testbed: its last words are
// shown, and nothing else of the run is left running.
func TestInfraNodeExitsAtStartLocal(t *testing.T) {
	mscliBinary(t)
	file := infraScenario(t, infraScenarioYAML("2s", `      command: ["sh", "-c", "echo starting; echo boom >&2; exit 1"]
      port: 8080`))
	r := runInfra(t, t.TempDir(), nil, "run", file, "--testbed", "local")
	couldNotRun(t, r, "app/0", "exited while starting")
	if !strings.Contains(r.stderr, "\nboom") {
		t.Errorf("the node's log tail (boom) is not shown:\n%s", r.stderr)
	}
}

// The service's port is taken by another listener: the node dies on it, and says so.
func TestInfraPortTakenLocal(t *testing.T) {
	mscliBinary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	app := userAppBinary(t)
	file := infraScenario(t, infraScenarioYAML("2s", fmt.Sprintf(`      command: [%q]
      port: 8080
      ready: {http: /healthz}
      env: {PORT: "%s"}`, app, port)))
	r := runInfra(t, t.TempDir(), nil, "run", file, "--testbed", "local")
	couldNotRun(t, r, "app/0", "exited while starting")
	if !strings.Contains(r.stderr, "address already in use") {
		t.Errorf("the node's log tail (address already in use) is not shown:\n%s", r.stderr)
	}
}

// userAppBinary builds the docker testbed's test service (HTTP on $PORT, /healthz;
// $USERAPP_FAIL: print it and exit 1), static.
func userAppBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "userapp")
	cmd := exec.Command("go", "build", "-o", bin, "../../testbed/docker/testdata/userapp")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build userapp: %v\n%s", err, out)
	}
	return bin
}

// The run directory's disk fills mid-run (a small tmpfs): exit 3 with the cause, not a
// panic and not a verdict.
func TestInfraDiskFullLocal(t *testing.T) {
	mscliBinary(t)
	app := userAppBinary(t)
	out := t.TempDir()
	// Room for the start (plan, logs, the broker's files), not for 3s of history at
	// 300 ops/s (~90 KB).
	if err := syscall.Mount("tmpfs", out, "tmpfs", 0, "size=96k"); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("cannot mount a tmpfs here (%v): the full disk is not tested", err)
		}
		t.Fatalf("mount a tmpfs on %s: %v", out, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(out, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", out, err)
		}
	})
	yaml := strings.Replace(infraScenarioYAML("3s", fmt.Sprintf(`      command: [%q]
      port: 8080
      ready: {http: /healthz}`, app)), "rate: 50", "rate: 300", 1)
	r := runInfra(t, out, nil, "run", infraScenario(t, yaml), "--testbed", "local")
	couldNotRun(t, r, "no space left on device")
}

// A user's container that dies as it starts, on the docker testbed: its last words are
// shown, and no container of the run is left.
func TestInfraNodeExitsAtStartDocker(t *testing.T) {
	dockerImages(t)
	image := userAppImage(t)
	file := infraScenario(t, infraScenarioYAML("2s", fmt.Sprintf(`      image: %s
      port: 8080
      ready: {http: /healthz}
      env: {USERAPP_FAIL: boom}`, image)))
	r := runInfra(t, t.TempDir(), nil, "run", file, "--testbed", "docker")
	t.Cleanup(func() { removeLabelled(t, r.runID()) })
	couldNotRun(t, r, "app/0", "exited")
	if !strings.Contains(r.stderr, "\nboom") {
		t.Errorf("the container's log tail (boom) is not shown:\n%s", r.stderr)
	}
	if left := labelledResources(t, r.runID()); len(left) > 0 {
		t.Errorf("the run left %v", left)
	}
}

// userAppImage builds userapp into an image FROM scratch (no registry), removed when
// the test ends.
func userAppImage(t *testing.T) string {
	t.Helper()
	bin := userAppBinary(t)
	ref := fmt.Sprintf("mscli-test-infra:t%d", time.Now().UnixNano())
	df := "FROM scratch\nCOPY userapp /userapp\nENTRYPOINT [\"/userapp\"]\n"
	if err := os.WriteFile(filepath.Join(filepath.Dir(bin), "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("docker", "build", "-q", "-t", ref, filepath.Dir(bin)).CombinedOutput(); err != nil {
		t.Fatalf("docker build %s: %v\n%s", ref, err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "image", "rm", "-f", ref).Run() })
	return ref
}

// labelledResources are the containers and networks of a run, through the engine's
// own socket.
func labelledResources(t *testing.T, run string) []string {
	t.Helper()
	var left []string
	for _, kind := range []string{"container", "network", "volume"} {
		args := []string{kind, "ls", "-q", "--filter", "label=mscli.run=" + run}
		if kind == "container" {
			args = []string{"container", "ls", "-aq", "--filter", "label=mscli.run=" + run}
		}
		cmd := exec.Command("docker", args...)
		cmd.Env = append(os.Environ(), "DOCKER_HOST=")
		b, err := cmd.Output()
		if err != nil {
			t.Errorf("docker %v: %v", args, err)
			continue
		}
		for _, id := range strings.Fields(string(b)) {
			left = append(left, kind+" "+id)
		}
	}
	return left
}

// removeLabelled removes what a run of this test left, so the engine stays clean.
func removeLabelled(t *testing.T, run string) {
	for _, r := range labelledResources(t, run) {
		kind, id, _ := strings.Cut(r, " ")
		exec.Command("docker", kind, "rm", "-f", id).Run()
	}
}

// socketForwarder stands in for the Docker engine's socket: each connection to path
// is carried to the real one. cut closes the listener and every connection, as an
// engine that stops; restore listens again, as one that came back.
type socketForwarder struct {
	path, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func (f *socketForwarder) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.ln = ln
	f.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.carry(c)
		}
	}()
}

func (f *socketForwarder) carry(c net.Conn) {
	up, err := net.Dial("unix", f.target)
	if err != nil {
		c.Close()
		return
	}
	f.mu.Lock()
	if f.ln == nil { // cut meanwhile
		f.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	f.conns[c], f.conns[up] = true, true
	f.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

func (f *socketForwarder) cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		f.ln.Close() // removes the socket file
		f.ln = nil
	}
	for c := range f.conns {
		c.Close()
		delete(f.conns, c)
	}
}

// The Docker engine goes away mid-run and comes back a few seconds later (its socket,
// through a forwarder this test cuts and restores; the real engine is shared and never
// stopped): the run stops at once with exit 3 and the cause, and its cleanup, which
// asks the engine again until it answers, removes the run's containers once it is back.
func TestInfraDockerEngineGoesAway(t *testing.T) {
	dockerImages(t)
	image := userAppImage(t)
	target := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		if !strings.HasPrefix(h, "unix://") {
			t.Skipf("DOCKER_HOST=%s is no unix socket to forward", h)
		}
		target = strings.TrimPrefix(h, "unix://")
	}
	sock, err := os.MkdirTemp("", "mscli-engine-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sock) })
	fw := &socketForwarder{path: filepath.Join(sock, "docker.sock"), target: target, conns: map[net.Conn]bool{}}
	fw.restore(t)
	t.Cleanup(fw.cut)

	file := infraScenario(t, infraScenarioYAML("30s", fmt.Sprintf(`      image: %s
      port: 8080
      ready: {http: /healthz}`, image)))
	out := t.TempDir()
	cmd := exec.Command(mscliBinary(t), "run", file, "--testbed", "docker", "--out", out, "--format", "json", "--no-tui")
	// testcontainers-go reads the engine's address from ~/.testcontainers.properties'
	// tc.host first, then DOCKER_HOST; this machine's user has no such file.
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+fw.path, "DOCKER_CONTEXT=")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	working := make(chan struct{})
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pipe)
		once := sync.Once{}
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), " workload ") {
				once.Do(func() { close(working) })
			}
		}
	}()
	select {
	case <-working:
	case <-scanned:
		cmd.Wait()
		t.Fatalf("the run ended before its workload:\n%s", stderr.String())
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the run did not reach its workload in 2 minutes")
	}
	run := filepath.Base(runDirIn(t, out))
	t.Cleanup(func() { removeLabelled(t, run) })

	time.Sleep(time.Second) // the workload runs
	fw.cut()
	cutAt := time.Now()
	// The engine is back after a few seconds: by then the run has seen it gone.
	time.Sleep(6 * time.Second)
	fw.restore(t)
	<-scanned
	err = cmd.Wait()
	ended := time.Since(cutAt)
	r := &infraRun{stdout: stdout.String(), stderr: stderr.String(), dir: filepath.Join(out, run)}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	}
	t.Logf("mscli's stderr:\n%s", r.stderr)
	couldNotRun(t, r, "Docker engine stopped answering")
	if ended > 25*time.Second {
		t.Errorf("the run went on %s after the engine went away; its workload had 30s", ended.Round(time.Second))
	}
	if !strings.Contains(r.stderr, "removing the run's containers once it does") || !strings.Contains(r.stderr, "testbed down") {
		t.Errorf("the cleanup did not wait for the engine and bring the testbed down:\n%s", r.stderr)
	}
	if left := labelledResources(t, run); len(left) > 0 {
		t.Errorf("the run's cleanup left %v once the engine was back", left)
	}
}
