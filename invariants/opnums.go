package invariants

import (
	"sync"
	"unsafe"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/addrslot"
	"github.com/mscli/mscli/internal/hugemem"
)

// Operations are numbered as the records number the history's ids (OpIDNum), then
// the ids only effects name in the order the index meets them. This file maps ids
// and effects to those numbers.

// id is the id of an op number.
func (ix *Index) id(n int) string {
	if k := ix.recs.NumOpIDs(); n < k {
		return ix.recs.OpIDOf(int32(n))
	}
	return ix.invented[n-ix.recs.NumOpIDs()]
}

// opNum is the number of the operation id names, if the index has it.
func (ix *Index) opNum(id string) (int32, bool) {
	if n, ok := ix.recs.LookupOpID(id); ok {
		return n, true
	}
	n, ok := ix.inventedN[id]
	if !ok {
		return -1, false
	}
	return n, true
}

// effectOp is the op number of the operation effect record i names, numbering an id
// no client invoked when it first meets it (the empty id of an effect that names
// none included).
func (ix *Index) effectOp(i int) int32 {
	if n := ix.effOps[i]; n >= 0 {
		return n
	}
	id := ix.recs.EffectID(i)
	n, ok := ix.inventedN[id]
	if !ok {
		n = int32(len(ix.infos))
		if ix.inventedN == nil {
			ix.inventedN = map[string]int32{}
		}
		ix.inventedN[id] = n
		ix.invented = append(ix.invented, id)
		ix.infos = append(ix.infos, opInfo{invoke: -1, complete: -1})
	}
	ix.effOps[i] = n
	return n
}

// numbersEffect tells whether an effect's kind names an operation NewIndex numbers.
func numbersEffect(kind string) bool {
	return kind != history.KindState && kind != history.KindCalls && kind != history.KindBreaker
}

// knownEffectOps looks up, with workers goroutines side by side, the op number of
// each effect that names an operation the history numbered: most of the effects,
// and most of the indexing's time, a probe each of a table of every op id. An
// effect's id recurs on the effects near it, as one copy of its bytes, so a small
// cache by that address answers most of them. The rest stay -1, NewIndex's to number
// in order.
func (ix *Index) knownEffectOps(workers int) {
	recs := ix.recs
	n := recs.NumEffects()
	ix.effOps = make([]int32, n)
	hugemem.Advise(ix.effOps)
	per := max((n+workers-1)/max(workers, 1), 1)
	var wg sync.WaitGroup
	for from := 0; from < n; from += per {
		to := min(from+per, n)
		wg.Go(func() {
			var cache idCache
			for i := from; i < to; i++ {
				ix.effOps[i] = -1
				if id := recs.EffectID(i); id != "" && numbersEffect(recs.EffectKind(i)) {
					ix.effOps[i] = cache.lookup(recs, id)
				}
			}
		})
	}
	wg.Wait()
}

// idCache remembers the op numbers of the ids looked up last, by the address of
// their bytes. An effect's id is kept by the records as long as the index is, so
// no other string can have that address: one that does is the same id.
type idCache [1 << 12]struct {
	p *byte
	l int
	n int32
}

// lookup is id's number in the history, -1 if it names none.
func (c *idCache) lookup(recs *history.Records, id string) int32 {
	p := unsafe.StringData(id)
	slot := &c[addrslot.Of(p, len(c))]
	if slot.p == p && slot.l == len(id) {
		return slot.n
	}
	n, ok := recs.LookupOpID(id)
	if !ok {
		n = -1
	}
	slot.p, slot.l, slot.n = p, len(id), n
	return n
}
