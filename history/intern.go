package history

import (
	"encoding/json"
	"hash/maphash"
)

// The tables of an Interner are two-way set-associative caches: a string hashes to a
// pair of slots, a hit in either returns the copy kept there, and a miss makes a copy
// that takes the pair's first slot, its former holder moving to the second (the least
// recently stored of the two is forgotten). A forgotten string costs a second copy
// when it comes back, never a wrong one. A table starts small (a handful of lines
// decode with no large allocation) and doubles as it fills, up to its bound.

const (
	minSlots    = 1 << 8
	maxStrSlots = 1 << 14 // 384 KiB: far more than a run's names and keys, and the op ids in flight
	maxValSlots = 1 << 12
)

// strTable interns strings. A slot keeps its string's hash beside it: a slot holding
// another string of the same length (op ids all have one) is told apart without
// reading that string's bytes, long gone from the processor's cache.
type strTable struct {
	seed   maphash.Seed
	slots  []strSlot
	stored int // copies made since the table last grew
}

type strSlot struct {
	h uint64
	s string
}

// intern returns the table's copy of b, storing one when it has none: s when it is
// not empty (a string equal to b the caller already holds), else a new copy of b.
func (t *strTable) intern(b []byte, s string) string {
	if t.slots == nil {
		t.seed = maphash.MakeSeed()
		t.slots = make([]strSlot, minSlots)
	}
	h := maphash.Bytes(t.seed, b)
	i := int(h) & (len(t.slots) - 1) &^ 1
	if v := &t.slots[i]; v.h == h && v.s == string(b) {
		return v.s
	}
	if v := t.slots[i+1]; v.h == h && v.s == string(b) {
		t.slots[i], t.slots[i+1] = v, t.slots[i]
		return v.s
	}
	if s == "" {
		s = string(b)
	}
	t.slots[i+1], t.slots[i] = t.slots[i], strSlot{h, s}
	if t.stored++; t.stored > len(t.slots) && len(t.slots) < maxStrSlots {
		t.grow()
	}
	return s
}

// str is b as a string, the table's copy.
func (t *strTable) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return t.intern(b, "")
}

func (t *strTable) grow() {
	old := t.slots
	t.slots, t.stored = make([]strSlot, 2*len(old)), 0
	for _, v := range old {
		if v.s != "" {
			i := int(v.h) & (len(t.slots) - 1) &^ 1
			t.slots[i+1], t.slots[i] = t.slots[i], v
		}
	}
}

// valTable interns raw JSON values.
type valTable struct {
	seed   maphash.Seed
	slots  []json.RawMessage
	stored int
}

// intern returns the table's copy of v, storing one when it has none: v itself when
// owned (the caller's to give), else a copy.
func (t *valTable) intern(v []byte, owned bool) json.RawMessage {
	if t.slots == nil {
		t.seed = maphash.MakeSeed()
		t.slots = make([]json.RawMessage, minSlots)
	}
	i := int(maphash.Bytes(t.seed, v)) & (len(t.slots) - 1) &^ 1
	if r := t.slots[i]; r != nil && string(r) == string(v) {
		return r
	}
	if r := t.slots[i+1]; r != nil && string(r) == string(v) {
		t.slots[i], t.slots[i+1] = r, t.slots[i]
		return r
	}
	r := json.RawMessage(v)
	if !owned {
		r = append(json.RawMessage(nil), v...)
	}
	t.slots[i+1], t.slots[i] = t.slots[i], r
	if t.stored++; t.stored > len(t.slots) && len(t.slots) < maxValSlots {
		t.grow()
	}
	return r
}

func (t *valTable) grow() {
	old := t.slots
	t.slots, t.stored = make([]json.RawMessage, 2*len(old)), 0
	for _, r := range old {
		if r != nil {
			i := int(maphash.Bytes(t.seed, r)) & (len(t.slots) - 1) &^ 1
			t.slots[i+1], t.slots[i] = t.slots[i], r
		}
	}
}
