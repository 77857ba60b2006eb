package runner_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
	"github.com/mscli/mscli/testbed"
)

// A testbed whose infrastructure can be lost under the run (runner.Watched), as the
// docker testbed's engine can: the ledger of the extension test, and a loss the test
// reports when it chooses.
type lossySystem struct {
	*fakeSystem
	lost chan error
}

func (s *lossySystem) Lost() <-chan error { return s.lost }

// lossInCheck is where the ext-lost-in-check invariant reports the testbed's loss.
var lossInCheck chan error

func init() {
	// An invariant during whose check the testbed is lost: it holds unless its check
	// is cut short meanwhile.
	invariants.Register(plan.InvariantKind{Name: "ext-lost-in-check", Doc: "the testbed is lost while it is checked"},
		func(ctx context.Context, _ *invariants.Index, _ map[string]string) invariants.Result {
			lossInCheck <- errors.New("docker: the Docker engine stopped answering: gone while the checks ran")
			select {
			case <-ctx.Done():
				return invariants.UnknownResult("the check was cut short: " + context.Cause(ctx).Error())
			case <-time.After(time.Second):
				return invariants.NewResult(0, 1, nil, "checked")
			}
		})
}

func lossyRun(t *testing.T, invs string, sys *lossySystem) (*runner.Options, *plan.Plan) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "lossy.yaml")
	yaml := `name: lossy
duration: 2s
system:
  services:
    ledger: {fixture: ext-ledger}
workload: {kind: ext-counter, clients: 2, rate: 50, counters: 3}
invariants: [` + invs + `]
`
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenarios.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	return &runner.Options{Dir: t.TempDir(), TestbedName: "ext-fake",
		Testbed: func(context.Context, *plan.Plan, testbed.Options) (runner.System, error) { return sys, nil }}, pl
}

// The testbed lost while the checks read the records (the run no longer uses it):
// the checks are not cut short, and the run is judged on its records; the loss is
// for the testbed's Down to report.
func TestTestbedLostDuringChecksIsNotTheirs(t *testing.T) {
	sys := &lossySystem{fakeSystem: newFakeSystem(nil, nil), lost: make(chan error, 1)}
	lossInCheck = sys.lost
	o, pl := lossyRun(t, "ext-acked-applied, ext-lost-in-check", sys)
	res, err := runner.Run(context.Background(), pl, *o)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, r := range res.Results {
		if r.Verdict != invariants.Pass {
			t.Errorf("%s: %s %q: the testbed's loss after the run used it cut its check short", r.Name, r.Verdict, r.Summary)
		}
	}
}

// The testbed lost while the workload runs stops the run: could not run (exit 3) with
// the loss as its cause, recorded as cut short, never a pass.
func TestTestbedLostDuringWorkload(t *testing.T) {
	sys := &lossySystem{fakeSystem: newFakeSystem(nil, nil), lost: make(chan error, 1)}
	var once sync.Once
	inner := sys.srv.Config.Handler
	sys.srv.Close()
	sys.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { sys.lost <- errors.New("docker: the Docker engine stopped answering: gone mid-run") })
		inner.ServeHTTP(w, r)
	}))
	o, pl := lossyRun(t, "ext-acked-applied", sys)
	res, err := runner.Run(context.Background(), pl, *o)
	if runner.CodeOf(err) != runner.ExitCouldNotRun || !strings.Contains(err.Error(), "gone mid-run") {
		t.Fatalf("run: %v (exit %d), want exit 3 with the loss", err, runner.CodeOf(err))
	}
	if res == nil || res.Incomplete == "" || res.Verdict == invariants.Pass || !strings.Contains(res.Error, "gone mid-run") {
		t.Fatalf("result: %+v", res)
	}
}
