package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

// noChaosRun is a run in which every invariant holds but none of the four planned
// faults could be applied: the chaos gate must not pass it.
func noChaosRun() *Run {
	plan := fourFaults()
	recs := records(plan, map[int]string{
		0: `toxiproxy: create toxic "latency" on client->bank: dial tcp 127.0.0.1:8474: connect: connection refused`,
		1: "kill bank/0: process already exited",
		2: "toxiproxy: disable proxy bank->broker: dial tcp 127.0.0.1:8474: connect: connection refused",
		3: `duplicate bank.commands: nats: stream not found`,
	}, nil)
	r := &Run{
		Scenario: "bank-idempotency", Seed: 7, Testbed: "local",
		Dir:     "/runs/20260101T000000Z-bank-idempotency-7",
		Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Wall: 14*time.Second + 230*time.Millisecond,
		Ops:      OpCounts{Counts: history.Counts{Invoked: 400, Ok: 400}, Rate: 33.3, P50: 9 * time.Millisecond, P99: 21 * time.Millisecond},
		Faults:   CountFaults(plan, recs),
		Converge: &Converge{Converged: true, After: 80 * time.Millisecond, Polls: 1},
		Results: []invariants.Result{
			{Name: "idempotent", Verdict: invariants.Pass, Summary: "400 operations checked", Checked: 400},
			{Name: "durable", Verdict: invariants.Pass, Summary: "400 operations checked", Checked: 400},
			{Name: "conservation", Verdict: invariants.Pass, Summary: "4 keys checked", Checked: 4},
		},
		FaultFailures: FaultFailures(plan, recs),
	}
	r.Verdict = Verdict(r.Results, r.FaultFailures)
	return r
}

const noChaosReason = "verdict: UNKNOWN — inconclusive: 4 of 4 planned faults failed to apply: latency client->bank: toxiproxy: create toxic"

// before reports whether a comes before b in s, both present.
func before(s, a, b string) bool {
	i, j := strings.Index(s, a), strings.Index(s, b)
	return i >= 0 && j >= 0 && i < j
}

func TestNoChaosText(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, noChaosRun()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !before(out, "!! 4 of 4 planned faults failed to apply: the run is inconclusive, not a pass", "run dir:") ||
		!before(out, "- kill bank/0, planned at 5s: failed to apply: kill bank/0: process already exited", "operations:") {
		t.Errorf("the failed faults must come first, each with its target and error:\n%s", out)
	}
	if !strings.Contains(out, noChaosReason) {
		t.Errorf("the verdict line must say why it is inconclusive:\n%s", out)
	}
	golden(t, "nochaos.txt.golden", b.Bytes())
}

func TestNoChaosJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, noChaosRun()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Verdict       string           `json:"verdict"`
		FaultFailures []map[string]any `json:"fault_failures"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Verdict != "unknown" || len(doc.FaultFailures) != 4 {
		t.Fatalf("verdict %q, %d fault_failures:\n%s", doc.Verdict, len(doc.FaultFailures), b.String())
	}
	f := doc.FaultFailures[0]
	for k, want := range map[string]any{"index": 0.0, "fault": "latency", "target": "client->bank", "at_ns": 3e9, "phase": "apply"} {
		if f[k] != want {
			t.Errorf("fault_failures[0].%s = %v, want %v", k, f[k], want)
		}
	}
	if !strings.Contains(f["error"].(string), "connection refused") {
		t.Errorf("fault_failures[0].error = %v", f["error"])
	}
	// result.json keeps them: a recorded run re-renders the same.
	path := filepath.Join(t.TempDir(), "result.json")
	if err := WriteFile(path, noChaosRun()); err != nil {
		t.Fatal(err)
	}
	r, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.FaultFailures) != 4 || RunVerdict(r) != invariants.Unknown {
		t.Errorf("read back: %d failures, verdict %s", len(r.FaultFailures), RunVerdict(r))
	}
}

func TestNoChaosJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, noChaosRun()); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Suites[0]
	if s.Tests != 4 || s.Errors != 1 || s.Failures != 0 {
		t.Errorf("suite counts tests %d errors %d failures %d", s.Tests, s.Errors, s.Failures)
	}
	c := s.Cases[0]
	if c.Name != FaultsCase || c.Error == nil || c.Error.Type != "inconclusive" ||
		!strings.HasPrefix(c.Error.Message, "4 of 4 planned faults failed to apply: latency client->bank: ") ||
		!strings.Contains(c.Error.Body, "partition bank->broker, planned at 9s: failed to apply: toxiproxy: disable proxy") {
		t.Errorf("the first test case must be an error naming the faults: %+v", c)
	}
	golden(t, "nochaos.junit.golden", b.Bytes())

	// With every fault applied the case passes; without faults planned there is none.
	r := noChaosRun()
	r.FaultFailures, r.Verdict = nil, invariants.Pass
	b.Reset()
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<testcase name="faults applied" classname="mscli.bank-idempotency" time="0.000">`) ||
		!strings.Contains(b.String(), "4 planned faults applied and healed") || strings.Contains(b.String(), "<error") {
		t.Errorf("a run whose faults applied has a passing faults case:\n%s", b.String())
	}
	r.Faults = FaultCounts{}
	b.Reset()
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), FaultsCase) {
		t.Errorf("a run without planned faults has no faults case:\n%s", b.String())
	}
}

func TestNoChaosMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, noChaosRun()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "## ⚠️ UNKNOWN · bank-idempotency (seed 7)\n\n> ⚠️ **4 of 4 planned faults failed to apply**: the run is inconclusive, not a pass.") {
		t.Errorf("the failed faults must come right under the verdict:\n%s", out)
	}
	if !before(out, "> - `latency` `client->bank` (planned at 3s): failed to apply: toxiproxy: create toxic \"latency\"", "| | invariant |") {
		t.Errorf("each failed fault is listed before the invariants:\n%s", out)
	}
	golden(t, "nochaos.md.golden", b.Bytes())
}

func TestNoChaosHTML(t *testing.T) {
	var b bytes.Buffer
	r := noChaosRun()
	if err := WriteHTML(&b, r, nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`<span class="badge v-unknown">UNKNOWN</span>`,
		`<p class="reason t-unknown">inconclusive: 4 of 4 planned faults failed to apply: latency client-&gt;bank: toxiproxy: create toxic &#34;latency&#34;`,
		`<p><b>4 of 4 planned faults failed to apply</b>: the run is inconclusive, not a pass.</p>`,
		`<tr><td>kill</td><td>bank/0</td><td class="nw">restart-after: 1s</td><td class="n nw">5s</td><td class="nw">failed to apply</td><td>kill bank/0: process already exited</td></tr>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report.html lacks %s", want)
		}
	}
	if !before(out, "<h1>", `id="fault-failures"`) || !before(out, `id="fault-failures"`, `<div class="cards">`) {
		t.Error("the failed faults must come first, under the verdict")
	}
	// A run whose faults all applied has no such block.
	r.FaultFailures, r.Verdict = nil, invariants.Pass
	b.Reset()
	if err := WriteHTML(&b, r, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `id="fault-failures"`) || strings.Contains(b.String(), `class="reason`) {
		t.Error("a passing run has neither a reason nor failed faults")
	}
}
