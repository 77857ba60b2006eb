package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// writeSynthRun writes a recorded run of n operations into dir, as the runner would:
// history.jsonl (8 clients, each one operation at a time, 2n records in time order),
// faults.jsonl (a latency window, a kill, an unhealed partition) and result.json with
// a failing durable invariant whose witness is an operation acknowledged during the
// kill. It streams, so n may be a million.
func writeSynthRun(dir string, n int, started time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	hw, err := history.Create(filepath.Join(dir, historyFile))
	if err != nil {
		return err
	}
	const procs = 8
	const ms = int64(time.Millisecond)
	// Operation k is invoked at k*step and completes lat later; with step 2.5ms a
	// process's next operation always starts after its previous one ended.
	step := 2500 * int64(time.Microsecond) // 400 ops/s
	span := int64(n) * step
	var (
		idx       int64
		counts    reports.OpCounts
		witness   []history.Op
		witnessID string
	)
	type pending struct {
		op history.Op
		at int64
	}
	var open []pending // completions not yet written, in time order
	emit := func(op history.Op) error {
		op.Index = idx
		idx++
		if witnessID != "" && op.ID == witnessID {
			witness = append(witness, op)
		}
		return hw.Write(op)
	}
	for k := range n {
		t := int64(k) * step
		for len(open) > 0 && open[0].at <= t {
			if err := emit(open[0].op); err != nil {
				return err
			}
			open = open[1:]
		}
		proc := k % procs
		id := fmt.Sprintf("w-%07d", k)
		key := fmt.Sprintf("acct-%d", k%20)
		inv := history.Op{Time: t, Process: proc, Type: history.Invoke, F: "withdraw", Key: key, ID: id, Value: []byte(`{"amount":10}`)}
		frac := float64(t) / float64(span)
		lat := int64(8+k%7) * ms
		typ := history.Ok
		switch {
		case frac >= 0.2 && frac < 0.45: // the latency fault
			lat += 9 * ms
		case frac >= 0.6 && frac < 0.7 && k%5 == 0: // the partition, later
			typ = history.Info
		}
		if frac >= 0.3 && frac < 0.35 && k%11 == 0 {
			typ = history.Fail
		}
		if witnessID == "" && frac >= 0.32 && typ == history.Ok {
			witnessID = id
		}
		if err := emit(inv); err != nil {
			return err
		}
		done := inv
		done.Time, done.Type = t+lat, typ
		if typ != history.Ok {
			done.Error, done.Attempts = "context deadline exceeded", 3
		}
		// Keep the completions in time order: the file is.
		at := len(open)
		for at > 0 && open[at-1].at > t+lat {
			at--
		}
		open = slices.Insert(open, at, pending{done, t + lat})
		counts.Add(inv.Type)
		counts.Add(typ)
	}
	for _, p := range open {
		if err := emit(p.op); err != nil {
			return err
		}
	}
	if err := hw.Close(); err != nil {
		return err
	}

	faults := []history.Fault{
		{Time: span / 5, Phase: history.Start, Fault: "latency", Target: "client->bank", Params: map[string]string{"latency": "9ms"}},
		{Time: span * 3 / 10, Phase: history.Start, Fault: "kill", Target: "bank/0", Params: map[string]string{"restart-after": "1s"}},
		{Time: span * 35 / 100, Phase: history.Stop, Fault: "kill", Target: "bank/0"},
		{Time: span * 45 / 100, Phase: history.Stop, Fault: "latency", Target: "client->bank"},
		{Time: span * 6 / 10, Phase: history.Start, Fault: "partition", Target: "bank->broker"},
	}
	fw, err := history.Create(filepath.Join(dir, faultsFile))
	if err != nil {
		return err
	}
	for _, f := range faults {
		if err := fw.Write(f); err != nil {
			return err
		}
	}
	if err := fw.Close(); err != nil {
		return err
	}

	counts.Rate = float64(counts.Completed()) / (float64(span) / 1e9)
	counts.P50, counts.P99 = 11*time.Millisecond, 22*time.Millisecond
	r := &reports.Run{
		Scenario: "bank-idempotency", Seed: 7, Testbed: "local", Bugs: []string{"ack-before-commit"}, Dir: dir,
		Started: started, Wall: time.Duration(span) + 3*time.Second, Ops: counts,
		Faults:   reports.FaultCounts{Planned: 3, Applied: 3, Healed: 2},
		Converge: &reports.Converge{Converged: true, After: 1200 * time.Millisecond, Polls: 12},
		Results: []invariants.Result{
			{Name: "idempotent", Verdict: invariants.Pass, Summary: fmt.Sprintf("%d operations checked", n), Checked: n, Elapsed: 3 * time.Millisecond},
			{Name: "durable", Verdict: invariants.Fail, Summary: fmt.Sprintf("1 of %d operations violate it", n), Violations: 1, Checked: n,
				Elapsed: 4 * time.Millisecond, Witnesses: []invariants.Witness{{
					ID: witness[0].ID, Key: witness[0].Key, View: "write",
					Note:    "acknowledged (ok) but never applied",
					Ops:     witness,
					Effects: []history.Effect{{Service: "bank", View: "write", Kind: "operation", ID: witness[0].ID, State: "pending"}},
					Faults:  []history.Fault{faults[0], faults[1]},
				}}},
			{Name: "conservation", Verdict: invariants.Pass, Summary: "20 keys checked", Checked: 20, Elapsed: time.Millisecond},
			{Name: "converges", Verdict: invariants.Unknown, Summary: "ran out of time before finishing", Elapsed: time.Second,
				Measures: map[string]int64{"time_to_converge_ns": int64(1200 * time.Millisecond), "polls": 12}},
		},
		Verdict: invariants.Fail,
	}
	return reports.WriteFile(filepath.Join(dir, resultFile), r)
}
