package invariants

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/mscli/mscli/history"
)

// Looking the effects' op numbers up side by side builds the very index the one
// goroutine builds: the same numbers, in the same order, for ids the history names,
// ids only effects name (new ones amid known ones, one named twice), dead letters,
// and effects of no operation; ids given as separate copies of equal strings, as a
// decoder hands them, as well as shared ones.
func TestNewIndexSideBySideMatchesOneGoroutine(t *testing.T) {
	in := synth(20_000, 50, 7)
	for i := range in.Effects {
		if i%5 == 0 && in.Effects[i].ID != "" {
			in.Effects[i].ID = string([]byte(in.Effects[i].ID)) // another copy
		}
	}
	extra := []history.Effect{
		{Service: "bank", View: history.WriteView, Kind: "credit", Key: "acct-1", ID: "only-effects-1", Amount: 1},
		{Service: "bank", View: history.WriteView, Kind: history.KindDeadLetter, ID: "parked-1"},
		{Service: "bank", View: history.WriteView, Kind: history.KindCalls, ID: "op-0000001"},
		{Service: "bank", View: history.WriteView, Kind: history.KindOperation, ID: "only-effects-2", State: history.StateApplied},
		{Service: "bank", View: history.ReadView, Kind: "credit", Key: "acct-1", ID: "only-effects-1", Amount: 1},
		{Service: "other", View: history.WriteView, Kind: "credit", Key: "k", ID: "op-0000003", Amount: 2},
	}
	at := len(in.Effects) / 2
	in.Effects = append(in.Effects[:at], append(extra, in.Effects[at:]...)...)
	in.Records = in.Columns() // one set of columns, so that the indexes compare whole
	one := newIndex(in, 1)
	for _, workers := range []int{2, 3, 8} {
		if side := newIndex(in, workers); !reflect.DeepEqual(one, side) {
			t.Fatalf("%d workers: the index differs from one goroutine's", workers)
		}
	}
	if n, ok := one.opNum("only-effects-1"); !ok || one.id(int(n)) != "only-effects-1" || n < int32(one.invoked) {
		t.Errorf("an id only effects name: number %d (%v), %d invoked", n, ok, one.invoked)
	}
	specs := []Spec{{Name: "idempotent"}, {Name: "durable"}, {Name: "conservation"}, {Name: "ordered"}}
	a, b := CheckIndex(context.Background(), one, specs), CheckIndex(context.Background(), newIndex(in, 4), specs)
	for i := range a {
		a[i].Elapsed, b[i].Elapsed = 0, 0
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("results differ:\n%+v\n%+v", a, b)
	}
}

// A view's effects grouped by key: keys sorted, each group in the order the view
// applied its effects, its amounts added up; states and operation records are in no
// group; the groups are built once.
func TestViewKeyedGroups(t *testing.T) {
	w := history.WriteView
	in := &Input{Views: map[string][]string{"bank": {w}}, Effects: []history.Effect{
		{Service: "bank", View: w, Kind: "withdraw", Key: "b", ID: "op-1", Amount: -5, Seq: 1},
		{Service: "bank", View: w, Kind: "deposit", Key: "a", ID: "op-2", Amount: 7, Seq: 1},
		{Service: "bank", View: w, Kind: history.KindOperation, ID: "op-1", State: history.StateApplied},
		{Service: "bank", View: w, Kind: "deposit", Key: "b", ID: "op-3", Amount: 2, Seq: 2},
		{Service: "bank", View: w, Kind: history.KindState, Key: "c", Value: new(int64)},
		{Service: "bank", View: w, Kind: "deposit", Key: "a", ID: "op-4", Amount: 1, Seq: 2},
		{Service: "bank", View: w, Kind: "deposit", Key: "aa", ID: "op-5", Amount: 3, Seq: 1},
	}}
	ix := NewIndex(in)
	kg := ix.views[0].keyed(ix.recs)
	want := keyGroups{keys: []string{"a", "aa", "b"}, groups: [][]int32{{1, 5}, {6}, {0, 3}}, sums: []int64{8, 3, -3}}
	if !reflect.DeepEqual(*kg, want) {
		t.Fatalf("keyed = %+v, want %+v", *kg, want)
	}
	if again := ix.views[0].keyed(ix.recs); again != kg {
		t.Fatal("a second call built the groups again")
	}
}

// Each view's list of applied effects is made to size: appliedPerView counts the
// effects NewIndex appends, of every kind, interleaved across views.
func TestAppliedListsMadeToSize(t *testing.T) {
	kinds := []string{"debit", "credit", history.KindState, history.KindOperation, history.KindDeadLetter,
		history.KindDeadLetterFile, history.KindRedrive, history.KindCalls, history.KindBreaker, "reserve"}
	in := &Input{}
	for i := range 3000 {
		id := fmt.Sprintf("op-%d", i%700)
		if i%3 == 0 {
			in.Ops = append(in.Ops, history.Op{Index: int64(i), Type: history.Invoke, F: "deposit", ID: id})
		}
		in.Effects = append(in.Effects, history.Effect{Service: []string{"bank", "ledger"}[i%2], View: []string{history.WriteView, history.ReadView}[i/2%2],
			Kind: kinds[i*7%len(kinds)], Key: fmt.Sprintf("acct-%d", i%9), ID: id, State: history.StateApplied})
	}
	ix := NewIndex(in)
	total := 0
	for _, v := range ix.views {
		if len(v.applied) != cap(v.applied) {
			t.Errorf("view %v: %d applied effects in a list made for %d", v.viewKey, len(v.applied), cap(v.applied))
		}
		total += len(v.applied)
	}
	if total == 0 {
		t.Fatal("no applied effect: the test judges nothing")
	}
}
