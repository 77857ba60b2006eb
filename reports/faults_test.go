package reports

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

func at(s float64) plan.Duration { return plan.Duration(s * float64(time.Second)) }
func ns(s float64) int64         { return int64(s * float64(time.Second)) }

// fourFaults is a plan of four faults: a latency window, a kill restarted after 1s, a
// partition and a duplicate.
func fourFaults() []plan.Fault {
	return []plan.Fault{
		{At: at(3), For: at(4), Kind: "latency", Target: "client->bank", Params: map[string]string{"latency": "250ms"}},
		{At: at(5), Kind: "kill", Target: "bank/0", Params: map[string]string{"restart-after": "1s"}},
		{At: at(9), For: at(3), Kind: "partition", Target: "bank->broker"},
		{At: at(10), Kind: "duplicate", Target: "bank.commands", Params: map[string]string{"ratio": "0.1"}},
	}
}

// records writes what the scheduler writes for a plan: a start with applyErr[i] (if
// any) and, since a failed apply has nothing to undo, a stop at once; else a stop at
// the end of the window with healErr[i].
func records(pl []plan.Fault, applyErr, healErr map[int]string) []history.Fault {
	var out []history.Fault
	for i, f := range pl {
		t := int64(f.At) + int64(time.Millisecond)
		out = append(out, history.Fault{Time: t, Phase: history.Start, Fault: f.Kind, Target: f.Target, Params: f.Params, N: i, Error: applyErr[i]})
		end := int64(plannedEnd(f))
		if applyErr[i] != "" || end == int64(f.At) {
			end = t + int64(time.Millisecond)
		}
		out = append(out, history.Fault{Time: end, Phase: history.Stop, Fault: f.Kind, Target: f.Target, Params: f.Params, N: i, Error: healErr[i]})
	}
	return out
}

func pass(names ...string) []invariants.Result {
	var rs []invariants.Result
	for _, n := range names {
		rs = append(rs, invariants.Result{Name: n, Verdict: invariants.Pass, Summary: "ok"})
	}
	return rs
}

// The fold: fail > unknown > pass, and a planned fault that did not apply or heal is
// unknown — never a pass.
func TestVerdictFoldsFaultFailures(t *testing.T) {
	pl := fourFaults()
	allFail := map[int]string{0: "toxiproxy: connection refused", 1: "kill bank/0: no such process", 2: "toxiproxy: connection refused", 3: "nats: no stream"}
	violated := append(pass("idempotent"), invariants.Result{Name: "durable", Verdict: invariants.Fail})
	for _, tc := range []struct {
		name     string
		pl       []plan.Fault
		recs     []history.Fault
		results  []invariants.Result
		failures int
		want     invariants.Verdict
	}{
		{"every fault applied and healed", pl, records(pl, nil, nil), pass("idempotent", "durable"), 0, invariants.Pass},
		{"no fault planned: no issue", nil, nil, pass("idempotent"), 0, invariants.Pass},
		{"every fault failed to apply", pl, records(pl, allFail, nil), pass("idempotent", "durable"), 4, invariants.Unknown},
		{"one failed heal", pl, records(pl, nil, map[int]string{2: "toxiproxy: proxy gone"}), pass("idempotent"), 1, invariants.Unknown},
		{"no fault records at all", pl, nil, pass("idempotent"), 4, invariants.Unknown},
		{"a failing invariant and failed faults", pl, records(pl, allFail, nil), violated, 4, invariants.Fail},
		{"an unknown invariant, faults fine", pl, records(pl, nil, nil), append(pass("idempotent"), invariants.Result{Name: "converges", Verdict: invariants.Unknown}), 0, invariants.Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ff := FaultFailures(tc.pl, tc.recs)
			if len(ff) != tc.failures {
				t.Fatalf("%d fault failures, want %d: %+v", len(ff), tc.failures, ff)
			}
			if v := Verdict(tc.results, ff); v != tc.want {
				t.Errorf("Verdict = %s, want %s", v, tc.want)
			}
			r := &Run{Results: tc.results, FaultFailures: ff, Faults: FaultCounts{Planned: len(tc.pl)}}
			if v := RunVerdict(r); v != tc.want {
				t.Errorf("RunVerdict (nothing recorded) = %s, want %s", v, tc.want)
			}
			// An older recorded pass does not outweigh the failed faults.
			r.Verdict = invariants.Pass
			if v := RunVerdict(r); tc.failures > 0 && v != invariants.Unknown {
				t.Errorf("RunVerdict of a recorded pass with failed faults = %s", v)
			}
		})
	}
}

func TestFaultFailuresSayWhatFailed(t *testing.T) {
	pl := fourFaults()
	ff := FaultFailures(pl, records(pl, map[int]string{0: "toxiproxy: connection refused", 1: "kill bank/0: no such process"}, map[int]string{2: "proxy gone"}))
	want := []FaultFailure{
		{Index: 0, Fault: "latency", Target: "client->bank", Params: pl[0].Params, At: 3 * time.Second, Phase: PhaseApply, Error: "toxiproxy: connection refused"},
		{Index: 1, Fault: "kill", Target: "bank/0", Params: pl[1].Params, At: 5 * time.Second, Phase: PhaseApply, Error: "kill bank/0: no such process"},
		{Index: 2, Fault: "partition", Target: "bank->broker", At: 9 * time.Second, Phase: PhaseHeal, Error: "proxy gone"},
	}
	if fmt.Sprint(ff) != fmt.Sprint(want) {
		t.Fatalf("got  %+v\nwant %+v", ff, want)
	}
	if got := ff[0].Line(); got != "latency client->bank, planned at 3s: failed to apply: toxiproxy: connection refused" {
		t.Errorf("Line: %s", got)
	}
	if got := ff[2].Line(); got != "partition bank->broker, planned at 9s: failed to heal: proxy gone" {
		t.Errorf("Line: %s", got)
	}
}

// The plan lists four faults and the run started two: the last two were never applied.
func TestFaultFailuresCountFaultsNeverStarted(t *testing.T) {
	pl := fourFaults()
	recs := records(pl[:2], nil, nil)
	ff := FaultFailures(pl, recs)
	if len(ff) != 2 || ff[0].Index != 2 || ff[1].Index != 3 {
		t.Fatalf("want faults 2 and 3 never applied, got %+v", ff)
	}
	for _, f := range ff {
		if f.Phase != PhaseApply || !f.Missing || f.What() != "never applied" {
			t.Errorf("%+v: want a missing apply", f)
		}
	}
	// A start without its stop: never healed.
	ff = FaultFailures(pl[:1], recs[:1])
	if len(ff) != 1 || ff[0].Phase != PhaseHeal || !ff[0].Missing || ff[0].What() != "never healed" {
		t.Errorf("a start without a stop: %+v", ff)
	}
	// The same, in records written before they carried their position (n is 0 in all).
	for i := range recs {
		recs[i].N = 0
	}
	if ff := FaultFailures(pl, recs); len(ff) != 2 || ff[0].Index != 2 || ff[1].Index != 3 {
		t.Errorf("without positions: %+v", ff)
	}
}

// Two latency faults on one link overlap: the long one from 1s to 11s, the short one
// from 3s to 5s, whose heal fails. The stop at 5s is the short one's, with or without
// the records' positions.
func TestFaultFailuresPairOverlappingFaults(t *testing.T) {
	params := map[string]string{"latency": "100ms"}
	pl := []plan.Fault{
		{At: at(1), For: at(10), Kind: "latency", Target: "client->bank", Params: params},
		{At: at(3), For: at(2), Kind: "latency", Target: "client->bank", Params: params},
	}
	recs := []history.Fault{
		{Time: ns(1), Phase: history.Start, Fault: "latency", Target: "client->bank", Params: params, N: 0},
		{Time: ns(3), Phase: history.Start, Fault: "latency", Target: "client->bank", Params: params, N: 1},
		{Time: ns(5), Phase: history.Stop, Fault: "latency", Target: "client->bank", Params: params, N: 1, Error: "toxic not found"},
		{Time: ns(11), Phase: history.Stop, Fault: "latency", Target: "client->bank", Params: params, N: 0},
	}
	check := func(how string) {
		t.Helper()
		ff := FaultFailures(pl, recs)
		if len(ff) != 1 || ff[0].Index != 1 || ff[0].Phase != PhaseHeal || ff[0].Error != "toxic not found" {
			t.Errorf("%s: want the short fault's heal failed, got %+v", how, ff)
		}
	}
	check("by position")
	for i := range recs {
		recs[i].N = 0
	}
	check("by kind, target and window")
	// The timeline's windows pair the same way once the records carry positions.
	recs[1].N, recs[2].N = 1, 1
	ws := FaultWindows(recs)
	if len(ws) != 2 || ws[0].Stop != ns(11) || ws[1].Stop != ns(5) || !strings.Contains(ws[1].Error, "toxic not found") {
		t.Errorf("windows: %+v", ws)
	}
}

// A failed record no planned fault accounts for still counts.
func TestFaultFailuresKeepUnplannedErrors(t *testing.T) {
	ff := FaultFailures(nil, []history.Fault{{Time: ns(2), Phase: history.Start, Fault: "pause", Target: "bank/1", Error: "no such container"}})
	if len(ff) != 1 || ff[0].Index != -1 || ff[0].Phase != PhaseApply {
		t.Fatalf("%+v", ff)
	}
	if got := ff[0].Line(); got != "pause bank/1 (not in the plan): failed to apply: no such container" {
		t.Errorf("Line: %s", got)
	}
}

func TestVerdictReason(t *testing.T) {
	pl := fourFaults()
	allFail := map[int]string{0: "toxiproxy: connection refused", 1: "no such process", 2: "toxiproxy: connection refused", 3: "nats: no stream"}
	r := &Run{Results: pass("idempotent"), Faults: FaultCounts{Planned: 4}, FaultFailures: FaultFailures(pl, records(pl, allFail, nil))}
	want := "inconclusive: 4 of 4 planned faults failed to apply: latency client->bank: toxiproxy: connection refused; kill bank/0: no such process … and 2 more"
	if got := VerdictReason(r); got != want {
		t.Errorf("reason:\n got %s\nwant %s", got, want)
	}
	r.FaultFailures = FaultFailures(pl, records(pl, map[int]string{0: "refused"}, map[int]string{2: "proxy gone"}))
	if got, want := FaultsHeadline(r.FaultFailures, 4), "2 of 4 planned faults failed: 1 to apply, 1 to heal"; got != want {
		t.Errorf("headline %q, want %q", got, want)
	}
	r.FaultFailures = FaultFailures(pl, records(pl, nil, map[int]string{2: "proxy gone"}))
	r.Results = append(r.Results, invariants.Result{Name: "converges", Verdict: invariants.Unknown})
	if got, want := VerdictReason(r), "inconclusive: 1 of 4 planned faults failed to heal: partition bank->broker: heal: proxy gone; converges unknown"; got != want {
		t.Errorf("reason:\n got %s\nwant %s", got, want)
	}
	r.Results = append(r.Results, invariants.Result{Name: "durable", Verdict: invariants.Fail})
	if got := VerdictReason(r); got != "violated: durable" {
		t.Errorf("reason of a failed run: %s", got)
	}
	if got := VerdictReason(&Run{Results: pass("idempotent")}); got != "" {
		t.Errorf("a pass needs no reason: %q", got)
	}
}

// Counts are of planned faults: one that failed to apply is neither applied nor healed,
// though the scheduler closes it with a stop record.
func TestCountFaults(t *testing.T) {
	pl := fourFaults()
	for _, tc := range []struct {
		name string
		recs []history.Fault
		want FaultCounts
	}{
		{"all applied and healed", records(pl, nil, nil), FaultCounts{Planned: 4, Applied: 4, Healed: 4}},
		{"two failed to apply, one to heal", records(pl, map[int]string{0: "x", 1: "y"}, map[int]string{2: "z"}), FaultCounts{Planned: 4, Applied: 2, Healed: 1, Errors: 3}},
		{"none recorded", nil, FaultCounts{Planned: 4}},
	} {
		if got := CountFaults(pl, tc.recs); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
