package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

func TestGitHubEscaping(t *testing.T) {
	if got := ghData("100% done\r\nnext: a,b"); got != "100%25 done%0D%0Anext: a,b" {
		t.Errorf("data: %s", got)
	}
	if got := ghProperty("s (seed 1): a,b 5%\n"); got != "s (seed 1)%3A a%2Cb 5%25%0A" {
		t.Errorf("property: %s", got)
	}
	if got := ghLine("::error x\nnext"); got != ": :error x next" {
		t.Errorf("log line: %s", got)
	}
}

func TestWriteGitHubAnnotatesWhatFailed(t *testing.T) {
	failing := &Run{
		Scenario: "my-orders", Seed: 3, Testbed: "docker", Dir: "runs/a", File: "ci/orders, v2.yaml",
		Results: []invariants.Result{
			{Name: "idempotent", Verdict: invariants.Pass, Summary: "fine"},
			{Name: "durable", Verdict: invariants.Fail, Summary: "1 of 10 operations violate it", Violations: 1,
				Witnesses: []invariants.Witness{{Note: "acknowledged but 100% lost", ID: "w-1",
					Ops:    []history.Op{{Time: 1_500_000_000, Process: 2, Type: history.Ok, F: "withdraw", Key: "acct-a", ID: "w-1"}},
					Faults: []history.Fault{{Time: 1_000_000_000, Fault: "kill", Target: "bank/0"}}}}},
			{Name: "converges", Verdict: invariants.Unknown, Summary: "no read model observed"},
		},
		FaultFailures: []FaultFailure{{Index: 0, Fault: "kill", Target: "bank/0", Phase: PhaseHeal, Error: "exit status 1"}},
		Faults:        FaultCounts{Planned: 2, Applied: 2, Healed: 1},
		Verdict:       invariants.Fail,
	}
	passing := &Run{Scenario: "bank-idempotency", Seed: 1, Testbed: "local", Dir: "runs/b", Verdict: invariants.Pass,
		Results: []invariants.Result{{Name: "idempotent", Verdict: invariants.Pass}}}
	partial := &Run{Scenario: "bank-idempotency", Seed: 2, Testbed: "local", Error: "docker: the engine went away"}

	var b bytes.Buffer
	if err := WriteGitHub(&b, failing, nil, passing, partial); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{
		"my-orders (seed 3) on docker: FAIL — violated: durable — runs/a",
		"::warning file=ci/orders%2C v2.yaml,title=my-orders (seed 3)%3A faults::1 of 2 planned faults failed to heal: kill bank/0: heal: exit status 1: an invariant was violated even so",
		"::error file=ci/orders%2C v2.yaml,title=my-orders (seed 3)%3A durable::1 of 10 operations violate it — acknowledged but 100%25 lost" +
			"%0A1.500s proc 2 ok     withdraw acct-a w-1%0Afaults active: kill bank/0 from 1.0s%0Arun directory: runs/a",
		"::warning file=ci/orders%2C v2.yaml,title=my-orders (seed 3)%3A converges::unknown: no read model observed",
		"bank-idempotency (seed 1) on local: PASS — runs/b",
		"bank-idempotency (seed 2) on local: UNKNOWN — inconclusive: the run could not complete: docker: the engine went away; no invariant was checked",
		"::warning title=bank-idempotency (seed 2)%3A partial run::the run could not complete: docker: the engine went away; its verdicts cover what was recorded",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range got {
		if strings.HasPrefix(l, "::") && strings.ContainsAny(strings.SplitN(l, "::", 3)[2], "\r\n") {
			t.Errorf("a command spans lines: %q", l)
		}
	}

	// A run that checked nothing, and is not partial, is warned about too.
	b.Reset()
	if err := WriteGitHub(&b, &Run{Scenario: "s", Seed: 1}); err != nil || !strings.Contains(b.String(), "::warning title=s (seed 1)%3A no invariant::") {
		t.Errorf("nothing checked: %v\n%s", err, b.String())
	}
}
