package invariants

import (
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/hugemem"
)

// opInfo is one operation: its invoke and completion lines in the history.
type opInfo struct {
	invoke   int32 // operation record number (history.Records), -1 if missing
	complete int32 // operation record number (history.Records), -1 if not completed
}

// invokedOp tells whether a client invoked op number n: false for an id only effects
// name (invented by the system), which the index numbers after every invoked one.
func (ix *Index) invokedOp(n int32) bool { return int(n) < ix.invoked }

// outcome is an operation's completion's type (ok, fail, info), "" if it never
// completed: read from its completion's record, not kept a second time (8 bytes an
// operation where the type beside them took 32).
func (ix *Index) outcome(info opInfo) history.OpType {
	if info.complete < 0 {
		return ""
	}
	return ix.recs.OpType(int(info.complete))
}

// viewKey names one view of one service.
type viewKey struct{ service, view string }

// view holds one view's effects. Operations are numbered densely once (Index.num), and
// per-operation facts live in slices indexed by that number: at a million operations a
// map per view and per fact would dominate the whole check.
type view struct {
	viewKey
	applied []int32          // effect record numbers (history.Records) of applied effects, in order
	states  map[string]int32 // key → final state effect (T == 0)
	first   []int32          // op number → its first applied effect, -1 if none
	opState []uint8          // op number → final operation state as an index into names, 0 if unreported
	names   []string         // operation states seen, names[0] = ""
	extra   map[int32][]int32

	// byKey is applied grouped by key, built once for the checks that judge per key
	// (they run side by side) and read only after.
	byKeyOnce sync.Once
	byKey     keyGroups
}

// keyGroups is a view's applied effects grouped by key: keys sorted, groups[i] the
// effects on keys[i] in the order the view applied them.
type keyGroups struct {
	keys   []string
	groups [][]int32
	sums   []int64 // the amounts of groups[i] added up
}

// keyed is the view's applied effects grouped by key. The groups are shared: a caller
// that reorders one sorts a copy.
func (v *view) keyed(recs *history.Records) *keyGroups {
	v.byKeyOnce.Do(func() {
		// Counted by the records' numbers of the keys, with no map and no key
		// looked up twice: the groups are carved from one array, in order of the
		// sorted keys.
		counts := make([]int32, recs.NumEffectKeys())
		sums := make([]int64, len(counts))
		for _, e := range v.applied {
			k := recs.EffectKeyNum(int(e))
			counts[k]++
			sums[k] += recs.EffectAmount(int(e))
		}
		var nums []uint32 // the keys the view applied effects on
		for k, c := range counts {
			if c > 0 {
				nums = append(nums, uint32(k))
			}
		}
		slices.SortFunc(nums, func(a, b uint32) int { return strings.Compare(recs.EffectKeyOf(a), recs.EffectKeyOf(b)) })
		next := counts // from here on: where key k's next effect goes in all
		var start int32
		for _, k := range nums {
			next[k], start = start, start+counts[k]
		}
		all := make([]int32, len(v.applied))
		for _, e := range v.applied {
			k := recs.EffectKeyNum(int(e))
			all[next[k]] = e
			next[k]++
		}
		v.byKey.keys = make([]string, len(nums))
		v.byKey.groups = make([][]int32, len(nums))
		v.byKey.sums = make([]int64, len(nums))
		start = 0
		for i, k := range nums {
			end := next[k] // its group's end, now that all of it is placed
			v.byKey.keys[i], v.byKey.groups[i], v.byKey.sums[i] = recs.EffectKeyOf(k), all[start:end:end], sums[k]
			start = end
		}
	})
	return &v.byKey
}

// count is how many effects the view applied for an op number.
func (v *view) count(n int32) int {
	if int(n) >= len(v.first) || v.first[n] < 0 {
		return 0
	}
	return 1 + len(v.extra[n])
}

// effectsOf returns the effects the view applied for an op number.
func (v *view) effectsOf(n int32) []int32 {
	if int(n) >= len(v.first) || v.first[n] < 0 {
		return nil
	}
	return append([]int32{v.first[n]}, v.extra[n]...)
}

func (v *view) state(n int32) (string, bool) {
	if int(n) >= len(v.opState) || v.opState[n] == 0 {
		return "", false
	}
	return v.names[v.opState[n]], true
}

// setState records an operation's final state. States are few (a handful per
// service), so a byte per operation names them; past 255 distinct states the rest
// share the last slot's name, which no fixture comes near.
func (v *view) setState(n int32, state string) {
	i := 0
	for j, s := range v.names {
		if s == state {
			i = j
			break
		}
	}
	if i == 0 && state != "" {
		if len(v.names) < 256 {
			v.names = append(v.names, state)
		}
		i = len(v.names) - 1
	}
	v.opState[n] = uint8(i)
}

// appliedKind says whether an effect of this kind is an operation's effect on a
// view, one of its applied effects: every kind but those NewIndex reads otherwise.
func appliedKind(kind string) bool {
	switch kind {
	case history.KindState, history.KindOperation, history.KindDeadLetter, history.KindDeadLetterFile, history.KindRedrive,
		history.KindCalls, history.KindBreaker:
		return false
	}
	return true
}

// appliedPerView counts each view's applied effects, so that its list is made once
// to size: appended to, a million effects' list left four times its size in copies
// behind, most of the index's working memory.
func appliedPerView(recs *history.Records) map[uint32]int {
	out := map[uint32]int{}
	var k uint32
	n := 0
	for i := range recs.NumEffects() {
		if !appliedKind(recs.EffectKind(i)) {
			continue
		}
		if next := recs.EffectViewNum(i); next != k {
			out[k] += n
			k, n = next, 0
		}
		n++
	}
	out[k] += n
	return out
}

// grow makes room for op numbers below n, doubling so that numbers arriving one by
// one cost amortised constant time.
func (v *view) grow(n int) {
	if n <= len(v.first) {
		return
	}
	if n > cap(v.first) {
		c := max(n, 2*cap(v.first))
		first := make([]int32, len(v.first), c)
		hugemem.Advise(first)
		copy(first, v.first)
		v.first = first
		st := make([]uint8, len(v.opState), c)
		copy(st, v.opState)
		v.opState = st
	}
	for i := len(v.first); i < n; i++ {
		v.first = append(v.first, -1)
	}
	v.opState = v.opState[:n]
}

// faultWindow is a fault that took effect, from its start to its stop record.
type faultWindow struct {
	start, stop int32 // indexes into Input.Faults; stop -1 if never healed
	from, to    int64
}

// readOp is one read through the public API: its invoke and completion lines.
type readOp struct{ invoke, complete int32 }

// Index is a run prepared for checking: built once, shared by every checker.
type Index struct {
	In *Input
	// recs are the run's operations and effects in columns: every line index the
	// index keeps (opInfo's, a view's) is a record number of recs.
	recs *history.Records
	// Operations are numbered as the records number their ids: the history's ids
	// first (recs.OpIDNum), in the order first met, then the ids only effects name
	// (invented, in the order first met).
	invented  []string         // op number - recs.NumOpIDs() → id
	inventedN map[string]int32 // id → op number, of the ids only effects name
	idOps     []int32          // the effects' id number (EffectIDNum) → op number; -1 until numbered, and for an id of no operation
	infos     []opInfo         // op number → its history lines
	invoked   int              // the first `invoked` numbers are the ops in invoke order
	reads     []readOp         // reads through the public API, in completion order
	views     []*view          // sorted by service, view
	viewsBy   map[viewKey]*view
	windows   []faultWindow
	// failed are the start records of faults that never took effect (an error).
	failed   []int32
	lastHeal int64 // time of the last fault stop record, 0 if none
	lastOp   int64 // time of the last operation record
	// lastWrite is the time of the last record of an operation that asks for an
	// effect: the workload's last change, after which the system is quiet.
	lastWrite int64
	// snapshots are state effects taken while converging (T > 0), grouped by time.
	snapshots    map[int64][]int32
	lastSnapshot int64
}

// NewIndex indexes a run.
func NewIndex(in *Input) *Index {
	workers := min(runtime.GOMAXPROCS(0), 8)
	if in.Records == nil && len(in.Effects) < 1<<16 || in.Records != nil && in.Records.NumEffects() < 1<<16 {
		workers = 1 // too few effects to be worth goroutines
	}
	return newIndex(in, workers)
}

// newIndex is NewIndex looking up the effects' op numbers with workers goroutines.
func newIndex(in *Input, workers int) *Index {
	recs := in.Columns()
	ix := &Index{In: in, recs: recs, infos: make([]opInfo, recs.NumOpIDs(), recs.NumOpIDs()+recs.NumOpIDs()/8),
		viewsBy: map[viewKey]*view{}}
	hugemem.Advise(ix.infos)
	for i := range ix.infos {
		ix.infos[i] = opInfo{invoke: -1, complete: -1}
	}
	// Counting the applied effects of each view is a pass over the effects of its
	// own, which needs nothing of the history's: it runs beside the pass over the
	// operations.
	counted := make(chan map[uint32]int, 1)
	go func() { counted <- appliedPerView(recs) }()
	pendingReads := map[int]int32{} // process → its read's invoke line
	for i := range recs.NumOps() {
		t := recs.OpTime(i)
		ix.lastOp = max(ix.lastOp, t)
		typ := recs.OpType(i)
		if recs.OpIsRead(i) {
			// A read has no id: a process has one operation in flight, so its
			// completion is the next line of the same process.
			p := recs.OpProcess(i)
			if typ == history.Invoke {
				pendingReads[p] = int32(i)
			} else if inv, ok := pendingReads[p]; ok {
				ix.reads = append(ix.reads, readOp{invoke: inv, complete: int32(i)})
				delete(pendingReads, p)
			}
			continue
		}
		n, ok := recs.OpIDNum(i)
		if !ok {
			continue
		}
		ix.lastWrite = max(ix.lastWrite, t)
		info := &ix.infos[n]
		if typ == history.Invoke {
			info.invoke = int32(i)
		} else {
			info.complete = int32(i)
		}
	}
	ix.invoked = len(ix.infos)
	ix.knownEffectOps(workers)
	applied := <-counted
	// The effects of a run alternate between views (an operation's write, then its
	// read): the views are found by their numbers, not by their names.
	var v *view
	var vn uint32
	byNum := map[uint32]*view{}
	for i := range recs.NumEffects() {
		if n := recs.EffectViewNum(i); v == nil || n != vn {
			v, vn = byNum[n], n
		}
		if v == nil {
			k := viewKey{recs.EffectService(i), recs.EffectView(i)}
			v = &view{viewKey: k, states: map[string]int32{}, extra: map[int32][]int32{}, names: []string{""},
				applied: make([]int32, 0, applied[vn])}
			hugemem.Advise(v.applied)
			v.grow(len(ix.infos))
			ix.viewsBy[k] = v
			byNum[vn] = v
			ix.views = append(ix.views, v)
		}
		switch recs.EffectKind(i) {
		case history.KindState:
			if t := recs.EffectTime(i); t > 0 {
				if ix.snapshots == nil {
					ix.snapshots = map[int64][]int32{}
				}
				ix.snapshots[t] = append(ix.snapshots[t], int32(i))
				ix.lastSnapshot = max(ix.lastSnapshot, t)
			} else {
				v.states[recs.EffectKey(i)] = int32(i)
			}
		case history.KindOperation:
			n := ix.effectOp(i)
			v.grow(int(n) + 1)
			v.setState(n, recs.EffectState(i))
		case history.KindDeadLetter, history.KindDeadLetterFile, history.KindRedrive:
			// A parked or re-driven message is no effect of its operation: the
			// checkers of dead letters read these records.
			ix.effectOp(i)
		case history.KindCalls, history.KindBreaker:
			// Counts of calls and a breaker's states are no operation's: the
			// checkers of a gateway read them.
		default: // appliedKind
			n := ix.effectOp(i)
			v.grow(int(n) + 1)
			v.applied = append(v.applied, int32(i))
			if v.first[n] >= 0 {
				v.extra[n] = append(v.extra[n], int32(i))
			} else {
				v.first[n] = int32(i)
			}
		}
	}
	for _, v := range ix.views {
		v.grow(len(ix.infos))
	}
	sort.Slice(ix.views, func(a, b int) bool {
		if ix.views[a].service != ix.views[b].service {
			return ix.views[a].service < ix.views[b].service
		}
		return ix.views[a].view < ix.views[b].view
	})
	ix.pairFaults()
	return ix
}

// pairFaults turns fault records into windows. The start and stop records of one
// planned fault share its plan position N, kind and target; records that share all
// three (recordings made before N existed) pair first in, first out. A start record
// with an error is a fault that never took effect: no window, and its stop is skipped.
func (ix *Index) pairFaults() {
	type instance struct {
		n             int
		fault, target string
	}
	open := map[instance][]int{} // → indexes into windows, -1 for a failed start
	for i, f := range ix.In.Faults {
		k := instance{f.N, f.Fault, f.Target}
		switch f.Phase {
		case history.Start:
			if f.Error != "" {
				ix.failed = append(ix.failed, int32(i))
				open[k] = append(open[k], -1)
				continue
			}
			open[k] = append(open[k], len(ix.windows))
			ix.windows = append(ix.windows, faultWindow{start: int32(i), stop: -1, from: f.Time, to: -1})
		case history.Stop:
			if q := open[k]; len(q) > 0 {
				if w := q[0]; w >= 0 {
					ix.windows[w].stop, ix.windows[w].to = int32(i), f.Time
				}
				open[k] = q[1:]
			}
			ix.lastHeal = max(ix.lastHeal, f.Time)
		}
	}
}

// effectNum is the op number of an effect, -1 if its id names no operation.
func (ix *Index) effectNum(e int32) int32 {
	if n := ix.idOps[ix.recs.EffectIDNum(int(e))]; n >= 0 {
		return n
	}
	n, _ := ix.opNum(ix.recs.EffectID(int(e)))
	return n
}

// faultSet collects the start records of the faults active at given times, each once.
type faultSet struct {
	ix   *Index
	seen map[int32]bool
	out  []history.Fault
}

// during adds the faults active at any time in [from, to]. Faults that failed to
// apply have no window: they were never active.
func (s *faultSet) during(from, to int64) {
	for _, w := range s.ix.windows {
		if w.from <= to && (w.to < 0 || w.to >= from) && !s.seen[w.start] {
			if s.seen == nil {
				s.seen = map[int32]bool{}
			}
			s.seen[w.start] = true
			s.out = append(s.out, s.ix.In.Faults[w.start])
		}
	}
}

// EffectLookback is how far before an effect a witness looks for its cause: a
// consequence lags the fault behind it (commands republished by a duplicate fault are
// applied after the republishing ends, a killed replica's commands are redelivered a
// little after the kill).
const EffectLookback = int64(2 * time.Second)

// ofEffects adds the faults active when each effect was applied or in the
// EffectLookback before, for effects that say when they were applied.
func (s *faultSet) ofEffects(effs []history.Effect) {
	for _, e := range effs {
		if e.At != 0 {
			s.during(e.At-EffectLookback, e.At)
		}
	}
}

func (ix *Index) effects(idx []int32) []history.Effect {
	out := make([]history.Effect, len(idx))
	for i, e := range idx {
		out[i] = ix.recs.Effect(int(e))
	}
	return out
}

// ptrTo is a pointer to a copy of v: a record the columns gave back whole, where a
// pointer is wanted.
func ptrTo[T any](v T) *T { return &v }
