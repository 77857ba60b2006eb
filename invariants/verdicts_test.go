package invariants

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mscli/mscli/history"
)

// firstDebit returns the index of the first debit effect of a view.
func firstDebit(in *Input, view string) int {
	for i, e := range in.Effects {
		if e.View == view && e.Kind == "debit" {
			return i
		}
	}
	panic("no debit in " + view)
}

// adjustState adds delta to a key's final state (Time 0) in both views, so the
// balances still add up after a tampered effect.
func adjustState(in *Input, key string, delta int64) {
	for i := range in.Effects {
		e := &in.Effects[i]
		if e.Kind == history.KindState && e.Key == key && e.Time == 0 {
			v := *e.Value + delta
			e.Value = &v
		}
	}
}

// Effects that disagree with what the client asked fail durable even when every view
// and every balance was adjusted to add up.
func TestEffectsAreJudgedAgainstTheRequest(t *testing.T) {
	for _, tc := range []struct {
		name, note string
		mutate     func(in *Input)
	}{
		{"credited to another account", "took effect on acct-", func(in *Input) {
			// Both views move a credit of acct-1 to acct-9 and keep their balances
			// consistent; the final reads follow the balances.
			var id string
			var amount int64
			for _, e := range in.Effects {
				if e.View == history.WriteView && e.Kind == "credit" && e.Key == "acct-1" && e.Seq > 1 {
					id, amount = e.ID, e.Amount
					break
				}
			}
			for i := range in.Effects {
				if in.Effects[i].ID == id && in.Effects[i].Kind == "credit" {
					in.Effects[i].Key = "acct-9"
				}
			}
			adjustState(in, "acct-1", -amount)
			adjustState(in, "acct-9", amount)
			moveFinalReads(in)
		}},
		{"debited three times the amount", "took effect for", func(in *Input) {
			w := firstDebit(in, history.WriteView)
			id, amount, key := in.Effects[w].ID, in.Effects[w].Amount, in.Effects[w].Key
			for i := range in.Effects {
				if in.Effects[i].ID == id && in.Effects[i].Kind == "debit" {
					in.Effects[i].Amount = 3 * amount
				}
			}
			adjustState(in, key, 2*amount)
			moveFinalReads(in)
		}},
		{"applied twice, idempotent not listed", "took effect 2 times", func(in *Input) {
			w := firstDebit(in, history.WriteView)
			e := in.Effects[w]
			e.Seq = 100000
			in.Effects = append(in.Effects, e)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := synth(3000, 10, 2)
			tc.mutate(in)
			r := Check(context.Background(), in, []Spec{{Name: "durable"}})[0]
			if r.Verdict != Fail {
				t.Fatalf("durable = %s (%s), want fail", r.Verdict, r.Summary)
			}
			if !strings.Contains(r.Witnesses[0].Note, tc.note) {
				t.Fatalf("first witness %q, want %q", r.Witnesses[0].Note, tc.note)
			}
			if len(r.Witnesses[0].Ops) == 0 {
				t.Fatalf("witness without history lines: %+v", r.Witnesses[0])
			}
		})
	}
}

// moveFinalReads makes the final public reads agree with the (tampered) write model,
// as a service misreporting itself consistently would.
func moveFinalReads(in *Input) {
	final := map[string]*history.Effect{}
	for i := range in.Effects {
		if e := &in.Effects[i]; e.Kind == history.KindState && e.View == history.WriteView && e.Time == 0 {
			final[e.Key] = e
		}
	}
	for i := range in.Ops {
		o := &in.Ops[i]
		if o.F == history.FRead && o.Type == history.Ok {
			e := final[o.Key]
			o.Value = json.RawMessage(fmt.Sprintf(`{"value":%d,"seq":%d}`, *e.Value, e.Seq))
		}
	}
}

// A read model that agrees with the write model in the service's own account, but
// not through its public API, fails converges.
func TestConvergesHoldsThePublicReadsAgainstTheWriteModel(t *testing.T) {
	in := synth(3000, 10, 2)
	for i := range in.Ops {
		if o := &in.Ops[i]; o.F == history.FRead && o.Type == history.Ok && o.Key == "acct-3" {
			o.Value = json.RawMessage(`{"value":1,"seq":1}`)
		}
	}
	r := Check(context.Background(), in, all[4:])[0]
	if r.Verdict != Fail || !strings.Contains(r.Witnesses[0].Note, "final read of acct-3") {
		t.Fatalf("converges = %s (%s) %+v, want fail naming the final read", r.Verdict, r.Summary, r.Witnesses)
	}
	if r.Violations > r.Checked {
		t.Fatalf("summary counts two units: %s", r.Summary)
	}
}

// What cannot be judged is unknown with its reason, never pass.
func TestNothingToJudgeIsUnknown(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(in *Input)
		unknown []string // invariants that must be unknown
		reason  string
	}{
		{"no read model observed", func(in *Input) {
			in.Effects = dropEffects(in.Effects, func(e history.Effect) bool { return e.View == history.ReadView })
		}, []string{"idempotent", "conservation", "ordered", "converges"}, "declares a read model"},
		{"no final public read", func(in *Input) {
			var ops []history.Op
			for _, o := range in.Ops {
				if o.F != history.FRead {
					ops = append(ops, o)
				}
			}
			in.Ops = ops
		}, []string{"converges"}, "never read"},
		{"nothing recorded", func(in *Input) {
			in.Ops, in.Effects, in.Faults = nil, nil, nil
		}, []string{"idempotent", "durable", "conservation", "ordered", "converges"}, ""},
		{"no operations", func(in *Input) {
			in.Ops = nil
			in.Effects = dropEffects(in.Effects, func(e history.Effect) bool { return e.Kind != history.KindState })
			in.PublicReads = ""
		}, []string{"durable"}, "nothing to judge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := synth(2000, 10, 6)
			tc.mutate(in)
			rs := results(t, in)
			for _, name := range tc.unknown {
				r := rs[name]
				if r.Verdict != Unknown {
					t.Errorf("%s = %s (%s), want unknown", name, r.Verdict, r.Summary)
				} else if tc.reason != "" && !strings.Contains(r.Summary, tc.reason) {
					t.Errorf("%s unknown because %q, want a reason with %q", name, r.Summary, tc.reason)
				}
			}
		})
	}
	if r := NewResult(0, 0, nil, "keys"); r.Verdict != Unknown {
		t.Errorf("NewResult(0, 0) = %s, want unknown", r.Verdict)
	}
}

// Two overlapping faults of one kind on one target are two windows; a fault that
// failed to apply is never active; an effect's own time finds the fault active when
// it happened, even outside its operation's invoke→ok span.
func TestFaultWindows(t *testing.T) {
	in := synth(3000, 10, 3)
	last := in.Ops[len(in.Ops)-1].Time
	in.Faults = []history.Fault{
		{Time: 1000, Phase: history.Start, Fault: "latency", Target: "client->bank", N: 0},
		{Time: 2000, Phase: history.Start, Fault: "latency", Target: "client->bank", N: 1},
		{Time: 3000, Phase: history.Stop, Fault: "latency", Target: "client->bank", N: 1},
		{Time: 5000, Phase: history.Stop, Fault: "latency", Target: "client->bank", N: 0},
		{Time: 6000, Phase: history.Start, Fault: "kill", Target: "bank/0", N: 2, Error: "no such container"},
		{Time: 6000, Phase: history.Stop, Fault: "kill", Target: "bank/0", N: 2},
		{Time: last + 10, Phase: history.Start, Fault: "duplicate", Target: "bank.commands", N: 3},
		{Time: last + 20, Phase: history.Stop, Fault: "duplicate", Target: "bank.commands", N: 3},
	}
	ix := NewIndex(in)
	if len(ix.windows) != 3 {
		t.Fatalf("%d windows, want 3 (the failed kill has none): %+v", len(ix.windows), ix.windows)
	}
	if w := ix.windows[0]; w.from != 1000 || w.to != 5000 {
		t.Errorf("first latency window %d..%d, want 1000..5000", w.from, w.to)
	}
	if w := ix.windows[1]; w.from != 2000 || w.to != 3000 {
		t.Errorf("second latency window %d..%d, want 2000..3000", w.from, w.to)
	}
	if fs := ix.ActiveFaults(4000, 4000); len(fs) != 1 || fs[0].N != 0 {
		t.Errorf("active at 4000: %+v, want the first latency only", fs)
	}
	if fs := ix.ActiveFaults(6000, 6000); len(fs) != 0 {
		t.Errorf("active at 6000: %+v, want none (the kill failed)", fs)
	}
	// A duplicate applied after the run: the effect's time shows the fault.
	w := firstDebit(in, history.WriteView)
	dup := in.Effects[w]
	dup.Seq, dup.At = 100000, last+15
	in.Effects = append(in.Effects, dup)
	r := Check(context.Background(), in, []Spec{{Name: "idempotent"}})[0]
	if r.Verdict != Fail {
		t.Fatalf("idempotent = %s", r.Verdict)
	}
	found := false
	for _, f := range r.Witnesses[0].Faults {
		found = found || f.Fault == "duplicate"
	}
	if !found {
		t.Fatalf("witness faults %+v: want the duplicate active when the effect happened", r.Witnesses[0].Faults)
	}
}

// ordered names the sequence number it expected and the operation that holds it.
func TestOrderedNamesTheMissingOperation(t *testing.T) {
	in := synth(3000, 10, 2)
	var missing string
	in.Effects = dropEffects(in.Effects, func(e history.Effect) bool {
		if e.View == history.ReadView && e.Key == "acct-3" && e.Seq == 4 && e.Kind != history.KindState {
			missing = e.ID
			return true
		}
		return false
	})
	r := Check(context.Background(), in, []Spec{{Name: "ordered"}})[0]
	if r.Verdict != Fail {
		t.Fatalf("ordered = %s", r.Verdict)
	}
	w := r.Witnesses[0]
	if !strings.Contains(w.Note, "want seq 4 ("+missing+")") || w.ID != missing {
		t.Fatalf("witness %q (id %s), want seq 4 and %s named", w.Note, w.ID, missing)
	}
}

// Every witness carries the history lines of its operations, state witnesses included.
func TestStateWitnessesCarryHistoryLines(t *testing.T) {
	in := synth(3000, 10, 2)
	adjustState(in, "acct-2", 10)
	for _, name := range []string{"conservation", "converges"} {
		in := in
		if name == "converges" {
			in = synth(3000, 10, 2)
			for i := range in.Effects {
				if e := &in.Effects[i]; e.Kind == history.KindState && e.View == history.ReadView && e.Time == 0 && e.Key == "acct-2" {
					v := *e.Value + 10
					e.Value = &v
				}
			}
		}
		r := Check(context.Background(), in, []Spec{{Name: name}})[0]
		if r.Verdict != Fail {
			t.Fatalf("%s = %s (%s)", name, r.Verdict, r.Summary)
		}
		if w := r.Witnesses[0]; len(w.Ops) == 0 {
			t.Errorf("%s witness %q has no history lines", name, w.Note)
		}
	}
}

// The fast path reads what encoding/json reads, and hands anything else to it.
func TestAmountOf(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{`{"amount":10}`, 10, true}, {`{"amount":-7}`, -7, true}, {`{"amount": 10}`, 10, true},
		{`{"amount":10,"x":1}`, 10, true}, {`{"x":1,"amount":3}`, 3, true}, {`{"amount":1.5}`, 0, false},
		{`{"amount":"3"}`, 0, false}, {`{}`, 0, false}, {``, 0, false}, {`{"amount":}`, 0, false},
	} {
		got, ok := amountOf(json.RawMessage(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("amountOf(%s) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
