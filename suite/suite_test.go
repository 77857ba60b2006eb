package suite

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
)

func jobsOf(seeds ...int64) []Job {
	out := make([]Job, len(seeds))
	for i, s := range seeds {
		out[i] = Job{Plan: &plan.Plan{Scenario: "bank-idempotency", Seed: s, Catches: map[string]string{"double-apply": "idempotent"}}, Bugs: []string{"double-apply"}}
	}
	return out
}

// fakeRun fails idempotent on even seeds, cannot run seed 5, and counts the runs at once.
func fakeRun(inFlight, most *atomic.Int32) func(context.Context, *plan.Plan, runner.Options) (*reports.Run, error) {
	return func(ctx context.Context, pl *plan.Plan, o runner.Options) (*reports.Run, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		// The first runs wait for each other, so runs that may overlap do.
		for i := 0; i < 500 && inFlight.Load() < 2 && o.Root == "parallel"; i++ {
			time.Sleep(time.Millisecond)
		}
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if pl.Seed == 5 {
			return &reports.Run{Scenario: pl.Scenario, Seed: pl.Seed}, runner.CouldNotRun(errors.New("testbed: no docker"))
		}
		v := invariants.Pass
		if pl.Seed%2 == 0 {
			v = invariants.Fail
		}
		r := &reports.Run{Scenario: pl.Scenario, Seed: pl.Seed, Dir: "runs/" + o.Root,
			Results: []invariants.Result{{Name: "idempotent", Verdict: v}, {Name: "durable", Verdict: invariants.Pass}}}
		r.Verdict = reports.Verdict(r.Results, nil)
		return r, nil
	}
}

func TestExecSuite(t *testing.T) {
	var inFlight, most atomic.Int32
	jobs := jobsOf(1, 2, 3, 4, 5, 6)
	var seen []int
	outs := Exec(context.Background(), jobs, Options{Parallel: 2, Root: "parallel", Run: fakeRun(&inFlight, &most)}, func(oc Outcome) { seen = append(seen, oc.Job) })
	if most.Load() != 2 {
		t.Errorf("at most %d runs at once, want 2", most.Load())
	}
	slices.Sort(seen)
	if !slices.Equal(seen, []int{0, 1, 2, 3, 4, 5}) {
		t.Errorf("done saw %v", seen)
	}
	wantCodes := []runner.ExitCode{0, 1, 0, 1, 3, 1}
	for i, oc := range outs {
		if oc.Job != i || oc.Code != wantCodes[i] || oc.Skipped != "" {
			t.Errorf("outcome %d = %+v, want code %d", i, oc, wantCodes[i])
		}
	}
	if Code(outs) != runner.ExitViolated {
		t.Errorf("suite code %d, want 1 (a violation outranks could not run)", Code(outs))
	}

	s := &reports.Suite{Dir: "suite"}
	entries := make([]Entry, len(jobs))
	for i, j := range jobs {
		entries[i] = Entry{Scenario: "bank-idempotency", Repro: Repro("bank-idempotency", j.Plan.Seed, "local", j.Bugs)}
	}
	Record(s, jobs, entries, outs)
	var b strings.Builder
	if err := reports.WriteSuiteText(&b, s); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{
		"idempotent did not hold on seeds 2, 4, 6",
		"the bug was caught by idempotent on 3 of 6 seeds",
		"mscli run bank-idempotency --seed 5 --testbed local --inject-bug double-apply",
		"exit 1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "--seed 3 ") {
		t.Errorf("a passing run has a repro line:\n%s", text)
	}
	b.Reset()
	if err := reports.WriteSuiteJUnit(&b, s); err != nil {
		t.Fatal(err)
	}
	junit := b.String()
	if n := strings.Count(junit, "<testsuite "); n != 1 {
		t.Errorf("%d test suites for one scenario:\n%s", n, junit)
	}
	for _, want := range []string{`name="idempotent [seed 2]"`, `tests="11"`, `failures="3"`, `errors="1"`, "testbed: no docker"} {
		if !strings.Contains(junit, want) {
			t.Errorf("junit lacks %s:\n%s", want, junit)
		}
	}
}

func TestExecFailFast(t *testing.T) {
	var inFlight, most atomic.Int32
	outs := Exec(context.Background(), jobsOf(1, 2, 3, 7, 9), Options{Parallel: 1, FailFast: true, Run: fakeRun(&inFlight, &most)}, nil)
	var skipped []int64
	for i, oc := range outs {
		if oc.Skipped != "" {
			if oc.Skipped != SkippedFailFast || oc.Code != runner.ExitOK {
				t.Errorf("outcome %d: skipped %q, code %d", i, oc.Skipped, oc.Code)
			}
			skipped = append(skipped, int64(i))
		}
	}
	if !slices.Equal(skipped, []int64{2, 3, 4}) {
		t.Errorf("skipped jobs %v, want those after the first failure", skipped)
	}
	if Code(outs) != runner.ExitViolated {
		t.Errorf("code %d", Code(outs))
	}
}

func TestExecCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	outs := Exec(ctx, jobsOf(1, 2), Options{Run: func(context.Context, *plan.Plan, runner.Options) (*reports.Run, error) {
		t.Error("a run started after ^C")
		return nil, nil
	}}, nil)
	for _, oc := range outs {
		if oc.Skipped != SkippedInterrupted {
			t.Errorf("outcome %+v, want skipped by the interrupt", oc)
		}
	}
	if Code(outs) != runner.ExitInterrupted {
		t.Errorf("an interrupted suite exits %d, want 130", Code(outs))
	}
	if Code(nil) != runner.ExitInconclusive {
		t.Errorf("a suite of no run exits %d, want 2", Code(nil))
	}
}

// ^C while a run judges: that run, whatever it judged, and the suite are interrupted.
func TestExecInterruptedDuringARun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	outs := Exec(ctx, jobsOf(1, 3), Options{Run: func(_ context.Context, pl *plan.Plan, _ runner.Options) (*reports.Run, error) {
		cancel()
		r := &reports.Run{Scenario: pl.Scenario, Seed: pl.Seed, Results: []invariants.Result{{Name: "idempotent", Verdict: invariants.Pass}}}
		r.Verdict = invariants.Pass
		return r, nil
	}}, nil)
	if outs[0].Code != runner.ExitInterrupted || outs[1].Skipped != SkippedInterrupted || Code(outs) != runner.ExitInterrupted {
		t.Errorf("outcomes %+v, want both interrupted", outs)
	}
}

// A run whose records are partial is no pass, whatever its checks found.
func TestExecPartialIsNoPass(t *testing.T) {
	outs := Exec(context.Background(), jobsOf(1), Options{Run: func(_ context.Context, pl *plan.Plan, _ runner.Options) (*reports.Run, error) {
		r := &reports.Run{Scenario: pl.Scenario, Seed: pl.Seed, Incomplete: "the last line of history.jsonl was torn",
			Results: []invariants.Result{{Name: "idempotent", Verdict: invariants.Pass}}}
		r.Verdict = invariants.Pass
		return r, nil
	}}, nil)
	if outs[0].Code != runner.ExitInconclusive {
		t.Errorf("code %d, want 2", outs[0].Code)
	}
}

func TestParseSeeds(t *testing.T) {
	got, err := ParseSeeds("1-3, 8,2,10-11")
	if err != nil || !slices.Equal(got, []int64{1, 2, 3, 8, 10, 11}) {
		t.Fatalf("ParseSeeds = %v, %v", got, err)
	}
	if got, err := ParseSeeds("9223372036854775807"); err != nil || len(got) != 1 {
		t.Fatalf("the largest seed: %v, %v", got, err)
	}
	for _, bad := range []string{"", "a", "5-1", "1,,2", "1-5000", "-3", "9223372036854775800-9223372036854775807x"} {
		if _, err := ParseSeeds(bad); err == nil {
			t.Errorf("ParseSeeds(%q) accepted", bad)
		}
	}
	d, err := DrawSeeds(rand.New(rand.NewPCG(1, 2)), 5)
	if err != nil || len(d) != 5 || !slices.IsSorted(d) || d[0] < 1 {
		t.Fatalf("DrawSeeds = %v, %v", d, err)
	}
	if _, err := DrawSeeds(rand.New(rand.NewPCG(1, 2)), 0); err == nil {
		t.Error("DrawSeeds(0) accepted")
	}
}

func TestRepro(t *testing.T) {
	if got := Repro("my dir/s.yaml", 3, "docker", []string{"x"}); got != "mscli run 'my dir/s.yaml' --seed 3 --testbed docker --inject-bug x" {
		t.Errorf("Repro = %s", got)
	}
}
