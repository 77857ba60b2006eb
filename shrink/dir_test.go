package shrink

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
)

// exampleRun writes a run directory of examples/<name> seed 1 that failed idempotent,
// as mscli run leaves one when run from this folder: result.json names the file as
// given and, with dir, its folder.
func exampleRun(t *testing.T, name string, file, dir bool) (string, *plan.Plan) {
	t.Helper()
	path := filepath.Join("..", "examples", name)
	s, err := scenarios.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	run := t.TempDir()
	if err := runner.WritePlan(run, pl); err != nil {
		t.Fatal(err)
	}
	if err := runner.WriteScenario(run, s.Source); err != nil {
		t.Fatal(err)
	}
	res := &reports.Run{Scenario: pl.Scenario, Seed: 1, Testbed: "local", Bugs: []string{"no-dedup"}, Dir: run,
		Verdict: invariants.Fail, Results: []invariants.Result{{Name: "idempotent", Verdict: invariants.Fail}}}
	if file {
		res.File = path
	}
	if dir {
		res.FileDir = filepath.Dir(mustAbs(t, path))
	}
	if err := reports.WriteFile(filepath.Join(run, runner.ResultFile), res); err != nil {
		t.Fatal(err)
	}
	return run, pl
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The scenario.yaml a shrink of an examples/ run writes runs from where it is: loaded
// from <run>/shrink it plans to the run's plan with the kept fault — orders' command
// resolved and run in examples/, orders-compose's compose file found — and the
// confirmation ran exactly that file's plan, naming the file.
func TestShrinkWritesARunnableFile(t *testing.T) {
	examples := mustAbs(t, filepath.Join("..", "examples"))
	for _, c := range []struct {
		name       string
		file, dir  bool
		scenario   string // --scenario
		wantRefuse bool
	}{
		{name: "orders.yaml", file: true, dir: true},
		{name: "orders-compose.yaml", file: true, dir: true},
		// A run made before result.json kept the folder: its file, still there.
		{name: "orders-compose.yaml", file: true},
		// Nothing recorded: a command service's folder is in the plan.
		{name: "orders.yaml"},
		// Nothing recorded, and the compose file is nowhere: --scenario FILE.
		{name: "orders-compose.yaml", wantRefuse: true},
		{name: "orders-compose.yaml", scenario: filepath.Join("..", "examples", "orders-compose.yaml")},
	} {
		run, pl := exampleRun(t, c.name, c.file, c.dir)
		in, err := Load(run, "", c.scenario)
		if c.wantRefuse {
			if runner.CodeOf(err) != runner.ExitInvalidInput || !strings.Contains(err.Error(), "--scenario FILE") ||
				!strings.Contains(err.Error(), "compose file") {
				t.Errorf("%s, nothing recorded: %v", c.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s (file %v, dir %v, --scenario %q): %v", c.name, c.file, c.dir, c.scenario, err)
		}
		if in.Base != examples {
			t.Errorf("%s: base %q, want %q", c.name, in.Base, examples)
		}
		f := newFake(1)
		f.kind = "kill"
		var log bytes.Buffer
		rep, err := Shrink(context.Background(), in, Options{Run: f.run, Log: &log, clock: f.clock})
		if err != nil || !rep.Confirmed || len(rep.Faults) != 1 || rep.Faults[0].Kind != "kill" {
			t.Fatalf("%s: %v, confirmed %v, kept %+v\n%s", c.name, err, rep.Confirmed, rep.Faults, log.String())
		}
		written := filepath.Join(run, Folder, ScenarioFile)
		s, err := scenarios.Load(written)
		if err != nil {
			t.Fatalf("%s: the written file does not load: %v", c.name, err)
		}
		got, err := s.Plan(1)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(withoutFaults(got), withoutFaults(pl)) || len(got.Faults) != 1 || got.Faults[0].Kind != "kill" {
			t.Errorf("%s: the written file plans otherwise:\n%s", c.name, withoutFaults(got))
		}
		for _, svc := range got.Topology.Services {
			if len(svc.Command) > 0 {
				argv, err := svc.Argv(plan.Vars{Service: svc.Name, Port: 1})
				if err != nil || svc.Dir != examples || argv[0] != filepath.Join(examples, "orders", "orders") {
					t.Errorf("%s: service %s runs %v in %s (%v)", c.name, svc.Name, argv, svc.Dir, err)
				}
			}
		}
		// The confirmation's runs: the written file's plan and text, named.
		last := len(f.plans) - 1
		a, _ := f.plans[last].JSON()
		b, _ := got.JSON()
		src, _ := os.ReadFile(written)
		if !bytes.Equal(a, b) || !bytes.Equal(f.srcs[last], src) || f.files[last] != written {
			t.Errorf("%s: the confirmation ran %q, not the written file", c.name, f.files[last])
		}
		if !strings.Contains(string(src), "dir: \""+examples+"\"") {
			t.Errorf("%s: the written file:\n%s", c.name, src)
		}
	}
}

// Options.Check refuses what the command line must not take as a default: 0, or
// out of range, for every flag; a zero Options is the defaults in the Go API.
func TestOptionsCheck(t *testing.T) {
	good := Options{Tries: 3, Rate: 0.8, Confirm: 5, Budget: time.Minute, MinWindow: time.Second, Parallel: 1}
	if err := good.Check(); err != nil {
		t.Fatal(err)
	}
	for flag, edit := range map[string]func(o *Options){
		"--tries 0":       func(o *Options) { o.Tries = 0 },
		"--tries 101":     func(o *Options) { o.Tries = 101 },
		"--rate 0":        func(o *Options) { o.Rate = 0 },
		"--rate 1.5":      func(o *Options) { o.Rate = 1.5 },
		"--confirm 0":     func(o *Options) { o.Confirm = 0 },
		"--budget 0s":     func(o *Options) { o.Budget = 0 },
		"--budget -1s":    func(o *Options) { o.Budget = -time.Second },
		"--min-window 0s": func(o *Options) { o.MinWindow = 0 },
		"--parallel 0":    func(o *Options) { o.Parallel = 0 },
	} {
		o := good
		edit(&o)
		err := o.Check()
		if runner.CodeOf(err) != runner.ExitInvalidInput || !strings.HasPrefix(err.Error(), flag+": want") {
			t.Errorf("%s: %v", flag, err)
		}
	}
	var zero Options
	zero.Run = newFake(1).run
	if err := zero.defaults(); err != nil || zero.Tries != DefaultTries || zero.Rate != DefaultRate || zero.Confirm != DefaultConfirm ||
		zero.Budget != DefaultBudget || zero.MinWindow != DefaultMinWindow || zero.Parallel != 1 {
		t.Errorf("zero options: %v, %+v", err, zero)
	}
}
