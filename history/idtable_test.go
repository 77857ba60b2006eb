package history

import (
	"fmt"
	"hash/maphash"
	"strings"
	"testing"

	"github.com/mscli/mscli/internal/hugemem"
)

// TestIDTable numbers ids through several growths and checks each against a map:
// numbers dense in the order first met, the same number again for an id met before,
// and no number for an id never met.
func TestIDTable(t *testing.T) {
	var zero idTable
	if _, ok := zero.lookup(&strArena{}, "x"); ok {
		t.Fatal("an empty table found an id")
	}
	tab := newIDTable(0)
	var ids strArena
	want := map[string]int32{}
	for i := range 50_000 {
		id := fmt.Sprintf("op-%d", (i*7919)%20_000) // each id met two or three times
		n, ok := tab.number(&ids, id)
		if !ok {
			t.Fatal("the arena is full")
		}
		w, seen := want[id]
		if !seen {
			w = int32(len(want))
			want[id] = w
		}
		if n != w {
			t.Fatalf("number(%q) = %d, want %d", id, n, w)
		}
	}
	if ids.len() != len(want) {
		t.Fatalf("%d ids kept, want %d", ids.len(), len(want))
	}
	for id, w := range want {
		if n, ok := tab.lookup(&ids, id); !ok || n != w || ids.at(n) != id {
			t.Fatalf("lookup(%q) = %d, %v; want %d", id, n, ok, w)
		}
	}
	for i := range 20_000 {
		if n, ok := tab.lookup(&ids, fmt.Sprintf("other-%d", i)); ok {
			t.Fatalf("lookup of an id never numbered found %d", n)
		}
	}
	if len(tab.slots) <= 16 || len(tab.slots) < 2*ids.len() {
		t.Errorf("%d ids in %d slots: the table did not grow", ids.len(), len(tab.slots))
	}
}

// TestIDTableSameHashBits: a slot whose hash bits match is another id's unless the
// ids are equal. The slot where "b" starts is made to hold "a" under b's hash bits.
func TestIDTableSameHashBits(t *testing.T) {
	tab := newIDTable(0)
	var ids strArena
	ids.add([]byte("a"))
	h := maphash.String(idSeed, "b")
	tab.slots[h&tab.mask] = h&^0xffffffff | 1 // number 0, "a"
	if n, ok := tab.lookup(&ids, "b"); ok {
		t.Fatalf("lookup(b) found %d, the number of %q", n, ids.at(n))
	}
	if n, _ := tab.number(&ids, "b"); n != 1 || ids.at(1) != "b" || ids.at(0) != "a" {
		t.Fatalf("number(b) = %d, then ids %q and %q; want 1, a and b", n, ids.at(0), ids.at(1))
	}
	if n, ok := tab.lookup(&ids, "b"); !ok || n != 1 {
		t.Fatalf("lookup(b) after numbering = %d, %v; want 1", n, ok)
	}
}

// TestIDTableLookupEach: the batched lookup finds what lookup finds, one id at a
// time, over batches cut anywhere (a last batch short, ids present and absent mixed,
// ids whose first slot is taken by another), and nothing in a table never filled.
func TestIDTableLookupEach(t *testing.T) {
	var zero idTable
	out := []int32{7, 7}
	zero.lookupEach(&strArena{}, []string{"a", "b"}, out)
	if out[0] != -1 || out[1] != -1 {
		t.Fatalf("an empty table found %v", out)
	}
	tab := newIDTable(0)
	var ids strArena
	for i := range 3_000 {
		if _, ok := tab.number(&ids, fmt.Sprintf("op-%d", i)); !ok {
			t.Fatal("the arena is full")
		}
	}
	var keys []string
	for i := range 2*lookupBatch*10 + 3 {
		if i%3 == 0 {
			keys = append(keys, fmt.Sprintf("other-%d", i))
		} else {
			keys = append(keys, fmt.Sprintf("op-%d", i*7))
		}
	}
	for _, n := range []int{0, 1, lookupBatch - 1, lookupBatch, lookupBatch + 1, len(keys)} {
		out := make([]int32, n)
		tab.lookupEach(&ids, keys[:n], out)
		for j, id := range keys[:n] {
			w, ok := tab.lookup(&ids, id)
			if !ok {
				w = -1
			}
			if out[j] != w {
				t.Fatalf("%d keys: lookupEach gave %q number %d, lookup %d", n, id, out[j], w)
			}
			if ok != strings.HasPrefix(id, "op-") {
				t.Fatalf("lookup(%q) = %d, %v", id, w, ok)
			}
		}
	}
}

// BenchmarkIDTable numbers a million distinct ids and then finds each again, with
// the table NewIndex uses and with Go's map: the measurement behind idTable.
func BenchmarkIDTable(b *testing.B) {
	const n = 1_000_000
	in := make([]string, n)
	for i := range in {
		in[i] = fmt.Sprintf("op-%07d", (i*7919)%n)
	}
	b.Run("table", func(b *testing.B) {
		for range b.N {
			tab := newIDTable(n)
			ids := strArena{ends: make([]uint32, 0, n)}
			hugemem.Advise(ids.ends) // as the records do
			for _, id := range in {
				tab.number(&ids, id)
			}
			for _, id := range in {
				if _, ok := tab.lookup(&ids, id); !ok {
					b.Fatal(id, "not found")
				}
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		for range b.N {
			m := make(map[string]int32, n)
			ids := make([]string, 0, n)
			for _, id := range in {
				if _, ok := m[id]; !ok {
					m[id] = int32(len(ids))
					ids = append(ids, id)
				}
			}
			for _, id := range in {
				if _, ok := m[id]; !ok {
					b.Fatal(id, "not found")
				}
			}
		}
	})
}
