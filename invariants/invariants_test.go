package invariants

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
)

var all = []Spec{{Name: "idempotent"}, {Name: "durable"}, {Name: "conservation"}, {Name: "ordered"},
	{Name: "converges", Params: map[string]string{"within": "1s"}}}

func results(t *testing.T, in *Input) map[string]Result {
	t.Helper()
	out := map[string]Result{}
	for _, r := range Check(context.Background(), in, all) {
		out[r.Name] = r
	}
	return out
}

func TestSynthPasses(t *testing.T) {
	rs := results(t, synth(5000, 10, 1))
	for _, s := range all {
		r := rs[s.Name]
		if r.Verdict != Pass {
			t.Errorf("%s: %s: %s %+v", s.Name, r.Verdict, r.Summary, r.Witnesses)
		}
		if r.Checked == 0 {
			t.Errorf("%s checked nothing", s.Name)
		}
	}
	if got := rs["converges"].Measures["time_to_converge_ns"]; got != 400e6 {
		t.Errorf("time to converge = %d, want 400ms (the second snapshot)", got)
	}
}

// Each mutation plants one known defect; the named invariant must fail and name it.
func TestEachInvariantCatchesItsDefect(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fails   string
		witness string // a substring of the first witness's note
		mutate  func(in *Input)
	}{
		{"applied twice", "idempotent", "applied", func(in *Input) {
			// A redelivered command applied a second time in the write view.
			for _, e := range in.Effects {
				if e.View == history.WriteView && e.Kind == "debit" {
					in.Effects = append(in.Effects, e)
					return
				}
			}
		}},
		{"acknowledged op lost", "durable", "has no effect", func(in *Input) {
			id := appliedIDs(in)[200]
			in.Effects = dropEffects(in.Effects, func(e history.Effect) bool { return e.ID == id })
		}},
		{"acknowledged op left pending", "durable", "left it", func(in *Input) {
			id := appliedIDs(in)[300]
			in.Effects = dropEffects(in.Effects, func(e history.Effect) bool {
				return e.ID == id && e.View == history.WriteView && e.Kind != history.KindOperation
			})
			for i := range in.Effects {
				if in.Effects[i].ID == id && in.Effects[i].Kind == history.KindOperation {
					in.Effects[i].State = "command-sent"
				}
			}
		}},
		{"failed op took effect", "durable", "failed at the client", func(in *Input) {
			for i := range in.Ops {
				if in.Ops[i].Type == history.Ok && in.Ops[i].ID == appliedIDs(in)[400] {
					in.Ops[i].Type = history.Fail
				}
			}
		}},
		{"effect nobody invoked", "durable", "no client invoked", func(in *Input) {
			in.Effects = append(in.Effects, history.Effect{Service: "bank", View: history.WriteView, Kind: "credit", Key: "acct-1", ID: "ghost", Amount: 5, Seq: 99999})
		}},
		{"money created", "conservation", "add up to", func(in *Input) {
			for i := range in.Effects {
				if in.Effects[i].Kind == history.KindState && in.Effects[i].View == history.WriteView && in.Effects[i].Time == 0 {
					v := *in.Effects[i].Value + 10
					in.Effects[i].Value = &v
					return
				}
			}
		}},
		{"projection out of order", "ordered", "position", func(in *Input) {
			// Swap the positions of two consecutive events of one key in the read view.
			var a, b = -1, -1
			for i, e := range in.Effects {
				if e.View == history.ReadView && e.Key == "acct-3" && e.Kind != history.KindState {
					if a < 0 && e.Pos == 5 {
						a = i
					} else if e.Pos == 6 {
						b = i
					}
				}
			}
			in.Effects[a].Pos, in.Effects[b].Pos = in.Effects[b].Pos, in.Effects[a].Pos
		}},
		{"projection applies a duplicate", "ordered", "repeat", func(in *Input) {
			for _, e := range in.Effects {
				if e.View == history.ReadView && e.Key == "acct-2" && e.Pos == 3 {
					e.Pos = 1000000 // applied again at the end
					in.Effects = append(in.Effects, e)
					return
				}
			}
		}},
		{"read model diverges", "converges", "never caught up", func(in *Input) {
			for i := range in.Effects {
				e := &in.Effects[i]
				if e.Kind == history.KindState && e.View == history.ReadView && e.Time == 0 && e.Key == "acct-4" {
					v := *e.Value - 1
					e.Value = &v
				}
			}
		}},
		{"read model behind at the same balance", "converges", "at seq", func(in *Input) {
			// The last events of acct-4 never projected, and they happened to add up
			// to zero: the balances agree, the versions do not.
			for i := range in.Effects {
				e := &in.Effects[i]
				if e.Kind == history.KindState && e.View == history.ReadView && e.Time == 0 && e.Key == "acct-4" {
					e.Seq -= 2
				}
			}
		}},
		{"same balance, behind, in every snapshot", "converges", "", func(in *Input) {
			for i := range in.Effects {
				if e := &in.Effects[i]; e.Kind == history.KindState && e.View == history.ReadView && e.Time > 0 && e.Key == "acct-0" {
					v := *in.Effects[i-1].Value // the write view's value, at an older version
					e.Value, e.Seq = &v, e.Seq-1
				}
			}
		}},
		{"event with no write", "converges", "never applied", func(in *Input) {
			in.Effects = append(in.Effects, history.Effect{Service: "bank", View: history.ReadView, Kind: "debit", Key: "acct-1", ID: "orphan", Amount: -5, Seq: 1, Pos: 1})
		}},
		{"converged too late", "converges", "", func(in *Input) {
			// Only the lagging snapshot remains: no snapshot shows agreement.
			in.Effects = dropEffects(in.Effects, func(e history.Effect) bool { return e.Time > 0 && e.Time%1000 == 0 && e.Time > in.Faults[1].Time+300e6 })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := synth(3000, 10, 2)
			tc.mutate(in)
			r := results(t, in)[tc.fails]
			if r.Verdict != Fail {
				t.Fatalf("%s = %s (%s), want fail", tc.fails, r.Verdict, r.Summary)
			}
			if r.Violations == 0 {
				t.Fatalf("%s failed with no violations counted", tc.fails)
			}
			if tc.witness != "" && (len(r.Witnesses) == 0 || !strings.Contains(r.Witnesses[0].Note, tc.witness)) {
				t.Fatalf("%s first witness %+v, want a note containing %q", tc.fails, r.Witnesses, tc.witness)
			}
		})
	}
}

func dropEffects(es []history.Effect, drop func(history.Effect) bool) []history.Effect {
	out := es[:0]
	for _, e := range es {
		if !drop(e) {
			out = append(out, e)
		}
	}
	return out
}

func TestWitnessCarriesHistoryAndActiveFaults(t *testing.T) {
	in := synth(3000, 10, 3)
	id := appliedIDs(in)[2500] // late in the run: inside the partition window
	in.Effects = dropEffects(in.Effects, func(e history.Effect) bool { return e.ID == id })
	r := results(t, in)["durable"]
	w := r.Witnesses[0]
	if w.ID != id || len(w.Ops) != 2 || w.Ops[0].Type != history.Invoke || w.Ops[1].Type != history.Ok {
		t.Fatalf("witness %+v: want op %s with its invoke and ok lines", w, id)
	}
	if len(w.Faults) != 1 || w.Faults[0].Fault != "partition" {
		t.Fatalf("witness faults %+v: want the active partition", w.Faults)
	}
}

func TestNothingObservedIsUnknownNeverPass(t *testing.T) {
	in := synth(100, 5, 4)
	in.Effects = nil
	for _, r := range Check(context.Background(), in, all) {
		if r.Verdict != Unknown {
			t.Errorf("%s with no effects = %s, want unknown", r.Name, r.Verdict)
		}
	}
	if v := Worst(Check(context.Background(), in, all)); v != Unknown {
		t.Errorf("worst = %s", v)
	}
}

func TestOutOfTimeIsUnknown(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	for _, r := range Check(ctx, synth(20000, 10, 5), all) {
		if r.Verdict == Pass {
			t.Errorf("%s passed with an expired deadline", r.Name)
		}
	}
}

func TestUnknownCheckerName(t *testing.T) {
	r := Check(context.Background(), synth(10, 2, 1), []Spec{{Name: "nope"}})[0]
	if r.Verdict != Unknown || !strings.Contains(r.Summary, "idempotent") {
		t.Fatalf("%+v", r)
	}
}
