package history

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"unsafe"
)

// randomRecords makes n operations and n effects that use every field, most of them
// only sometimes, with names, keys, ids and values that repeat.
func randomRecords(rng *rand.Rand, n int) ([]Op, []Effect) {
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	some := func(s string) string {
		if rng.IntN(4) == 0 {
			return s
		}
		return ""
	}
	ops := make([]Op, n)
	effs := make([]Effect, n)
	for i := range n {
		id := fmt.Sprintf("op-%d", rng.IntN(n/2+1))
		o := Op{Index: int64(i), Time: rng.Int64N(1e12), Process: rng.IntN(9), Type: OpType(pick("invoke", "ok", "fail", "info")),
			F: pick("deposit", "withdraw", FRead, "transfer"), Key: some(fmt.Sprintf("acct-%d", rng.IntN(30))), ID: some(id) + some(id) + some(id),
			Error: some("timeout"), Status: rng.IntN(2) * 200, Source: some(SourceFallback)}
		if rng.IntN(2) == 0 {
			o.Value = json.RawMessage(fmt.Sprintf(`{"amount":%d}`, rng.IntN(20)))
		}
		if rng.IntN(9) == 0 {
			o.Index = wideNumber(rng) // kept beside the row
		}
		if rng.IntN(5) == 0 {
			o.Attempts = 1 + rng.IntN(3)
			o.Errors = []string{"reset", "refused"}[:1+rng.IntN(2)]
		}
		ops[i] = o
		e := Effect{Service: pick("bank", "ledger"), View: pick(WriteView, ReadView), Kind: pick("debit", "credit", KindState, KindOperation),
			Key: some(fmt.Sprintf("acct-%d", rng.IntN(30))), ID: some(id) + some(id), Amount: rng.Int64N(100) - 50,
			Seq: rng.Int64N(50), Pos: rng.Int64N(50), State: some(StateApplied), At: rng.Int64N(1e12),
			Saga: some("order-1"), Step: some("reserve"), Undo: rng.IntN(7) == 0, Deliveries: rng.IntN(3),
			Replica: some("bank/1"), Reason: some("poison")}
		if rng.IntN(3) == 0 {
			v := rng.Int64N(1000)
			e.Value = &v
		}
		if rng.IntN(3) == 0 {
			e.Time = rng.Int64N(1e12)
		}
		switch rng.IntN(12) { // kept beside the row
		case 0:
			e.Amount = wideNumber(rng)
		case 1:
			e.Seq = wideNumber(rng)
		case 2:
			e.Pos = wideNumber(rng)
		}
		effs[i] = e
	}
	return ops, effs
}

// wideNumber is a number a row's 32 bits do not hold as itself: beyond them, or
// their sentinel (wide32).
func wideNumber(rng *rand.Rand) int64 {
	return []int64{math.MinInt32, math.MaxInt32 + 1, math.MinInt32 - 1, 1 << 40, -1 << 63, math.MaxInt64}[rng.IntN(6)]
}

// TestRowsAreNarrow: a row is 40 bytes, operations' and effects' alike; a test of
// the size, because a field added or widened goes unnoticed otherwise (a million
// operations are five million rows).
func TestRowsAreNarrow(t *testing.T) {
	if o, e := unsafe.Sizeof(opRow{}), unsafe.Sizeof(effRow{}); o != 40 || e != 40 {
		t.Fatalf("an operation's row is %d bytes and an effect's %d, want 40 and 40", o, e)
	}
}

// TestRecordsRoundTrip: every record comes back whole and field by field, and ids are
// numbered densely in the order first met (a read's id apart).
func TestRecordsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ops, effs := randomRecords(rng, 5000)
	var r Records
	r.Grow(len(ops), len(effs))
	for i := range ops {
		if err := r.AddOp(&ops[i]); err != nil {
			t.Fatal(err)
		}
		if err := r.AddEffect(&effs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if r.NumOps() != len(ops) || r.NumEffects() != len(effs) {
		t.Fatalf("%d ops and %d effects, want %d and %d", r.NumOps(), r.NumEffects(), len(ops), len(effs))
	}
	opIDs := map[string]int32{}
	for i, want := range ops {
		got := r.Op(i)
		if len(want.Errors) == 0 {
			want.Errors = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("op %d = %+v, want %+v", i, got, want)
		}
		if r.OpTime(i) != want.Time || r.OpType(i) != want.Type || r.OpF(i) != want.F || r.OpProcess(i) != want.Process || r.OpKey(i) != want.Key || r.OpID(i) != want.ID {
			t.Fatalf("op %d: a column differs from %+v", i, want)
		}
		n, ok := r.OpIDNum(i)
		if want.ID == "" || want.F == FRead {
			if ok {
				t.Fatalf("op %d (%+v) has id number %d", i, want, n)
			}
			continue
		}
		w, seen := opIDs[want.ID]
		if !seen {
			w = int32(len(opIDs))
			opIDs[want.ID] = w
		}
		if !ok || n != w || r.OpIDOf(n) != want.ID {
			t.Fatalf("op %d: id number %d, %v; want %d", i, n, ok, w)
		}
		if l, ok := r.LookupOpID(want.ID); !ok || l != w {
			t.Fatalf("LookupOpID(%q) = %d, %v; want %d", want.ID, l, ok, w)
		}
	}
	if r.NumOpIDs() != len(opIDs) {
		t.Fatalf("%d op ids, want %d", r.NumOpIDs(), len(opIDs))
	}
	for i, want := range effs {
		got := r.Effect(i)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("effect %d = %+v, want %+v", i, got, want)
		}
		if r.EffectService(i) != want.Service || r.EffectView(i) != want.View || r.EffectKind(i) != want.Kind ||
			r.EffectState(i) != want.State || r.EffectKey(i) != want.Key || r.EffectAmount(i) != want.Amount ||
			r.EffectSeq(i) != want.Seq || r.EffectPos(i) != want.Pos || r.EffectAt(i) != want.At || r.EffectTime(i) != want.Time || r.EffectID(i) != want.ID || r.EffectSaga(i) != want.Saga {
			t.Fatalf("effect %d: a column differs from %+v", i, want)
		}
		if k := r.EffectKeyNum(i); k >= uint32(r.NumEffectKeys()) || r.EffectKeyOf(k) != want.Key || (k == 0) != (want.Key == "") {
			t.Fatalf("effect %d: key number %d of %d names %q, want %q", i, k, r.NumEffectKeys(), r.EffectKeyOf(k), want.Key)
		}
		if n := r.EffectIDNum(i); n >= uint32(r.NumEffectIDs()) || r.EffectIDOf(n) != want.ID || (n == 0) != (want.ID == "") {
			t.Fatalf("effect %d: id number %d of %d names %q, want %q", i, n, r.NumEffectIDs(), r.EffectIDOf(n), want.ID)
		}
	}
	// A value changed by its caller after adding is not changed in the records.
	v := int64(7)
	e := Effect{Service: "s", View: "v", Kind: KindState, Value: &v}
	if err := r.AddEffect(&e); err != nil {
		t.Fatal(err)
	}
	v = 8
	if got := r.Effect(r.NumEffects() - 1); *got.Value != 7 {
		t.Fatalf("the value kept is %d, want 7", *got.Value)
	}
}

// TestRecordsEmptyFields: records whose strings are all empty read back so.
func TestRecordsEmptyFields(t *testing.T) {
	var r Records
	if err := r.AddOp(&Op{}); err != nil {
		t.Fatal(err)
	}
	if err := r.AddEffect(&Effect{Amount: 3}); err != nil {
		t.Fatal(err)
	}
	if o, e := r.Op(0), r.Effect(0); !reflect.DeepEqual(o, Op{}) || !reflect.DeepEqual(e, Effect{Amount: 3}) {
		t.Fatalf("read back %+v and %+v", o, e)
	}
}

// TestRecordsTooManyNames: a history naming more functions than a name's number
// holds is refused with an error, not numbered wrong.
func TestRecordsTooManyNames(t *testing.T) {
	var r Records
	var err error
	for i := 0; err == nil && i < maxNames+2; i++ {
		err = r.AddOp(&Op{Type: Invoke, F: fmt.Sprintf("f-%d", i)})
	}
	if err == nil {
		t.Fatal("65,537 distinct functions were taken")
	}
	for i := range r.NumOps() {
		if want := fmt.Sprintf("f-%d", i); r.OpF(i) != want {
			t.Fatalf("op %d has f %q, want %q", i, r.OpF(i), want)
		}
	}
}
