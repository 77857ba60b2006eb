package shrink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
)

// failedRun writes a run directory of bank-idempotency seed 1 that failed idempotent
// with double-apply, as mscli run leaves one (plan.json, scenario.yaml, result.json).
func failedRun(t *testing.T, keepSource bool) (string, *plan.Plan) {
	t.Helper()
	s, err := scenarios.Find("bank-idempotency")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := runner.WritePlan(dir, pl); err != nil {
		t.Fatal(err)
	}
	if keepSource {
		if err := runner.WriteScenario(dir, s.Source); err != nil {
			t.Fatal(err)
		}
	}
	res := &reports.Run{Scenario: pl.Scenario, Seed: 1, Testbed: "local", Bugs: []string{"double-apply"}, Dir: dir,
		Verdict: invariants.Fail, Results: []invariants.Result{
			{Name: "idempotent", Verdict: invariants.Fail}, {Name: "durable", Verdict: invariants.Pass}}}
	if err := reports.WriteFile(filepath.Join(dir, runner.ResultFile), res); err != nil {
		t.Fatal(err)
	}
	return dir, pl
}

// fakeRuns is a Runner whose runs fail idempotent when the plan holds a duplicate
// fault, with probability p (1: always), and take 30s of a fake clock each.
type fakeRuns struct {
	mu    sync.Mutex
	now   time.Time
	rng   *rand.Rand
	p     float64
	runs  int
	plans []*plan.Plan
	errs  int // the next runs that cannot finish
	srcs  [][]byte
	files []string
	kind  string // the fault kind that makes a run fail ("duplicate" when "")
}

func (f *fakeRuns) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeRuns) run(ctx context.Context, j Job, n int) []Trial {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Trial
	for range n {
		if ctx.Err() != nil {
			out = append(out, Trial{Err: ctx.Err()})
			continue
		}
		f.runs++
		f.now = f.now.Add(30 * time.Second)
		f.plans = append(f.plans, j.Plan)
		f.srcs = append(f.srcs, j.Source)
		f.files = append(f.files, j.File)
		dir := filepath.Join(j.Root, fmt.Sprintf("run-%d", f.runs))
		if f.errs > 0 {
			f.errs--
			out = append(out, Trial{Run: &reports.Run{Dir: dir, Wall: 30 * time.Second, Error: "testbed down"}, Err: runner.CouldNotRun(errors.New("testbed down"))})
			continue
		}
		kind := f.kind
		if kind == "" {
			kind = "duplicate"
		}
		dup := false
		for _, fl := range j.Plan.Faults {
			dup = dup || fl.Kind == kind
		}
		v := invariants.Pass
		if dup && (f.p >= 1 || f.rng.Float64() < f.p) {
			v = invariants.Fail
		}
		out = append(out, Trial{Run: &reports.Run{Dir: dir, Wall: 30 * time.Second, Verdict: v,
			Results: []invariants.Result{{Name: "idempotent", Verdict: v}}}})
	}
	return out
}

func newFake(p float64) *fakeRuns {
	return &fakeRuns{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), rng: rand.New(rand.NewPCG(7, 7)), p: p}
}

func shrinkWith(t *testing.T, dir string, f *fakeRuns, o Options) (*Report, error, string) {
	t.Helper()
	in, err := Load(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	o.Run, o.Log, o.clock = f.run, &log, f.clock
	rep, err := Shrink(context.Background(), in, o)
	return rep, err, log.String()
}

// The ten faults of bank-idempotency seed 1 shrink to its one duplicate, whose
// scenario file plans to exactly it and confirms; passing candidates cost one run.
func TestShrinkToTheDuplicate(t *testing.T) {
	dir, pl := failedRun(t, true)
	f := newFake(1)
	rep, err, log := shrinkWith(t, dir, f, Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if len(rep.Faults) != 1 || rep.Faults[0].Kind != "duplicate" || !rep.Confirmed || rep.ConfirmFails != 5 {
		t.Fatalf("kept %v, confirmed %v (%d/5)\n%s", rep.Faults, rep.Confirmed, rep.ConfirmFails, log)
	}
	if rep.Result != "fails idempotent in 5/5 re-runs" || rep.Runs != f.runs || rep.Original != len(pl.Faults) {
		t.Errorf("result %q, %d runs (made %d), %d original", rep.Result, rep.Runs, f.runs, rep.Original)
	}
	// The scenario file: the catalog's, one fault, no nemesis, and its plan is the
	// one the confirmation ran.
	src, err := os.ReadFile(filepath.Join(dir, Folder, ScenarioFile))
	if err != nil {
		t.Fatal(err)
	}
	s, err := scenarios.Parse("x.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Faults) != 1 || p2.Faults[0].Kind != "duplicate" || s.Nemesis != nil || !strings.Contains(string(src), "# The bank of seed 002") {
		t.Errorf("scenario.yaml:\n%s", src)
	}
	last := f.plans[len(f.plans)-1]
	a, _ := last.JSON()
	b, _ := p2.JSON()
	if !bytes.Equal(a, b) || !bytes.Equal(f.srcs[len(f.srcs)-1], src) {
		t.Error("the confirmation did not run scenario.yaml's plan")
	}
	// Every candidate kept the run's workload and seed.
	for _, p := range f.plans {
		if p.Seed != 1 || !sameWorkload(p.Workload, pl.Workload) {
			t.Fatalf("a candidate ran seed %d, workload %+v", p.Seed, p.Workload)
		}
	}
	// shrink.json says the same.
	var back Report
	b, err = os.ReadFile(filepath.Join(dir, Folder, RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Runs != rep.Runs || len(back.Steps) != len(rep.Steps) || back.Steps[len(back.Steps)-1].Phase != "confirm" {
		t.Errorf("shrink.json: %d runs, %d steps", back.Runs, len(back.Steps))
	}
	// A passing candidate is decided by its first run (3 of 3 cannot be reached).
	for _, st := range rep.Steps {
		if st.Verdict == "passes" && len(st.Runs) != 1 {
			t.Errorf("step %d passed after %d runs, want 1", st.N, len(st.Runs))
		}
		if st.Verdict == "fails" && st.Phase != "confirm" && len(st.Runs) != 3 {
			t.Errorf("step %d failed after %d runs, want 3", st.N, len(st.Runs))
		}
	}
	if !strings.Contains(log, "about") || !strings.Contains(log, "runs left") {
		t.Errorf("no estimate in the progress:\n%s", log)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text, filepath.Join(dir, Folder)); err != nil || !strings.Contains(text.String(), "duplicate bank.commands") {
		t.Errorf("text (%v):\n%s", err, text.String())
	}
}

func sameWorkload(a, b plan.Workload) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// Noisy outcomes: the duplicate makes the failure show 90% of the time, and the shrink
// still ends with it alone.
func TestShrinkNoisy(t *testing.T) {
	dir, _ := failedRun(t, true)
	f := newFake(0.9)
	rep, err, log := shrinkWith(t, dir, f, Options{Tries: 3, Rate: 0.6, Confirm: 10})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if len(rep.Faults) != 1 || rep.Faults[0].Kind != "duplicate" || !rep.Confirmed {
		t.Fatalf("kept %v, confirmed %v (%d/10)\n%s", rep.Faults, rep.Confirmed, rep.ConfirmFails, log)
	}
}

// A failure that shows too rarely is not confirmed: the files are written all the same.
func TestShrinkNotConfirmed(t *testing.T) {
	dir, _ := failedRun(t, true)
	f := newFake(0.3)
	rep, err, log := shrinkWith(t, dir, f, Options{Tries: 1, Rate: 1, Confirm: 5})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if rep.Confirmed || rep.ConfirmFails == 5 {
		t.Fatalf("confirmed %v with %d/5 at p=0.3\n%s", rep.Confirmed, rep.ConfirmFails, log)
	}
	if _, err := os.Stat(filepath.Join(dir, Folder, ScenarioFile)); err != nil {
		t.Error(err)
	}
}

// The budget stops the shrink and keeps room for the confirmation.
func TestShrinkBudget(t *testing.T) {
	dir, _ := failedRun(t, true)
	f := newFake(1)
	rep, err, log := shrinkWith(t, dir, f, Options{Budget: 5 * time.Minute, Confirm: 2})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if !rep.OutOfBudget || !strings.Contains(log, "budget") {
		t.Fatalf("out of budget %v\n%s", rep.OutOfBudget, log)
	}
	if rep.Wall > 5*time.Minute {
		t.Errorf("took %s of a 5m budget\n%s", rep.Wall, log)
	}
	if rep.Steps[len(rep.Steps)-1].Phase != "confirm" || len(rep.Steps[len(rep.Steps)-1].Runs) != 2 {
		t.Errorf("no confirmation after the budget: %+v", rep.Steps[len(rep.Steps)-1])
	}
}

// A run that cannot finish is tried once more; twice stops the shrink with exit 3.
func TestShrinkRunErrors(t *testing.T) {
	dir, _ := failedRun(t, true)
	f := newFake(1)
	f.errs = 1
	rep, err, log := shrinkWith(t, dir, f, Options{})
	if err != nil || !rep.Confirmed || !strings.Contains(log, "trying it once more") {
		t.Fatalf("one error: %v, confirmed %v\n%s", err, rep.Confirmed, log)
	}

	dir, _ = failedRun(t, true)
	f = newFake(1)
	f.errs = 2
	rep, err, log = shrinkWith(t, dir, f, Options{})
	if runner.CodeOf(err) != runner.ExitCouldNotRun || !strings.Contains(err.Error(), "testbed down") {
		t.Fatalf("two errors: %v (code %d)\n%s", err, runner.CodeOf(err), log)
	}
	if _, serr := os.Stat(filepath.Join(dir, Folder, RecordFile)); serr != nil || !strings.HasPrefix(rep.Result, "stopped") {
		t.Errorf("shrink.json after the error: %v, result %q", serr, rep.Result)
	}
}

// ^C stops everything with the context's error.
func TestShrinkInterrupted(t *testing.T) {
	dir, _ := failedRun(t, true)
	in, err := Load(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	f := newFake(1)
	ctx, cancel := context.WithCancel(context.Background())
	o := Options{clock: f.clock, Run: func(c context.Context, j Job, n int) []Trial {
		if f.runs == 2 {
			cancel()
		}
		return f.run(c, j, n)
	}}
	_, err = Shrink(ctx, in, o)
	if !errors.Is(err, context.Canceled) || runner.CodeOf(err) != runner.ExitInterrupted {
		t.Fatalf("err %v, want the interrupt", err)
	}
	if f.runs > 3 {
		t.Errorf("%d runs made after ^C", f.runs)
	}
}

func TestLoadRefuses(t *testing.T) {
	dir, pl := failedRun(t, true)
	if _, err := Load(dir, "durable", ""); runner.CodeOf(err) != runner.ExitInvalidInput || !strings.Contains(err.Error(), "failed idempotent") {
		t.Errorf("an invariant that passed: %v", err)
	}
	passed := &reports.Run{Scenario: pl.Scenario, Seed: 1, Verdict: invariants.Pass, Results: []invariants.Result{{Name: "idempotent", Verdict: invariants.Pass}}}
	if err := reports.WriteFile(filepath.Join(dir, runner.ResultFile), passed); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, "", ""); runner.CodeOf(err) != runner.ExitInvalidInput || !strings.Contains(err.Error(), "did not fail") {
		t.Errorf("a run that passed: %v", err)
	}
	if _, err := Load(t.TempDir(), "", ""); runner.CodeOf(err) != runner.ExitInvalidInput {
		t.Errorf("not a run directory: %v", err)
	}
	// An edited scenario.yaml no longer plans to the run's plan.
	dir, _ = failedRun(t, true)
	src, _ := runner.ReadScenario(dir)
	if err := os.WriteFile(filepath.Join(dir, runner.ScenarioFile), bytes.Replace(src, []byte("rate: 200"), []byte("rate: 150"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, "", ""); runner.CodeOf(err) != runner.ExitInvalidInput || !strings.Contains(err.Error(), "does not plan to the run's plan.json") {
		t.Errorf("an edited scenario.yaml: %v", err)
	}
}

// A run directory without scenario.yaml (an older mscli's) of a catalog scenario
// takes the catalog's.
func TestLoadFromCatalog(t *testing.T) {
	dir, _ := failedRun(t, false)
	in, err := Load(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := scenarios.Find("bank-idempotency")
	if err != nil {
		t.Fatal(err)
	}
	if in.origin != "catalog/bank-idempotency.yaml" || !bytes.Equal(in.Source, catalog.Source) || in.Base != "" ||
		in.Target != "idempotent" || in.Testbed != "local" {
		t.Errorf("from %q (base %q), target %q, testbed %q", in.origin, in.Base, in.Target, in.Testbed)
	}
}
