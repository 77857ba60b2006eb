package runner_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
	"github.com/mscli/mscli/testbed"
)

// A run keeps the scenario's source beside its plan, before anything starts, and the
// two plan the same again: what mscli shrink rewrites.
func TestRunKeepsScenarioSource(t *testing.T) {
	s, err := scenarios.Find("bank-idempotency")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := s.Plan(3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	refused := errors.New("no testbed here")
	_, err = runner.Run(context.Background(), pl, runner.Options{Dir: dir, TestbedName: "local", Source: s.Source,
		Testbed: func(context.Context, *plan.Plan, testbed.Options) (runner.System, error) { return nil, refused }})
	if !errors.Is(err, refused) {
		t.Fatalf("run: %v, want the testbed's refusal", err)
	}
	src, err := runner.ReadScenario(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, s.Source) {
		t.Fatal("scenario.yaml is not the scenario's source")
	}
	again, err := scenarios.Parse(s.File, src)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := again.Plan(3)
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := runner.ReadPlan(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p2.JSON()
	b, _ := recorded.JSON()
	if !bytes.Equal(a, b) {
		t.Errorf("scenario.yaml plans to\n%s\nplan.json holds\n%s", a, b)
	}

	// A run without a source keeps none.
	dir = t.TempDir()
	_, _ = runner.Run(context.Background(), pl, runner.Options{Dir: dir, TestbedName: "local",
		Testbed: func(context.Context, *plan.Plan, testbed.Options) (runner.System, error) { return nil, refused }})
	if _, err := runner.ReadScenario(dir); err == nil {
		t.Error("a run without a source wrote scenario.yaml")
	}
}
