package history_test

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/mscli/mscli/history"
)

// An Interner holds a table of fixed size: past it, strings still decode to what the
// lines say, an op id's lines near each other share one copy, and names that recur on
// every line stay shared however many ids went by. The table is a cache with a random
// seed: two names hashed to one pair of slots push each other out when an id lands
// there too, so a few copies too many are allowed (at most 7 in 500 runs of
// 200,000 operations), never many.
func TestInternerBeyondItsTable(t *testing.T) {
	const ops = 200_000
	var in history.Interner
	var first history.Op
	idCopies, nameCopies := 0, 0
	for i := range ops {
		id := fmt.Sprintf("op-%07d", i)
		var a, b history.Op
		line := fmt.Sprintf(`{"i":%d,"type":"invoke","f":"deposit","key":"acct-%d","id":%q}`, 2*i, i%7, id)
		if err := in.DecodeOp([]byte(line), &a); err != nil {
			t.Fatal(err)
		}
		line = fmt.Sprintf(`{"i":%d,"type":"ok","f":"deposit","key":"acct-%d","id":%q}`, 2*i+1, i%7, id)
		if err := in.DecodeOp([]byte(line), &b); err != nil {
			t.Fatal(err)
		}
		if a.ID != id || b.ID != id || a.Key != fmt.Sprintf("acct-%d", i%7) || a.Type != history.Invoke || b.Type != history.Ok {
			t.Fatalf("line %d: %+v, %+v", i, a, b)
		}
		if unsafe.StringData(a.ID) != unsafe.StringData(b.ID) {
			idCopies++
		}
		if i == 0 {
			first = a
		} else if unsafe.StringData(a.F) != unsafe.StringData(first.F) || unsafe.StringData(string(a.Type)) != unsafe.StringData(string(first.Type)) {
			nameCopies++
			first = a
		}
	}
	if idCopies > ops/1000 || nameCopies > ops/1000 {
		t.Fatalf("of %d ops, %d had two copies of their id and %d a new copy of a name (at most 0.1%% each)", ops, idCopies, nameCopies)
	}
	t.Logf("of %d ops, %d had two copies of their id and %d a new copy of a name", ops, idCopies, nameCopies)
	var again history.Op
	if err := in.DecodeOp([]byte(`{"id":"op-0000000","f":"deposit"}`), &again); err != nil || again.ID != "op-0000000" || again.F != "deposit" {
		t.Fatalf("an id long gone from the table: %+v, %v", again, err)
	}
}
