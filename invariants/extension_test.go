package invariants_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
)

// ackedTookEffect is a checker written the way a user writes one, outside the package
// and with its exported API only: every operation a client saw acknowledged took
// effect in a write view, on the key it asked for, or the service recorded it rejected.
func ackedTookEffect(ctx context.Context, ix *invariants.Index, _ map[string]string) invariants.Result {
	if miss := ix.MissingViews(history.WriteView); miss != "" {
		return invariants.UnknownResult(miss)
	}
	var writes []invariants.View
	for _, v := range ix.Views() {
		if v.Name == history.WriteView {
			writes = append(writes, v)
		}
	}
	var ws []invariants.Witness
	violations, checked := 0, 0
	for op := range ix.Ops() {
		if ctx.Err() != nil {
			return invariants.UnknownResult("ran out of time")
		}
		if op.Outcome != history.Ok {
			continue
		}
		checked++
		var effs []history.Effect
		rejected := false
		for _, v := range writes {
			effs = append(effs, v.Effects(op.Ref)...)
			if s, ok := v.OpState(op.Ref); ok && s == history.StateRejected {
				rejected = true
			}
		}
		note := ""
		switch req := ix.Request(op.Ref); {
		case len(effs) == 0 && !rejected:
			note = fmt.Sprintf("acknowledged %s has no write effect", op.ID)
		case len(effs) > 0 && req != nil && effs[0].Key != req.Key:
			note = fmt.Sprintf("acknowledged %s took effect on %s, asked %s", op.ID, effs[0].Key, req.Key)
		}
		if note == "" {
			continue
		}
		violations++
		if len(ws) < invariants.MaxWitnesses {
			ws = append(ws, ix.OpWitness(op.Ref, history.WriteView, note, effs))
		}
	}
	return invariants.NewResult(violations, checked, ws, "acknowledged operations")
}

const ackedName = "extension-acked-took-effect"

func init() { invariants.Register(plan.InvariantKind{Name: ackedName}, ackedTookEffect) }

func val(n int64) *int64 { return &n }

// smallRun is a clean run of five operations: op-1 and op-2 acknowledged and applied,
// op-3 failed with no effect, op-4 of unknown outcome with no effect, op-5
// acknowledged and rejected. A latency fault is active while op-2 is in flight.
func smallRun() *invariants.Input {
	op := func(t int64, proc int, typ history.OpType, f, key, id string, amount int64) history.Op {
		return history.Op{Time: t, Process: proc, Type: typ, F: f, Key: key, ID: id,
			Value: json.RawMessage(fmt.Sprintf(`{"amount":%d}`, amount))}
	}
	w := func(kind, key, id string, amount, seq int64) history.Effect {
		return history.Effect{Service: "bank", View: history.WriteView, Kind: kind, Key: key, ID: id, Amount: amount, Seq: seq}
	}
	state := func(id, s string) history.Effect {
		return history.Effect{Service: "bank", View: history.WriteView, Kind: history.KindOperation, ID: id, State: s}
	}
	return &invariants.Input{
		Ops: []history.Op{
			op(1000, 0, history.Invoke, "deposit", "acct-1", "op-1", 100),
			op(1200, 0, history.Ok, "deposit", "acct-1", "op-1", 100),
			op(2000, 1, history.Invoke, "deposit", "acct-2", "op-2", 50),
			op(2200, 1, history.Ok, "deposit", "acct-2", "op-2", 50),
			op(3100, 0, history.Invoke, "withdraw", "acct-1", "op-3", 10),
			op(3200, 0, history.Fail, "withdraw", "acct-1", "op-3", 10),
			op(3300, 1, history.Invoke, "deposit", "acct-2", "op-4", 5),
			op(3400, 1, history.Info, "deposit", "acct-2", "op-4", 5),
			op(3500, 0, history.Invoke, "withdraw", "acct-2", "op-5", 500),
			op(3600, 0, history.Ok, "withdraw", "acct-2", "op-5", 500),
		},
		Faults: []history.Fault{
			{Time: 2100, Phase: history.Start, Fault: "latency", Target: "client->bank", N: 0},
			{Time: 3000, Phase: history.Stop, Fault: "latency", Target: "client->bank", N: 0},
		},
		Effects: []history.Effect{
			w("credit", "acct-1", "op-1", 100, 1), state("op-1", history.StateApplied),
			w("credit", "acct-2", "op-2", 50, 1), state("op-2", history.StateApplied),
			state("op-3", history.StateAborted),
			state("op-5", history.StateRejected),
			{Service: "bank", View: history.WriteView, Kind: history.KindState, Key: "acct-1", Value: val(100), Seq: 1},
			{Service: "bank", View: history.WriteView, Kind: history.KindState, Key: "acct-2", Value: val(50), Seq: 1},
		},
		Views: map[string][]string{"bank": {history.WriteView}},
	}
}

func checkAcked(t *testing.T, in *invariants.Input) invariants.Result {
	t.Helper()
	r := invariants.Check(context.Background(), in, []invariants.Spec{{Name: ackedName}})[0]
	if r.Name != ackedName {
		t.Fatalf("result named %q, want %q", r.Name, ackedName)
	}
	return r
}

func TestOutsideCheckerIsRegistered(t *testing.T) {
	if !slices.Contains(invariants.Names(), ackedName) {
		t.Fatalf("Names() = %v, want it to list %s", invariants.Names(), ackedName)
	}
}

func TestOutsideCheckerPassesACleanRun(t *testing.T) {
	r := checkAcked(t, smallRun())
	if r.Verdict != invariants.Pass || r.Violations != 0 || r.Checked != 3 || len(r.Witnesses) != 0 {
		t.Fatalf("clean run: %s (%s), %d violations of %d checked, witnesses %+v; want pass over the 3 acknowledged ops",
			r.Verdict, r.Summary, r.Violations, r.Checked, r.Witnesses)
	}
}

func TestOutsideCheckerFailsWithAWitness(t *testing.T) {
	t.Run("acknowledged op lost", func(t *testing.T) {
		in := smallRun()
		in.Effects = slices.DeleteFunc(in.Effects, func(e history.Effect) bool { return e.ID == "op-2" })
		// The built-in durable judges the same loss: both witnesses have one shape.
		rs := invariants.Check(context.Background(), in, []invariants.Spec{{Name: ackedName}, {Name: "durable"}})
		r, durable := rs[0], rs[1]
		if r.Verdict != invariants.Fail || r.Violations != 1 || r.Checked != 3 || len(r.Witnesses) != 1 {
			t.Fatalf("lost op: %s (%s), %d violations of %d, %d witnesses; want fail with one witness",
				r.Verdict, r.Summary, r.Violations, r.Checked, len(r.Witnesses))
		}
		w := r.Witnesses[0]
		if w.ID != "op-2" || w.Key != "acct-2" || w.View != history.WriteView || !strings.Contains(w.Note, "op-2 has no write effect") {
			t.Errorf("witness %+v, want op-2 on acct-2 with no write effect", w)
		}
		if len(w.Ops) != 2 || w.Ops[0].Type != history.Invoke || w.Ops[1].Type != history.Ok || w.Ops[0].ID != "op-2" || w.Ops[1].ID != "op-2" {
			t.Errorf("witness history lines %+v, want op-2's invoke and ok", w.Ops)
		}
		if len(w.Faults) != 1 || w.Faults[0].Fault != "latency" || w.Faults[0].Phase != history.Start {
			t.Errorf("witness faults %+v, want the latency active while op-2 was in flight", w.Faults)
		}
		if durable.Verdict != invariants.Fail || len(durable.Witnesses) != 1 {
			t.Fatalf("durable: %s (%s) with %d witnesses, want fail with one", durable.Verdict, durable.Summary, len(durable.Witnesses))
		}
		d := durable.Witnesses[0]
		if d.ID != w.ID || d.Key != w.Key || !reflect.DeepEqual(d.Ops, w.Ops) || len(d.Faults) != len(w.Faults) {
			t.Errorf("durable's witness %+v and the outside checker's %+v differ in shape", d, w)
		}
	})
	t.Run("applied to another key", func(t *testing.T) {
		in := smallRun()
		for i := range in.Effects {
			if e := &in.Effects[i]; e.ID == "op-1" && e.Kind == "credit" {
				e.Key = "acct-9"
			}
		}
		r := checkAcked(t, in)
		if r.Verdict != invariants.Fail || r.Violations != 1 || len(r.Witnesses) != 1 {
			t.Fatalf("moved op: %s (%s), %d violations; want fail with one witness", r.Verdict, r.Summary, r.Violations)
		}
		w := r.Witnesses[0]
		if w.ID != "op-1" || w.Key != "acct-9" || len(w.Effects) != 1 || w.Effects[0].Key != "acct-9" || !strings.Contains(w.Note, "asked acct-1") {
			t.Errorf("witness %+v, want op-1 applied to acct-9 with its effect", w)
		}
		if len(w.Faults) != 0 {
			t.Errorf("witness faults %+v, want none: no fault was active while op-1 ran", w.Faults)
		}
	})
}

func TestOutsideCheckerIsUnknownWithNothingToJudge(t *testing.T) {
	for _, tc := range []struct {
		name, reason string
		in           *invariants.Input
	}{
		{"empty run", "nothing to judge", &invariants.Input{}},
		{"no acknowledged op", "nothing to judge", func() *invariants.Input {
			in := smallRun()
			for i := range in.Ops {
				if in.Ops[i].Type == history.Ok {
					in.Ops[i].Type = history.Info
				}
			}
			return in
		}()},
		{"declared write view never observed", "declares a write model, but none was observed", func() *invariants.Input {
			in := smallRun()
			in.Effects = nil
			return in
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := checkAcked(t, tc.in)
			if r.Verdict != invariants.Unknown || !strings.Contains(r.Summary, tc.reason) {
				t.Fatalf("%s (%s), want unknown because %q", r.Verdict, r.Summary, tc.reason)
			}
		})
	}
}

// The accessors return what the run recorded.
func TestIndexAccessors(t *testing.T) {
	in := smallRun()
	in.Effects = append(in.Effects, history.Effect{Service: "bank", View: history.WriteView, Kind: "credit", Key: "acct-1", ID: "ghost", Amount: 7, Seq: 2})
	ix := invariants.NewIndex(in)

	var ids []string
	for op := range ix.Ops() {
		ids = append(ids, op.ID)
	}
	if want := []string{"op-1", "op-2", "op-3", "op-4", "op-5", "ghost"}; !slices.Equal(ids, want) || ix.NumOps() != len(want) {
		t.Fatalf("Ops() = %v (NumOps %d), want %v", ids, ix.NumOps(), want)
	}
	op, ok := ix.Lookup("op-3")
	if !ok || op.ID != "op-3" || op.Outcome != history.Fail || !op.Invoked || op.Invoke == nil || !reflect.DeepEqual(*op.Invoke, in.Ops[4]) || op.Complete == nil || !reflect.DeepEqual(*op.Complete, in.Ops[5]) {
		t.Errorf("Lookup(op-3) = %+v, %v; want the failed op-3 with its two lines", op, ok)
	}
	if ix.Op(op.Ref).ID != "op-3" {
		t.Errorf("Op(%d) is not op-3", op.Ref)
	}
	if from, to := ix.OpSpan(op.Ref); from != 3100 || to != 3200 {
		t.Errorf("OpSpan(op-3) = %d..%d, want 3100..3200", from, to)
	}
	if lines := ix.OpLines(op.Ref); len(lines) != 2 || lines[1].Type != history.Fail {
		t.Errorf("OpLines(op-3) = %+v", lines)
	}
	ghost, ok := ix.Lookup("ghost")
	if !ok || ghost.Invoked || ghost.Invoke != nil || ghost.Complete != nil || ghost.Outcome != "" || ix.Request(ghost.Ref) != nil {
		t.Errorf("Lookup(ghost) = %+v, %v; want an op no client invoked", ghost, ok)
	}
	if _, ok := ix.Lookup("op-99"); ok {
		t.Errorf("Lookup(op-99) found an op that was never recorded")
	}

	views := ix.Views()
	if len(views) != 1 || views[0].Service != "bank" || views[0].Name != history.WriteView {
		t.Fatalf("Views() = %+v, want bank/write only", views)
	}
	if _, ok := ix.View("bank", history.ReadView); ok {
		t.Errorf("View(bank, read) found a view that was never observed")
	}
	v, _ := ix.View("bank", history.WriteView)
	one, _ := ix.Lookup("op-1")
	if effs := v.Effects(one.Ref); v.Count(one.Ref) != 1 || len(effs) != 1 || effs[0].Amount != 100 {
		t.Errorf("write effects of op-1 = %+v, want its credit of 100", effs)
	}
	if v.Count(op.Ref) != 0 || v.Effects(op.Ref) != nil {
		t.Errorf("failed op-3 has effects %+v", v.Effects(op.Ref))
	}
	if s, ok := v.OpState(op.Ref); !ok || s != history.StateAborted {
		t.Errorf("OpState(op-3) = %q, %v; want aborted", s, ok)
	}
	if s, ok := v.OpState(ghost.Ref); ok {
		t.Errorf("OpState(ghost) = %q, want none reported", s)
	}
	var applied []string
	for r, e := range v.Applied() {
		applied = append(applied, ix.Op(r).ID+"/"+e.Key)
	}
	if want := []string{"op-1/acct-1", "op-2/acct-2", "ghost/acct-1"}; !slices.Equal(applied, want) {
		t.Errorf("Applied() = %v, want %v", applied, want)
	}
	if keys := v.Keys(); !slices.Equal(keys, []string{"acct-1", "acct-2"}) {
		t.Errorf("Keys() = %v", keys)
	}
	if s := v.State("acct-1"); s == nil || *s.Value != 100 {
		t.Errorf("State(acct-1) = %+v, want 100", s)
	}
	if s := v.State("acct-7"); s != nil {
		t.Errorf("State(acct-7) = %+v, want none", s)
	}

	if fs := ix.ActiveFaults(2500, 2600); len(fs) != 1 || fs[0].Fault != "latency" {
		t.Errorf("ActiveFaults(2500, 2600) = %+v, want the latency", fs)
	}
	if fs := ix.ActiveFaults(3100, 3200); len(fs) != 0 {
		t.Errorf("ActiveFaults(3100, 3200) = %+v, want none: the latency healed at 3000", fs)
	}
	if miss := ix.MissingViews(); miss != "" {
		t.Errorf("MissingViews() = %q with the write view observed", miss)
	}
	in.Views["ledger"] = []string{history.ReadView}
	if miss := ix.MissingViews(); !strings.Contains(miss, "ledger declares a read model") {
		t.Errorf("MissingViews() = %q, want the ledger's read model", miss)
	}
	if miss := ix.MissingViews(history.WriteView); miss != "" {
		t.Errorf("MissingViews(write) = %q, want none: only the ledger's read view is missing", miss)
	}

	two, _ := ix.Lookup("op-2")
	w := ix.EffectWitness("acct-2", history.WriteView, "note", v.Effects(two.Ref))
	if len(w.Ops) != 2 || w.Ops[0].ID != "op-2" || len(w.Faults) != 1 || w.Key != "acct-2" || len(w.Effects) != 1 {
		t.Errorf("EffectWitness over op-2's effect = %+v, want op-2's lines and the latency", w)
	}

	for _, tc := range []struct {
		violations, checked int
		want                invariants.Verdict
	}{{0, 0, invariants.Unknown}, {0, 3, invariants.Pass}, {1, 3, invariants.Fail}, {2, 0, invariants.Fail}} {
		if r := invariants.NewResult(tc.violations, tc.checked, nil, "ops"); r.Verdict != tc.want {
			t.Errorf("NewResult(%d, %d) = %s (%s), want %s", tc.violations, tc.checked, r.Verdict, r.Summary, tc.want)
		}
	}
	if r := invariants.UnknownResult("why"); r.Verdict != invariants.Unknown || r.Summary != "why" {
		t.Errorf("UnknownResult = %+v", r)
	}
}

// CheckEach hands every result over in the order of the specs, on the caller's
// goroutine, and returns what CheckIndex returns.
func TestCheckEachInOrder(t *testing.T) {
	in := smallRun()
	specs := []invariants.Spec{{Name: ackedName}, {Name: "durable"}, {Name: "no-such-check"}, {Name: "idempotent"}, {Name: ackedName}}
	ix := invariants.NewIndex(in)
	var seen []string
	got := invariants.CheckEach(context.Background(), ix, specs, func(r invariants.Result) { seen = append(seen, r.Name) })
	want := invariants.CheckIndex(context.Background(), ix, specs)
	if len(seen) != len(specs) || len(got) != len(specs) {
		t.Fatalf("handed %v, returned %d results, for %d specs", seen, len(got), len(specs))
	}
	for i, s := range specs {
		if seen[i] != s.Name || got[i].Name != s.Name || got[i].Verdict != want[i].Verdict || got[i].Checked != want[i].Checked {
			t.Errorf("result %d: handed %s, returned %s %s (%d checked), CheckIndex %s %s; want %s",
				i, seen[i], got[i].Name, got[i].Verdict, got[i].Checked, want[i].Name, want[i].Verdict, s.Name)
		}
	}
	if got[2].Verdict != invariants.Unknown || got[0].Verdict != invariants.Pass {
		t.Errorf("verdicts %s, %s; want the unknown check unknown and the clean run's pass", got[2].Verdict, got[0].Verdict)
	}
}
