package invariants

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/mscli/mscli/history"
)

// synth builds a consistent recorded run of n operations over keys accounts: every
// account opens with a deposit, then random withdrawals and deposits; ok operations
// are applied (or rejected for insufficient funds), fail operations have no effect, info
// operations have one effect half of the time. Both a write and a read view are
// reported, plus converge snapshots after a heal at healAt.
func synth(n, keys int, seed uint64) *Input {
	r := rand.New(rand.NewPCG(seed, 1))
	in := &Input{}
	bal := make([]int64, keys)
	seq := make([]int64, keys)
	var t int64
	idx := int64(0)
	addOp := func(proc int, typ history.OpType, f, key, id string, amount int64) {
		idx++
		in.Ops = append(in.Ops, history.Op{Index: idx, Time: t, Process: proc, Type: typ, F: f, Key: key, ID: id,
			Value: json.RawMessage(fmt.Sprintf(`{"amount":%d}`, amount))})
	}
	apply := func(k int, id string, amount int64) {
		seq[k]++
		bal[k] += amount
		kind := "credit"
		if amount < 0 {
			kind = "debit"
		}
		key := fmt.Sprintf("acct-%d", k)
		in.Effects = append(in.Effects,
			history.Effect{Service: "bank", View: history.WriteView, Kind: kind, Key: key, ID: id, Amount: amount, Seq: seq[k]},
			history.Effect{Service: "bank", View: history.ReadView, Kind: kind, Key: key, ID: id, Amount: amount, Seq: seq[k], Pos: seq[k]},
			history.Effect{Service: "bank", View: history.WriteView, Kind: history.KindOperation, ID: id, State: history.StateApplied})
	}
	for i := 0; i < n; i++ {
		t += 1000
		k := r.IntN(keys)
		key := fmt.Sprintf("acct-%d", k)
		f, amount := "withdraw", -int64(1+r.IntN(50))
		if i < keys || r.IntN(10) < 3 {
			f, amount = "deposit", int64(1+r.IntN(100))
			if i < keys {
				k, key, amount = i, fmt.Sprintf("acct-%d", i), 1000
			}
		}
		id := fmt.Sprintf("op-%07d", i)
		proc := i % 8
		asked := max(amount, -amount) // the client asks for an amount; its kind says the sign
		addOp(proc, history.Invoke, f, key, id, asked)
		t += 500
		switch x := r.IntN(100); {
		case x < 90 || i < keys:
			addOp(proc, history.Ok, f, key, id, asked)
			if bal[k]+amount < 0 {
				in.Effects = append(in.Effects, history.Effect{Service: "bank", View: history.WriteView, Kind: history.KindOperation, ID: id, State: history.StateRejected})
			} else {
				apply(k, id, amount)
			}
		case x < 95:
			addOp(proc, history.Fail, f, key, id, asked)
		default:
			addOp(proc, history.Info, f, key, id, asked)
			if x%2 == 0 && bal[k]+amount >= 0 {
				apply(k, id, amount)
			}
		}
	}
	heal := t + 1000
	in.Faults = append(in.Faults,
		history.Fault{Time: t / 3, Phase: history.Start, Fault: "partition", Target: "bank->broker"},
		history.Fault{Time: heal, Phase: history.Stop, Fault: "partition", Target: "bank->broker"})
	for k := 0; k < keys; k++ {
		v := bal[k]
		key := fmt.Sprintf("acct-%d", k)
		in.Effects = append(in.Effects,
			history.Effect{Service: "bank", View: history.WriteView, Kind: history.KindState, Key: key, Value: &v, Seq: seq[k]},
			history.Effect{Service: "bank", View: history.ReadView, Kind: history.KindState, Key: key, Value: &v, Seq: seq[k]})
	}
	// Two snapshots after the heal: the first still behind on acct-0, the second equal.
	for s, at := range []int64{heal + 200e6, heal + 400e6} {
		for k := 0; k < keys; k++ {
			w, rv := bal[k], bal[k]
			if s == 0 && k == 0 {
				rv--
			}
			key := fmt.Sprintf("acct-%d", k)
			in.Effects = append(in.Effects,
				history.Effect{Service: "bank", View: history.WriteView, Kind: history.KindState, Key: key, Value: &w, Seq: seq[k], Time: at},
				history.Effect{Service: "bank", View: history.ReadView, Kind: history.KindState, Key: key, Value: &rv, Seq: seq[k], Time: at})
		}
	}
	// The final reads through the public API, after the last snapshot, by a process
	// of their own: each sees the write model's balance at its version.
	t = heal + 500e6
	for k := 0; k < keys; k++ {
		key := fmt.Sprintf("acct-%d", k)
		for _, typ := range []history.OpType{history.Invoke, history.Ok} {
			t += 1000
			idx++
			o := history.Op{Index: idx, Time: t, Process: 8, Type: typ, F: history.FRead, Key: key}
			if typ == history.Ok {
				o.Value = json.RawMessage(fmt.Sprintf(`{"value":%d,"seq":%d}`, bal[k], seq[k]))
			}
			in.Ops = append(in.Ops, o)
		}
	}
	in.Views = map[string][]string{"bank": {history.WriteView, history.ReadView}}
	in.PublicReads = "bank"
	return in
}

// appliedIDs returns the ids applied in the write view, in order.
func appliedIDs(in *Input) []string {
	var out []string
	for _, e := range in.Effects {
		if e.View == history.WriteView && e.Kind != history.KindState && e.Kind != history.KindOperation {
			out = append(out, e.ID)
		}
	}
	return out
}
