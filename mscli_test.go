package mscli

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/internal/testbin"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	testbin.Cleanup()
	os.Exit(code)
}

// localOptions are a real run's on the local testbed, with the mscli binary of the
// tests (testbin: MSCLI_BIN, or one built once) and the progress in the test's log.
func localOptions(t *testing.T, progress io.Writer) Options {
	t.Helper()
	if testing.Short() {
		t.Skip("a run on the local testbed: skipped with -short")
	}
	bin, err := testbin.Path()
	if err != nil {
		t.Fatal(err)
	}
	return Options{Testbed: "local", Seed: 1, Binary: bin, Dir: t.ArtifactDir(),
		Progress: io.MultiWriter(t.Output(), progress), Timeout: 3 * time.Minute}
}

// The catalog's bank scenario, run from Go as `mscli run bank-idempotency` runs it,
// passes every invariant, and its Result says so every way a test asks.
func TestRunFileCatalogScenarioPasses(t *testing.T) {
	var progress bytes.Buffer
	o := localOptions(t, &progress)
	res, err := RunFile(context.Background(), "bank-idempotency", o)
	Require(t, res, err)

	if res.Verdict() != "pass" || !res.Passed() || len(res.Failures()) != 0 {
		t.Errorf("verdict %s, passed %v, failures %q", res.Verdict(), res.Passed(), res.Failures())
	}
	for _, name := range []string{"idempotent", "durable", "conservation", "ordered", "converges"} {
		if r := res.Invariant(name); r.Verdict != invariants.Pass || r.Checked == 0 {
			t.Errorf("%s: %s (%s), %d checked", name, r.Verdict, r.Summary, r.Checked)
		}
	}
	if r := res.Invariant("exactly-twice"); r.Verdict != invariants.Unknown || r.Summary != "not checked in this run" {
		t.Errorf("an invariant the run did not check: %+v", r)
	}
	if res.Scenario != "bank-idempotency" || res.Seed != 1 || res.Testbed != "local" {
		t.Errorf("ran %s seed %d on %s", res.Scenario, res.Seed, res.Testbed)
	}
	if f := res.Faults; f.Planned == 0 || f.Applied != f.Planned || f.Healed != f.Planned {
		t.Errorf("faults %+v: every planned fault applied and healed", f)
	}
	// The run directory is under Options.Dir and holds the record.
	if filepath.Dir(res.Dir) != o.Dir {
		t.Errorf("run directory %s is not in Options.Dir %s", res.Dir, o.Dir)
	}
	rec, err := reports.ReadFile(filepath.Join(res.Dir, "result.json"))
	if err != nil || rec.Verdict != invariants.Pass || len(rec.Results) != len(res.Results) {
		t.Errorf("result.json: %v, %+v", err, rec)
	}
	if s := res.String(); !strings.Contains(s, "verdict: PASS") || !strings.Contains(s, res.Dir) {
		t.Errorf("summary lacks the verdict or the run directory:\n%s", s)
	}
	for _, want := range []string{"testbed: local", " workload ", " faults ", " check ", " down "} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
	rt := &recordingTB{TB: t}
	Require(rt, res, nil)
	if rt.msg != "" {
		t.Errorf("Require failed a passing run: %s", rt.msg)
	}
}

// shortBank is the bank under the faults that make a missing dedup show, built in Go:
// retries through a slow link, commands replayed without their dedup id, a replica
// killed mid-command; ten seconds instead of the catalog scenario's 25.
func shortBank() *scenarios.Scenario {
	s := func(d string) plan.Duration {
		v, err := time.ParseDuration(d)
		if err != nil {
			panic(err)
		}
		return plan.Duration(v)
	}
	w := scenarios.DefaultWorkload()
	w.Clients, w.Rate, w.Timeout = 8, 200, s("300ms")
	w.Retry = plan.Retry{Attempts: 6, Backoff: s("20ms"), Max: s("1s")}
	w.Params = map[string]string{"accounts": "20"}
	return &scenarios.Scenario{
		Name:     "bank-short",
		Duration: s("10s"),
		System: scenarios.System{Broker: "nats", Services: []plan.Service{
			{Name: "bank", Fixture: "bank", Replicas: 2, Observe: plan.Observe{HTTP: scenarios.DefaultObserve}},
		}},
		Workload: w,
		Faults: []scenarios.FaultSpec{
			{At: s("1s"), For: s("3s"), Kind: "latency", Target: "client->bank", Params: map[string]string{"latency": "250ms", "jitter": "100ms"}},
			{At: s("3s"), Kind: "duplicate", Target: "bank.commands", Params: map[string]string{"ratio": "0.2"}},
			{At: s("5s"), Kind: "kill", Target: "bank/0", Params: map[string]string{"restart-after": "1s"}},
		},
		Invariants: []plan.Invariant{{Name: "idempotent"}, {Name: "durable"}, {Name: "converges", Params: map[string]string{"within": "5s"}}},
	}
}

// A known bug switched on from Go is caught by the invariant meant to catch it, with
// a witness; Failures and Require say so.
func TestRunCatchesDoubleApply(t *testing.T) {
	var progress bytes.Buffer
	o := localOptions(t, &progress)
	o.Bugs = []string{"double-apply"}
	res, err := Run(context.Background(), shortBank(), o)
	if err != nil {
		t.Fatalf("run: %v\n%v", err, res)
	}
	idem := res.Invariant("idempotent")
	if res.Verdict() != "fail" || res.Passed() || idem.Verdict != invariants.Fail || len(idem.Witnesses) == 0 || idem.Witnesses[0].Note == "" {
		t.Fatalf("with double-apply: verdict %s, idempotent %s (%s) with %d witnesses\n%s",
			res.Verdict(), idem.Verdict, idem.Summary, len(idem.Witnesses), res)
	}
	if len(res.Bugs) != 1 || res.Bugs[0] != "double-apply" {
		t.Errorf("bugs recorded: %v", res.Bugs)
	}
	var line string
	for _, f := range res.Failures() {
		if strings.HasPrefix(f, "idempotent: fail — ") {
			line = f
		}
	}
	if line == "" || !strings.Contains(line, "first witness: "+idem.Witnesses[0].Note) {
		t.Errorf("Failures() lacks idempotent with its first witness %q:\n%s", idem.Witnesses[0].Note, strings.Join(res.Failures(), "\n"))
	}
	rt := &recordingTB{TB: t}
	Require(rt, res, nil)
	for _, want := range []string{"bank-short seed 1: verdict fail", line, "verdict: FAIL", "run directory: " + res.Dir} {
		if !strings.Contains(rt.msg, want) {
			t.Errorf("Require's message lacks %q:\n%s", want, rt.msg)
		}
	}
}

// recordingTB keeps what Require would fail a test with, instead of failing it.
type recordingTB struct {
	testing.TB
	msg string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
}

// An invalid scenario comes back as the scenarios package reports it — every problem
// at its file:line:col — and nothing starts.
func TestInvalidScenarioIsReportedAtItsPosition(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(file, []byte(`name: bad
duration: 10s
system:
  services:
    bank: {fixture: bank, replicas: 2}
faults:
  - {at: 1s, for: 2s, fault: partition, link: bank->brokr}
invariants: [durable, idempotnet]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	res, err := RunFile(context.Background(), file, Options{Testbed: "local", Dir: root})
	el, ok := err.(scenarios.ErrorList)
	if res != nil || !ok || len(el) != 2 {
		t.Fatalf("got %v, %T %v; want the scenario's ErrorList of two", res, err, err)
	}
	want := file + `:7:47: unknown link "bank->brokr"; did you mean "bank->broker"?` + "\n" +
		file + `:8:23: unknown invariant "idempotnet"; did you mean "idempotent"? (known: ` + strings.Join(plan.InvariantKindNames(), ", ") + ")"
	if err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	if runner.CodeOf(err) != runner.ExitInvalidInput {
		t.Errorf("exit code %d, want %d", runner.CodeOf(err), runner.ExitInvalidInput)
	}
	assertEmpty(t, root)

	// Built in Go: the same checks, naming paths.
	s := shortBank()
	s.Faults[0].Target = "client->bnak"
	if _, err := Run(context.Background(), s, Options{Testbed: "local", Dir: root}); err == nil ||
		err.Error() != `scenario: faults[0].target: unknown link "client->bnak"; did you mean "client->bank"?` {
		t.Errorf("built in Go: %v", err)
	}
	if _, err := Run(context.Background(), nil, Options{Dir: root}); runner.CodeOf(err) != runner.ExitInvalidInput {
		t.Errorf("no scenario: %v", err)
	}
	// A missing file and an unknown testbed are invalid input too.
	_, err = RunFile(context.Background(), filepath.Join(root, "missing.yaml"), Options{Dir: root})
	if !errors.Is(err, fs.ErrNotExist) || runner.CodeOf(err) != runner.ExitInvalidInput {
		t.Errorf("missing file: %v (exit %d)", err, runner.CodeOf(err))
	}
	_, err = RunFile(context.Background(), "bank-idempotency", Options{Testbed: "lokal", Dir: root})
	if err == nil || !strings.Contains(err.Error(), `unknown testbed "lokal"`) || runner.CodeOf(err) != runner.ExitInvalidInput {
		t.Errorf("unknown testbed: %v", err)
	}
	assertEmpty(t, root)
}

// A bug no service of the scenario knows is refused before anything starts — before
// the binary is even looked for.
func TestUnknownBugIsRefused(t *testing.T) {
	root := t.TempDir()
	res, err := RunFile(context.Background(), "bank-idempotency", Options{
		Testbed: "local", Dir: root, Bugs: []string{"double-aply"}, Binary: filepath.Join(root, "no-such-binary")})
	var re *runner.Error
	if res != nil || !errors.As(err, &re) || re.Code != runner.ExitInvalidInput {
		t.Fatalf("got %v, %v; want invalid input", res, err)
	}
	for _, want := range []string{`"double-aply"`, "bank-idempotency", "known: ", "double-apply"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	assertEmpty(t, root)
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%s holds %d entries: something started", dir, len(ents))
	}
}

// script writes an executable shell script.
func script(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// Options.Binary comes first, then MSCLI_BIN; either is made absolute and checked,
// never run.
func TestBinaryGivenIsHonoured(t *testing.T) {
	dir := t.TempDir()
	a := script(t, filepath.Join(dir, "a"), "exit 1")
	b := script(t, filepath.Join(dir, "b"), "exit 1")
	t.Setenv("MSCLI_BIN", b)
	ctx := context.Background()
	if got, err := FindBinary(ctx, Options{Binary: a}); got != a || err != nil {
		t.Errorf("Options.Binary: %q, %v; want %q", got, err, a)
	}
	if got, err := FindBinary(ctx, Options{}); got != b || err != nil {
		t.Errorf("MSCLI_BIN: %q, %v; want %q", got, err, b)
	}
	t.Chdir(dir)
	t.Setenv("MSCLI_BIN", "b")
	if got, err := FindBinary(ctx, Options{}); got != b || err != nil {
		t.Errorf("relative MSCLI_BIN: %q, %v; want %q", got, err, b)
	}
	if err := os.WriteFile(filepath.Join(dir, "plain"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ binary, env, want string }{
		{"", filepath.Join(dir, "missing"), "MSCLI_BIN=" + filepath.Join(dir, "missing") + ": stat "},
		{dir, "", "Options.Binary=" + dir + ": a directory, not a binary"},
		{"plain", "", "Options.Binary=plain: not executable"},
	} {
		t.Setenv("MSCLI_BIN", c.env)
		_, err := FindBinary(ctx, Options{Binary: c.binary})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || !strings.HasSuffix(err.Error(), fix) ||
			runner.CodeOf(err) != runner.ExitInvalidInput {
			t.Errorf("%+v: %v; want %q … %q", c, err, c.want, fix)
		}
	}
}

// The binary FindBinary picks is the one the testbed runs the node roles from: a
// stand-in that records its arguments and exits is asked for the broker, and the run
// fails to start, recorded, with the testbed brought down.
func TestBinaryReachesTheTestbed(t *testing.T) {
	for _, via := range []string{"Options.Binary", "MSCLI_BIN"} {
		t.Run(via, func(t *testing.T) {
			dir := t.TempDir()
			calls := filepath.Join(dir, "calls")
			bin := script(t, filepath.Join(dir, "fake-mscli"), `echo "$@" >> '`+calls+`'; exit 3`)
			o := Options{Testbed: "local", Dir: filepath.Join(dir, "runs"), Timeout: time.Minute}
			if via == "MSCLI_BIN" {
				t.Setenv("MSCLI_BIN", bin)
			} else {
				t.Setenv("MSCLI_BIN", "")
				o.Binary = bin
			}
			res, err := Run(context.Background(), shortBank(), o)
			if err == nil || runner.CodeOf(err) != runner.ExitCouldNotRun || res == nil || res.Error == "" {
				t.Fatalf("got %v, %v; want a run that could not start its testbed", res, err)
			}
			got, _ := os.ReadFile(calls)
			if !strings.HasPrefix(string(got), "fixture broker ") {
				t.Errorf("the binary was asked %q, want the broker role", got)
			}
			if res.Verdict() != "unknown" || res.Passed() || !strings.HasPrefix(res.Failures()[len(res.Failures())-1], "error: ") {
				t.Errorf("verdict %s, failures %q", res.Verdict(), res.Failures())
			}
			if _, err := os.Stat(filepath.Join(res.Dir, "result.json")); err != nil {
				t.Errorf("no record of the failed start: %v", err)
			}
		})
	}
}

// An mscli on the PATH is used when `mscli version` answers as mscli, and passed over
// when it does not; with nothing else, the failed build says how to do without one.
// The build also removes what builds of processes that have exited left behind.
func TestBinaryOnThePathMustAnswer(t *testing.T) {
	forgetBuilt(t)
	gone := exec.Command("true") // a process that has exited
	if err := gone.Run(); err != nil {
		t.Skipf("no true(1): %v", err)
	}
	dir := t.TempDir()
	t.Setenv("MSCLI_BIN", "")
	t.Setenv("PATH", dir)
	mscli := script(t, filepath.Join(dir, "mscli"), `[ "$1" = version ] && echo "mscli v9.9.9 (test)"`)
	var progress bytes.Buffer
	got, err := FindBinary(context.Background(), Options{Progress: &progress})
	if got != mscli || err != nil || !strings.Contains(progress.String(), "mscli v9.9.9 (test), found on the PATH") {
		t.Fatalf("%q, %v (progress %q); want the mscli on the PATH", got, err, progress.String())
	}

	left := filepath.Join(os.TempDir(), tempPrefix+strconv.Itoa(gone.Process.Pid)+"-left")
	if err := os.MkdirAll(left, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(left) })
	script(t, mscli, `echo "usage: something else"; exit 2`)
	got, err = FindBinary(context.Background(), Options{})
	if got != "" || err == nil || !strings.Contains(err.Error(), "go build "+commandPath) || !strings.Contains(err.Error(), fix) {
		t.Fatalf("%q, %v; want the build (no go on this PATH) to fail naming the fix", got, err)
	}
	if _, err := os.Stat(left); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the build directory of exited process %d is still there: %v", gone.Process.Pid, err)
	}
}

// forgetBuilt makes the next FindBinary build again, as in a fresh process.
func forgetBuilt(t *testing.T) {
	t.Helper()
	Cleanup()
	built.Lock()
	built.path = ""
	built.Unlock()
}

// With no binary given and none on the PATH, FindBinary builds one, static, once per
// process (a test binary's build info has no version to cache it by), and Cleanup
// removes it.
func TestBinaryIsBuiltOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/mscli: skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go on the PATH")
	}
	forgetBuilt(t)
	t.Setenv("MSCLI_BIN", "")
	t.Setenv("PATH", filepath.Dir(goBin))
	if _, err := exec.LookPath("mscli"); err == nil {
		t.Skip("an mscli lies beside go: FindBinary would take it")
	}
	var progress bytes.Buffer
	ctx := context.Background()
	bin, err := FindBinary(ctx, Options{Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "building the mscli binary for the node roles (once) …") {
		t.Errorf("no progress line while building:\n%s", progress.String())
	}
	if out, err := exec.Command(bin, "version").Output(); err != nil || !strings.HasPrefix(string(out), "mscli ") {
		t.Errorf("%s version: %q, %v", bin, out, err)
	}
	if runtime.GOOS == "linux" {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked: it cannot run in a FROM-scratch image", bin)
			}
		}
		f.Close()
	}
	progress.Reset()
	if again, err := FindBinary(ctx, Options{Progress: &progress}); again != bin || err != nil || progress.Len() != 0 {
		t.Errorf("second call: %q, %v, progress %q; want %q without building", again, err, progress.String(), bin)
	}
	Cleanup()
	if _, err := os.Stat(bin); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Cleanup left %s: %v", bin, err)
	}
}

// The cache key is the mscli module's version; a source the version does not fix is
// built per process.
func TestBinaryBuildKey(t *testing.T) {
	dep := func(v string, r *debug.Module) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "example.com/shop", Version: "(devel)"},
			Deps: []*debug.Module{{Path: "github.com/other/x", Version: "v1.0.0"}, {Path: modulePath, Version: v, Replace: r}}}
	}
	main := func(v string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: v}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	for _, c := range []struct {
		name      string
		bi        *debug.BuildInfo
		key, ver  string
		cacheable bool
	}{
		{"a required version", dep("v0.4.0", nil), "v0.4.0", "v0.4.0", true},
		{"a pseudo-version", dep("v0.0.0-20260102150405-abcdef123456", nil), "v0.0.0-20260102150405-abcdef123456", "v0.0.0-20260102150405-abcdef123456", true},
		{"replaced by a directory", dep("v0.4.0", &debug.Module{Path: "../mscli", Version: "(devel)"}), "", "", false},
		{"replaced by a directory, no version", dep("v0.4.0", &debug.Module{Path: "../mscli"}), "", "", false},
		{"replaced by a fork's version", dep("v0.4.0", &debug.Module{Path: "github.com/fork/mscli", Version: "v0.4.1"}), "v0.4.1-", "v0.4.1", true},
		{"the main module, a clean checkout", main("(devel)", "vcs.revision", "0123456789abcdef", "vcs.modified", "false"), "rev-0123456789abcdef", "devel-0123456789ab", true},
		{"the main module, modified", main("(devel)", "vcs.revision", "0123456789abcdef", "vcs.modified", "true"), "", "", false},
		{"the main module, a test binary", main("(devel)"), "", "", false},
		{"the main module, a dirty pseudo-version", main("v0.4.1-0.20260102150405-abcdef123456+dirty"), "", "", false},
		{"the main module, tagged", main("v0.5.0"), "v0.5.0", "v0.5.0", true},
		{"no mscli module", &debug.BuildInfo{Main: debug.Module{Path: "example.com/shop"}}, "", "", false},
		{"no build info", nil, "", "", false},
	} {
		key, ver, ok := buildKey(c.bi)
		if ok != c.cacheable || ver != c.ver || !strings.HasPrefix(key, c.key) || !ok && key != "" || strings.ContainsAny(key, `/\ `) {
			t.Errorf("%s: %q, %q, %v; want %q…, %q, %v", c.name, key, ver, ok, c.key, c.ver, c.cacheable)
		}
	}
	a, _, _ := buildKey(dep("v0.4.0", &debug.Module{Path: "github.com/fork/mscli", Version: "v0.4.1"}))
	b, _, _ := buildKey(dep("v0.4.0", &debug.Module{Path: "github.com/other-fork/mscli", Version: "v0.4.1"}))
	if a == b {
		t.Errorf("two forks at one version share the key %q", a)
	}
}
