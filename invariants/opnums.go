package invariants

import (
	"sync"

	"github.com/mscli/mscli/history"
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
	k := ix.recs.EffectIDNum(i)
	if n := ix.idOps[k]; n >= 0 {
		return n
	}
	id := ix.recs.EffectIDOf(k)
	n, ok := ix.inventedN[id] // the id may be met again under another number
	if !ok {
		n = int32(len(ix.infos))
		if ix.inventedN == nil {
			ix.inventedN = map[string]int32{}
		}
		ix.inventedN[id] = n
		ix.invented = append(ix.invented, id)
		ix.infos = append(ix.infos, opInfo{invoke: -1, complete: -1})
	}
	ix.idOps[k] = n
	return n
}

// numbersEffect tells whether an effect's kind names an operation NewIndex numbers.
func numbersEffect(kind string) bool {
	return kind != history.KindState && kind != history.KindCalls && kind != history.KindBreaker
}

// knownEffectOps looks up, with workers goroutines side by side, the op number of
// each of the effects' ids that the history numbered: most of the indexing's time, a
// probe each of a table of every op id. It looks up the ids by their numbers among
// the effects' (EffectIDNum), each once, where a pass over the effects met each id
// three times or more. The rest stay -1, NewIndex's to number in order.
func (ix *Index) knownEffectOps(workers int) {
	recs := ix.recs
	n := recs.NumEffectIDs()
	ix.idOps = make([]int32, n)
	hugemem.Advise(ix.idOps)
	ix.idOps[0] = -1 // ""
	per := max((n+workers-1)/max(workers, 1), 1)
	var wg sync.WaitGroup
	for from := 1; from < n; from += per {
		to := min(from+per, n)
		wg.Go(func() { recs.EffectIDOps(uint32(from), ix.idOps[from:to]) })
	}
	wg.Wait()
}
