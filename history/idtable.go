package history

import (
	"hash/maphash"
	"unsafe"

	"github.com/mscli/mscli/internal/hugemem"
)

// idSeed seeds every idTable's hash: one per process, so two indexes of one run lay
// their tables out alike.
var idSeed = maphash.MakeSeed()

// idTable finds an operation's number by its id: an open-addressing table of
// numbers into an arena of the ids (op number → id), which it keeps its copies in. A run of a
// million operations numbers a million ids, and Go's map[string]int32 spent most of
// that time waiting for memory: each probe of a table of tens of megabytes in 4 KiB
// pages a cache and a TLB miss. This table is a flat slice of 8-byte slots in huge
// pages, and most probes of an absent id end on a slot's hash bits without reading
// an id: BenchmarkIDTable numbers and finds a million ids in 0.39–0.52 s, the map
// in 0.57–0.74 s.
type idTable struct {
	// slots: 0 is empty; otherwise the id's hash's high 32 bits, then its number + 1.
	slots []uint64
	mask  uint64
}

// newIDTable is a table sized for n ids without growing.
func newIDTable(n int) idTable {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	t := idTable{slots: make([]uint64, size), mask: uint64(size - 1)}
	hugemem.Advise(t.slots)
	return t
}

// probe is the number of id, whose hash is h, or -1 and the empty slot where its
// number goes.
func (t *idTable) probe(ids *strArena, id string, h uint64) (n int32, empty uint64) {
	tag := h &^ 0xffffffff
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return -1, i
		}
		if s&^0xffffffff == tag && ids.at(int32(uint32(s)-1)) == id {
			return int32(uint32(s) - 1), i
		}
	}
}

// lookup is id's number, if ids has it. It only reads the table: goroutines may
// look up side by side.
func (t *idTable) lookup(ids *strArena, id string) (int32, bool) {
	if t.slots == nil {
		return 0, false
	}
	n, _ := t.probe(ids, id, maphash.String(idSeed, id))
	return n, n >= 0
}

// number is id's number, numbering it ids.len() when ids has not got it: ids keeps
// a copy of it then (id may be a view of bytes that change). It is false when ids is
// full.
func (t *idTable) number(ids *strArena, id string) (int32, bool) {
	return t.numberHashed(ids, id, maphash.String(idSeed, id))
}

// numberHashed is number for an id whose hash is h.
func (t *idTable) numberHashed(ids *strArena, id string, h uint64) (int32, bool) {
	n, empty := t.probe(ids, id, h)
	if n >= 0 {
		return n, true
	}
	n, ok := ids.add(bytesOf(id))
	if !ok {
		return 0, false
	}
	t.slots[empty] = h&^0xffffffff | uint64(uint32(n)+1)
	if 2*ids.len() > len(t.slots) {
		t.grow(ids)
	}
	return n, true
}

// grow makes the table twice the size ids need and places every id again.
func (t *idTable) grow(ids *strArena) {
	*t = newIDTable(2 * ids.len())
	for n := range int32(ids.len()) {
		t.place(ids.at(n), n)
	}
}

// place puts id, numbered n, in a table that has not got it.
func (t *idTable) place(id string, n int32) {
	h := maphash.String(idSeed, id)
	i := h & t.mask
	for t.slots[i] != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = h&^0xffffffff | uint64(uint32(n)+1)
}

// lookupBatch is how many lookups lookupEach overlaps.
const lookupBatch = 16

// lookupEach sets out[j] to the number of keys[j], or -1 when the table has not got
// it. A lookup in a table of tens of megabytes waits for a slot from memory; one at
// a time, each waits in turn. lookupEach reads the first slot of each of a batch of
// keys before it compares any of them, so that their waits overlap.
func (t *idTable) lookupEach(ids *strArena, keys []string, out []int32) {
	if t.slots == nil {
		for j := range out {
			out[j] = -1
		}
		return
	}
	var hs, first [lookupBatch]uint64
	for base := 0; base < len(keys); base += lookupBatch {
		batch := keys[base:min(base+lookupBatch, len(keys))]
		for j, id := range batch {
			hs[j] = maphash.String(idSeed, id)
			first[j] = t.slots[hs[j]&t.mask]
		}
		for j, id := range batch {
			out[base+j] = t.probeFrom(ids, id, hs[j], first[j])
		}
	}
}

// probeFrom is probe's number (-1 when absent) for an id whose hash is h, its first
// slot read already as s.
func (t *idTable) probeFrom(ids *strArena, id string, h, s uint64) int32 {
	tag := h &^ 0xffffffff
	for i := h & t.mask; ; {
		if s == 0 {
			return -1
		}
		if s&^0xffffffff == tag && ids.at(int32(uint32(s)-1)) == id {
			return int32(uint32(s) - 1)
		}
		i = (i + 1) & t.mask
		s = t.slots[i]
	}
}

// idSet numbers op ids: an idTable over an arena of the ids, with a cache in front
// by the id's hash (an id recurs on lines near each other: its invoke and its
// completion), which saves a probe of the large table.
type idSet struct {
	ids   strArena
	tab   idTable
	cache [1 << 12]uint32 // its number + 1
}

// number is the number of id b, numbering a copy of it when new; false when the
// ids are full.
func (s *idSet) number(b []byte) (uint32, bool) {
	if s.tab.slots == nil {
		s.tab = newIDTable(1 << 10)
	}
	h := maphash.Bytes(idSeed, b)
	slot := &s.cache[h>>(64-12)]
	if n := *slot; n != 0 && s.ids.at(int32(n-1)) == string(b) {
		return n - 1, true
	}
	n, ok := s.tab.numberHashed(&s.ids, unsafe.String(unsafe.SliceData(b), len(b)), h)
	if !ok {
		return 0, false
	}
	*slot = uint32(n) + 1
	return uint32(n), true
}

// grow makes room for n more ids without growing the table again.
func (s *idSet) grow(n int) {
	want := s.ids.len() + n
	if 2*want > len(s.tab.slots) {
		s.tab = newIDTable(want)
		for i := range int32(s.ids.len()) {
			s.tab.place(s.ids.at(i), i)
		}
	}
	s.ids.ends = growRows(s.ids.ends, n)
}

func (s *idSet) lookup(id string) (int32, bool) { return s.tab.lookup(&s.ids, id) }
