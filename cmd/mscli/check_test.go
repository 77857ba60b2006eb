package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
)

// writeNoChaosRun records a small run whose invariants hold but whose two planned
// faults both failed to apply: four accounts opened with a deposit, then a withdrawal
// each, every operation acknowledged and applied once in both views.
func writeNoChaosRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sec := func(s float64) plan.Duration { return plan.Duration(s * float64(time.Second)) }
	pl := &plan.Plan{Scenario: "bank-nochaos", Seed: 3, Duration: sec(10),
		Faults: []plan.Fault{
			{At: sec(2), For: sec(3), Kind: "latency", Target: "client->bank", Params: map[string]string{"latency": "250ms"}, Source: "scenario"},
			{At: sec(6), Kind: "kill", Target: "bank/0", Params: map[string]string{"restart-after": "1s"}, Source: "scenario"},
		},
		Invariants: []plan.Invariant{{Name: "idempotent"}, {Name: "durable"}, {Name: "conservation"}, {Name: "ordered"}},
	}
	if err := runner.WritePlan(dir, pl); err != nil {
		t.Fatal(err)
	}
	write := func(name string, recs ...any) {
		if err := history.WriteFile(filepath.Join(dir, name), recs); err != nil {
			t.Fatal(err)
		}
	}
	var ops, effects []any
	i := int64(0)
	for k := range 4 {
		key := fmt.Sprintf("acct-%d", k)
		bal := int64(0)
		for s, step := range []struct {
			f      string
			amount int64
		}{{"deposit", 100}, {"withdraw", -10}} {
			id := fmt.Sprintf("op-%d-%d", k, s)
			value := json.RawMessage(fmt.Sprintf(`{"amount":%d}`, max(step.amount, -step.amount)))
			for _, typ := range []history.OpType{history.Invoke, history.Ok} {
				ops = append(ops, history.Op{Index: i, Time: (i + 1) * int64(time.Millisecond), Process: k, Type: typ, F: step.f, Key: key, ID: id, Value: value})
				i++
			}
			kind, seq := "credit", int64(s+1)
			if step.amount < 0 {
				kind = "debit"
			}
			bal += step.amount
			effects = append(effects,
				history.Effect{Service: "bank", View: history.WriteView, Kind: kind, Key: key, ID: id, Amount: step.amount, Seq: seq},
				history.Effect{Service: "bank", View: history.ReadView, Kind: kind, Key: key, ID: id, Amount: step.amount, Seq: seq, Pos: seq},
				history.Effect{Service: "bank", View: history.WriteView, Kind: history.KindOperation, ID: id, State: history.StateApplied})
		}
		for _, view := range []string{history.WriteView, history.ReadView} {
			v := bal
			effects = append(effects, history.Effect{Service: "bank", View: view, Kind: history.KindState, Key: key, Value: &v})
		}
	}
	write(runner.HistoryFile, ops...)
	write(runner.EffectsFile, effects...)
	var faults []any
	for n, f := range pl.Faults {
		t0 := int64(f.At) + int64(time.Millisecond)
		faults = append(faults,
			history.Fault{Time: t0, Phase: history.Start, Fault: f.Kind, Target: f.Target, Params: f.Params, N: n,
				Error: "toxiproxy: dial tcp 127.0.0.1:8474: connect: connection refused"},
			history.Fault{Time: t0 + int64(time.Millisecond), Phase: history.Stop, Fault: f.Kind, Target: f.Target, Params: f.Params, N: n})
	}
	write(runner.FaultsFile, faults...)
	// The run ended (result.json): only its faults leave it inconclusive.
	if err := runner.WriteResults(dir, &reports.Run{Scenario: pl.Scenario, Seed: pl.Seed, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mscli check of a recording in which every fault failed to apply: exit 2, with the
// failed faults first and the verdict's reason, in text and in JSON.
func TestCheckWithoutChaosExitsTwo(t *testing.T) {
	dir := writeNoChaosRun(t)
	code, out, stderr := mscli(t, "check", dir)
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s\n%s", code, out, stderr)
	}
	lines := strings.Split(out, "\n")
	if len(lines) < 5 || lines[2] != "!! 2 of 2 planned faults failed to apply: the run is inconclusive, not a pass" ||
		!strings.HasPrefix(lines[3], "   - latency client->bank, planned at 2s: failed to apply: toxiproxy: dial tcp") {
		t.Errorf("the failed faults must come first:\n%s", out)
	}
	for _, want := range []string{"PASS    idempotent", "PASS    durable",
		"verdict: UNKNOWN — inconclusive: 2 of 2 planned faults failed to apply: latency client->bank: toxiproxy: dial tcp 127.0.0.1:8474: connect: connection refused; kill bank/0: toxiproxy"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = mscli(t, "check", dir, "--format", "json")
	var r reports.Run
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if code != 2 || r.Verdict != "unknown" || len(r.FaultFailures) != 2 || r.FaultFailures[1].Fault != "kill" {
		t.Errorf("json: exit %d, verdict %s, fault_failures %+v", code, r.Verdict, r.FaultFailures)
	}
}

// mscli check of a recording whose last history line was torn by a kill (the writer's
// buffer half written): exit 2, saying so, where the whole recording passes; not exit
// 4, which a bad line elsewhere still gets.
func TestCheckTornHistoryExitsTwo(t *testing.T) {
	dir := writeNoChaosRun(t)
	faults, err := history.ReadFile[history.Fault](filepath.Join(dir, runner.FaultsFile))
	if err != nil {
		t.Fatal(err)
	}
	for i := range faults {
		faults[i].Error = "" // every fault applied: the control passes
	}
	if err := history.WriteFile(filepath.Join(dir, runner.FaultsFile), faults); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := mscli(t, "check", dir); code != 0 {
		t.Fatalf("the whole recording: exit %d, want 0\n%s\n%s", code, out, stderr)
	}
	path := filepath.Join(dir, runner.HistoryFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Count(data, []byte("\n"))
	if err := os.WriteFile(path, data[:len(data)-20], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := mscli(t, "check", dir)
	want := fmt.Sprintf("the run was cut short: the last line of history.jsonl was torn (line %d: unexpected end of JSON input)", lines)
	if code != 2 || !strings.Contains(out, "verdict: UNKNOWN — inconclusive: "+want) {
		t.Errorf("torn: exit %d, want 2 saying %q\n%s\n%s", code, want, out, stderr)
	}
	code, out, _ = mscli(t, "check", dir, "--format", "json")
	var r reports.Run
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if code != 2 || r.Verdict != "unknown" || r.Incomplete != want {
		t.Errorf("json: exit %d, verdict %s, incomplete %q", code, r.Verdict, r.Incomplete)
	}

	// The same line with its newline is corruption: invalid input.
	if err := os.WriteFile(path, append(data[:len(data)-20], '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := mscli(t, "check", dir); code != 4 || !strings.Contains(stderr, fmt.Sprintf("line %d: unexpected end of JSON input", lines)) {
		t.Errorf("a bad last line with its newline: exit %d, want 4\n%s\n%s", code, out, stderr)
	}
}
