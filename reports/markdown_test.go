package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mscli/mscli/invariants"
)

func TestWriteMarkdownGolden(t *testing.T) {
	r, _ := synthRun()
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"## ❌ FAIL · bank-idempotency (seed 7)",
		"| ❌ | durable | 1 of 666 operations violate it | 1 | 666 |",
		"<details><summary>❌ durable — 1 violation</summary>",
		`acknowledged \<ok> but never applied \& "lost" \| \*not\* retried`,
		"faults active: latency client->bank from 3.0s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	golden(t, "summary.md.golden", b.Bytes())
}

func TestWriteMarkdownPassingRunHasNoDetails(t *testing.T) {
	r := &Run{Scenario: "ok_run", Results: []invariants.Result{{Name: "idempotent", Verdict: invariants.Pass, Summary: "10 ops | checked"}}}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "## ✅ PASS · ok\\_run") || strings.Contains(out, "<details>") || !strings.Contains(out, "all 1 invariants hold") {
		t.Errorf("passing summary:\n%s", out)
	}
	if !strings.Contains(out, `| 10 ops \| checked |`) {
		t.Errorf("a pipe in a cell must be escaped:\n%s", out)
	}
}

func TestMarkdownCodeSpansOutgrowBackticks(t *testing.T) {
	if got := mdCode("a`b"); got != "``a`b``" {
		t.Errorf("mdCode: %s", got)
	}
	if got := mdFence([]string{"x ``` y"}); got != "````" {
		t.Errorf("mdFence: %s", got)
	}
}

// A run stopped before its checkers ran has checked nothing: no report may call it a
// pass.
func TestRunWithoutResultsIsNoPass(t *testing.T) {
	r := &Run{Scenario: "bank-idempotency", Seed: 1, Error: "context canceled"}
	if v := RunVerdict(r); v != invariants.Unknown {
		t.Errorf("RunVerdict = %s", v)
	}
	r.Verdict = invariants.Pass // what an older result.json may hold
	if v := RunVerdict(r); v != invariants.Unknown {
		t.Errorf("RunVerdict with a recorded pass and no results = %s", v)
	}
	var md, page bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&page, r, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(md.String()), "PASS") || strings.Contains(page.String(), "badge v-pass") || !strings.Contains(page.String(), "badge v-unknown") {
		t.Errorf("a run without results reads as a pass:\n%s", md.String())
	}
	r.Results = []invariants.Result{{Name: "durable", Verdict: invariants.Fail}}
	r.Verdict = ""
	if v := RunVerdict(r); v != invariants.Fail {
		t.Errorf("RunVerdict folds the results: %s", v)
	}
}

func TestMarkdownCountsThresholds(t *testing.T) {
	r := &Run{Scenario: "bank-idempotency", Seed: 1, Results: []invariants.Result{
		{Name: "idempotent", Verdict: invariants.Pass},
		{Name: invariants.ThresholdPrefix + "p99 < 1ms", Verdict: invariants.Fail, Summary: "p99 = 41ms, bound < 1ms"},
	}}
	r.Verdict = Verdict(r.Results, nil)
	var b strings.Builder
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "1 of 2 invariants and thresholds do not hold") || !strings.Contains(b.String(), `p99 = 41ms, bound \< 1ms`) {
		t.Errorf("markdown:\n%s", b.String())
	}
}
