// Package mscli runs mscli scenarios from Go, so that a service's own `go test` can
// gate it: Run or RunFile does what `mscli run` does — validate the scenario, plan it
// from the seed, start the system on a testbed, drive the workload while the faults
// are applied, heal, wait for the read models, check the invariants, write the run
// directory and always bring the testbed down — and returns a Result to assert on.
//
// A complete test of a user's service (its scenario in testdata/orders.yaml runs the
// service's binary with `command:` on the local testbed):
//
//	package orders_test
//
//	import (
//		"context"
//		"testing"
//		"time"
//
//		"github.com/mscli/mscli"
//	)
//
//	func TestOrdersUnderChaos(t *testing.T) {
//		if testing.Short() {
//			t.Skip("starts a broker, PostgreSQL and the service: skipped with -short")
//		}
//		opts := mscli.Options{
//			Testbed:  "local",
//			Seed:     1,
//			Progress: t.Output(), // timestamped progress lines in the test's log
//			Timeout:  5 * time.Minute,
//		}
//		res, err := mscli.RunFile(context.Background(), "testdata/orders.yaml", opts)
//		mscli.Require(t, res, err) // the summary and the run directory unless it passed
//
//		// The scenario claims its invariants catch the service's known bug: hold it to that.
//		opts.Bugs = []string{"no-dedup"}
//		res, err = mscli.RunFile(context.Background(), "testdata/orders.yaml", opts)
//		if err != nil {
//			t.Fatal(err)
//		}
//		if got := res.Invariant("idempotent"); got.Verdict != "fail" {
//			t.Fatalf("with no-dedup, idempotent is %s (%s), want fail\n%s", got.Verdict, got.Summary, res)
//		}
//	}
//
// # The binary for the node roles
//
// The testbeds run the broker and the fixtures as roles of the mscli binary (`mscli
// fixture broker`; the docker testbed puts the binary into a FROM-scratch image), and
// the test binary running the test has none of them. FindBinary finds one, in this
// order: Options.Binary; $MSCLI_BIN; an mscli on the PATH that answers `mscli
// version`; else it builds one, static, from the mscli module the test's go.mod
// requires (see FindBinary). That build needs mscli's command in the module graph:
// run `go get -tool github.com/mscli/mscli/cmd/mscli` once in the service's module, or
// point MSCLI_BIN at an mscli binary.
//
// # Plugging in
//
// A test can add its own workload kind, invariant, fault kind, fixture or testbed
// through the registries the built-in ones use; RegisterWorkload, RegisterInvariant,
// RegisterFault, RegisterFixture and RegisterTestbed are those registries' Register
// functions under one roof (docs/architecture.md, "Plugging in"). Register in an init
// function: a scenario can name the plug-in from then on. The workload, the checkers
// and the fault scheduler run in the test's own process, so a registered workload
// kind, invariant or fault kind takes part in the runs at once. A fixture's nodes run
// as `<binary> fixture <name>`, so a registered fixture runs only on a testbed that
// starts it or from a binary that has that role; a service of one's own is a
// `command:` (local testbed) or `image:` (docker) service and needs no registration.
package mscli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
	"github.com/mscli/mscli/testbed"
	"github.com/mscli/mscli/workload"
)

// Options configure a run. The zero value runs on the best testbed available with
// seed 1, silently, recording under a fresh temporary directory.
type Options struct {
	// Testbed is where the system runs: "auto" (the default: docker when an engine
	// answers, else local), "local", "docker", or a registered testbed's name.
	Testbed string
	// Seed draws the fault timeline and the operations; 0 means 1, as `mscli run`.
	Seed int64
	// Bugs are known bugs of the scenario's services to switch on (--inject-bug); a
	// name no service declares is refused before anything starts.
	Bugs []string
	// Dir is the folder that receives the run directory (Result.Dir). Empty means a
	// fresh directory under os.TempDir() for this run alone, kept so that a failed run
	// can be looked at; t.ArtifactDir() (kept with go test -artifacts) ties it to a
	// test. Run as root, the local testbed runs PostgreSQL (database: postgres) as the
	// postgres user, who must be able to reach the run directory: not under a test's
	// t.TempDir(), whose directories are private (0700).
	Dir string
	// Binary is the mscli binary the testbeds run the node roles from; empty means
	// FindBinary's search.
	Binary string
	// Progress receives the run's timestamped progress lines (runner.ProgressLines),
	// building the binary included; nil is silent.
	Progress io.Writer
	// Timeout bounds the run, from starting the testbed to the verdicts; finding or
	// building the binary is bounded by the context alone. 0 means no bound but ctx.
	Timeout time.Duration
}

func (o Options) seed() int64 {
	if o.Seed == 0 {
		return 1
	}
	return o.Seed
}

func (o Options) testbed() string {
	if o.Testbed == "" {
		return "auto"
	}
	return o.Testbed
}

// progress is the runner's event sink for o.Progress, nil when it is nil.
func (o Options) progress() func(runner.Event) {
	if o.Progress == nil {
		return nil
	}
	return runner.ProgressLines(o.Progress)
}

// note sends one progress line of the preparations (At 0: the run has not begun).
func note(progress func(runner.Event), phase runner.Phase, format string, args ...any) {
	if progress != nil {
		progress(runner.Event{Phase: phase, Msg: fmt.Sprintf(format, args...)})
	}
}

// RunFile runs the scenario in a file — or a built-in scenario by name
// ("bank-idempotency", see `mscli list`), as `mscli run` takes it. A scenario with
// problems returns its scenarios.ErrorList as it is: each line is file:line:col and
// what is wrong there.
func RunFile(ctx context.Context, path string, o Options) (*Result, error) {
	s, err := scenarios.Find(path)
	if err != nil {
		if el := scenarios.ErrorList(nil); errors.As(err, &el) {
			return nil, err
		}
		return nil, &runner.Error{Code: runner.ExitInvalidInput, Err: err}
	}
	return Run(ctx, s, o)
}

// Run runs a scenario — one loaded with scenarios.Load or built in Go — as `mscli run`
// does. Nothing starts unless the scenario is valid (its scenarios.ErrorList is
// returned as it is), the bugs are known to its services, the testbed is known and can
// apply every fault; those errors are a *runner.Error with ExitInvalidInput, and
// runner.CodeOf maps any error to the exit code `mscli run` would give.
//
// An error from the run itself (the testbed did not start, the context was cancelled,
// the Timeout passed) comes with the Result of what was recorded, when a run
// directory was made. A run that completed returns a nil error whatever its verdict:
// ask the Result. The testbed is brought down on every path.
func Run(ctx context.Context, s *scenarios.Scenario, o Options) (*Result, error) {
	if s == nil {
		return nil, runner.InvalidInput("mscli.Run: no scenario")
	}
	pl, err := s.Plan(o.seed())
	if err != nil {
		return nil, err
	}
	// A scenario built in Go runs its commands where the test runs (a loaded one, in
	// its file's folder).
	if wd, err := os.Getwd(); err == nil {
		for i, svc := range pl.Topology.Services {
			if len(svc.Command) > 0 && svc.Dir == "" {
				pl.Topology.Services[i].Dir = wd
			}
		}
	}
	if err := runner.CheckBugs(pl, o.Bugs); err != nil {
		return nil, err
	}
	name, tb, why, err := runner.PickTestbedFor(o.testbed(), pl)
	if err != nil {
		return nil, err
	}
	// A fault this testbed cannot apply is refused now, not recorded as failed later.
	if err := s.CheckTestbed(name); err != nil {
		return nil, err
	}
	progress := o.progress()
	note(progress, runner.PhaseTestbed, "%s", why)
	bin, err := FindBinary(ctx, o)
	if err != nil {
		return nil, err
	}
	root := o.Dir
	if root == "" {
		if root, err = os.MkdirTemp("", "mscli-runs-"); err != nil {
			return nil, runner.CouldNotRun(err)
		}
		// MkdirTemp's 0700 would keep out the postgres user the local testbed runs
		// PostgreSQL as when this process is root.
		if err := os.Chmod(root, 0o755); err != nil {
			return nil, runner.CouldNotRun(err)
		}
	}
	rctx := ctx
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	res, err := runner.Run(rctx, pl, runner.Options{
		Root:        root,
		TestbedName: name,
		Testbed:     tb,
		Bugs:        o.Bugs,
		Binary:      bin,
		Source:      s.Source,
		Progress:    progress,
	})
	if err != nil && ctx.Err() == nil && errors.Is(rctx.Err(), context.DeadlineExceeded) {
		err = runner.CouldNotRun(fmt.Errorf("run of %s did not finish within Options.Timeout (%s): %w", pl.Scenario, o.Timeout, err))
	}
	if res == nil {
		return nil, err
	}
	return &Result{Run: res}, err
}

// Result is a run's result record (reports.Run, the run directory's result.json) with
// what a test asks of it. Its fields are the record's — Dir is the run directory,
// Results every invariant's result — except Verdict, which is the method: the field is
// r.Run.Verdict.
type Result struct {
	*reports.Run
}

// Verdict is the run's verdict, "pass", "fail" or "unknown", as `mscli run` folds it
// (reports.RunVerdict): a violated invariant fails the run; an unknown invariant, a
// planned fault that failed to apply or heal, no invariant checked, or a run that
// could not finish leave it unknown.
func (r *Result) Verdict() string {
	if r == nil || r.Run == nil {
		return string(invariants.Unknown)
	}
	v := reports.RunVerdict(r.Run)
	if r.Error != "" && v == invariants.Pass {
		v = invariants.Unknown
	}
	return string(v)
}

// Passed says whether the run passed: every invariant held, with every planned fault
// applied and healed (exit 0 from `mscli run`).
func (r *Result) Passed() bool { return r.Verdict() == string(invariants.Pass) }

// Invariant is the named invariant's result. An invariant the run did not check comes
// back unknown, with a summary that says so.
func (r *Result) Invariant(name string) invariants.Result {
	if r != nil && r.Run != nil {
		for _, res := range r.Results {
			if res.Name == name {
				return res
			}
		}
	}
	return invariants.Result{Name: name, Verdict: invariants.Unknown, Summary: "not checked in this run"}
}

// Failures says, one line each, why the run did not pass: every failed or unknown
// invariant with its summary and first witness, every planned fault that failed to
// apply or heal, and the error that stopped the run. It is empty for a pass.
func (r *Result) Failures() []string {
	if r == nil || r.Run == nil {
		return []string{"no run"}
	}
	var out []string
	for _, res := range r.Results {
		if res.Verdict == invariants.Pass {
			continue
		}
		line := fmt.Sprintf("%s: %s — %s", res.Name, res.Verdict, res.Summary)
		if len(res.Witnesses) > 0 {
			line += "; first witness: " + witnessLine(res.Witnesses[0])
		}
		out = append(out, line)
	}
	for _, f := range r.FaultFailures {
		out = append(out, "fault "+f.Line())
	}
	if r.Error != "" {
		out = append(out, "error: "+r.Error)
	}
	if len(out) == 0 && !r.Passed() {
		out = append(out, reports.VerdictReason(r.Run))
	}
	return out
}

// witnessLine is a witness on one line: its note, what it is about, and the faults
// active at the time.
func witnessLine(w invariants.Witness) string {
	var about []string
	for _, part := range []struct{ label, val string }{{"op", w.ID}, {"key", w.Key}, {"view", w.View}} {
		if part.val != "" && !strings.Contains(w.Note, part.val) {
			about = append(about, part.label+" "+part.val)
		}
	}
	s := w.Note
	if len(about) > 0 {
		s += " (" + strings.Join(about, ", ") + ")"
	}
	if len(w.Faults) > 0 {
		faults := make([]string, len(w.Faults))
		for i, f := range w.Faults {
			faults[i] = f.Fault + " " + f.Target
		}
		s += "; faults active: " + strings.Join(faults, ", ")
	}
	return s
}

// String is the text summary `mscli run` prints: the run, its counts, every
// invariant's verdict with its first witnesses, and the verdict with its reason.
func (r *Result) String() string {
	if r == nil || r.Run == nil {
		return "no run"
	}
	var b strings.Builder
	if err := reports.WriteText(&b, r.Run); err != nil {
		return fmt.Sprintf("%s: %v", r.Scenario, err)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Require fails the test unless the run passed: with the error, or with the run's
// summary and its run directory (report.html, result.json, the nodes' logs/).
func Require(t testing.TB, r *Result, err error) {
	t.Helper()
	switch {
	case err != nil && (r == nil || r.Run == nil):
		t.Fatalf("mscli: %v", err)
	case err != nil:
		t.Fatalf("mscli: %v\n\n%s\n\nrun directory: %s", err, r, r.Dir)
	case r == nil || r.Run == nil:
		t.Fatalf("mscli: no result")
	case !r.Passed():
		t.Fatalf("mscli: %s seed %d: verdict %s\n  %s\n\n%s\n\nrun directory: %s",
			r.Scenario, r.Seed, r.Verdict(), strings.Join(r.Failures(), "\n  "), r, r.Dir)
	}
}

// RegisterWorkload makes a workload kind available to scenarios (workload.Register).
func RegisterWorkload(decl plan.WorkloadKind, k workload.Kind) { workload.Register(decl, k) }

// RegisterInvariant makes an invariant available to scenarios (invariants.Register).
func RegisterInvariant(decl plan.InvariantKind, c invariants.Checker) { invariants.Register(decl, c) }

// RegisterMetric makes a metric available to scenarios' thresholds
// (invariants.RegisterMetric).
func RegisterMetric(decl plan.MetricKind, m invariants.Metric) { invariants.RegisterMetric(decl, m) }

// RegisterFault makes a fault kind available to scenarios (chaos.Register).
func RegisterFault(kind plan.FaultKind, f chaos.Fault) { chaos.Register(kind, f) }

// RegisterFixture declares a fixture scenarios can name (plan.RegisterFixture); its
// nodes run as `<binary> fixture <name>` (see the package documentation).
func RegisterFixture(f plan.Fixture) { plan.RegisterFixture(f) }

// RegisterTestbed makes a testbed available to Options.Testbed (testbed.Register).
func RegisterTestbed(tb testbed.Testbed) { testbed.Register(tb) }
