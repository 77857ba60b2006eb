package invariants

import (
	"sort"

	"github.com/mscli/mscli/history"
)

// opInfo is one operation: its invoke and completion lines in the history.
type opInfo struct {
	invoke   int32 // index into Input.Ops, -1 if missing
	complete int32 // index into Input.Ops, -1 if not completed
	outcome  history.OpType
	invoked  bool // false for ids only effects name (invented by the system)
}

// viewKey names one view of one service.
type viewKey struct{ service, view string }

// view holds one view's effects. Operations are numbered densely once (Index.num), and
// per-operation facts live in slices indexed by that number: at a million operations a
// map per view and per fact would dominate the whole check.
type view struct {
	viewKey
	applied []int32          // indexes into Input.Effects of applied effects, in order
	states  map[string]int32 // key → final state effect (T == 0)
	first   []int32          // op number → its first applied effect, -1 if none
	opState []uint8          // op number → final operation state as an index into names, 0 if unreported
	names   []string         // operation states seen, names[0] = ""
	extra   map[int32][]int32
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

// grow makes room for op numbers below n, doubling so that numbers arriving one by
// one cost amortised constant time.
func (v *view) grow(n int) {
	if n <= len(v.first) {
		return
	}
	if n > cap(v.first) {
		c := max(n, 2*cap(v.first))
		first := make([]int32, len(v.first), c)
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

// faultWindow is a fault from its start to its stop record.
type faultWindow struct {
	start, stop int32 // indexes into Input.Faults; stop -1 if never healed
	from, to    int64
}

// Index is a run prepared for checking: built once, shared by every checker.
type Index struct {
	In       *Input
	nums     map[string]int32 // op id → op number
	ids      []string         // op number → op id
	infos    []opInfo         // op number → its history lines
	invoked  int              // the first `invoked` numbers are the ops in invoke order
	views    []*view          // sorted by service, view
	viewsBy  map[viewKey]*view
	windows  []faultWindow
	lastHeal int64 // time of the last fault stop record, 0 if none
	lastOp   int64 // time of the last operation record
	// snapshots are state effects taken while converging (T > 0), grouped by time.
	snapshots map[int64][]int32
}

func (ix *Index) num(id string) int32 {
	if n, ok := ix.nums[id]; ok {
		return n
	}
	n := int32(len(ix.ids))
	ix.nums[id] = n
	ix.ids = append(ix.ids, id)
	ix.infos = append(ix.infos, opInfo{invoke: -1, complete: -1})
	return n
}

// NewIndex indexes a run.
func NewIndex(in *Input) *Index {
	est := len(in.Ops)/2 + 1
	ix := &Index{In: in, nums: make(map[string]int32, est), ids: make([]string, 0, est),
		infos: make([]opInfo, 0, est), viewsBy: map[viewKey]*view{}}
	for i := range in.Ops {
		o := &in.Ops[i]
		if o.Time > ix.lastOp {
			ix.lastOp = o.Time
		}
		if o.ID == "" {
			continue
		}
		info := &ix.infos[ix.num(o.ID)]
		info.invoked = true
		if o.Type == history.Invoke {
			info.invoke = int32(i)
		} else {
			info.complete = int32(i)
			info.outcome = o.Type
		}
	}
	ix.invoked = len(ix.ids)
	for i := range in.Effects {
		e := &in.Effects[i]
		k := viewKey{e.Service, e.View}
		v := ix.viewsBy[k]
		if v == nil {
			v = &view{viewKey: k, states: map[string]int32{}, extra: map[int32][]int32{}, names: []string{""}}
			v.grow(len(ix.ids))
			ix.viewsBy[k] = v
			ix.views = append(ix.views, v)
		}
		switch e.Kind {
		case history.KindState:
			if e.Time > 0 {
				if ix.snapshots == nil {
					ix.snapshots = map[int64][]int32{}
				}
				ix.snapshots[e.Time] = append(ix.snapshots[e.Time], int32(i))
			} else {
				v.states[e.Key] = int32(i)
			}
		case history.KindOperation:
			n := ix.num(e.ID)
			v.grow(int(n) + 1)
			v.setState(n, e.State)
		default:
			n := ix.num(e.ID)
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
		v.grow(len(ix.ids))
	}
	sort.Slice(ix.views, func(a, b int) bool {
		if ix.views[a].service != ix.views[b].service {
			return ix.views[a].service < ix.views[b].service
		}
		return ix.views[a].view < ix.views[b].view
	})
	open := map[[2]string]int{} // fault,target → index in windows of the open one
	for i, f := range in.Faults {
		k := [2]string{f.Fault, f.Target}
		switch f.Phase {
		case history.Start:
			open[k] = len(ix.windows)
			ix.windows = append(ix.windows, faultWindow{start: int32(i), stop: -1, from: f.Time, to: -1})
		case history.Stop:
			if w, ok := open[k]; ok {
				ix.windows[w].stop = int32(i)
				ix.windows[w].to = f.Time
				delete(open, k)
			}
			if f.Time > ix.lastHeal {
				ix.lastHeal = f.Time
			}
		}
	}
	return ix
}

// effectNum is the op number of an effect.
func (ix *Index) effectNum(e int32) int32 { return ix.nums[ix.In.Effects[e].ID] }

// opLines returns an operation's history lines.
func (ix *Index) opLines(n int32) []history.Op {
	info := ix.infos[n]
	var out []history.Op
	if info.invoke >= 0 {
		out = append(out, ix.In.Ops[info.invoke])
	}
	if info.complete >= 0 {
		out = append(out, ix.In.Ops[info.complete])
	}
	return out
}

// opSpan is the time an operation was in flight; an operation never completed (or
// never invoked) is in flight until the end of the history.
func (ix *Index) opSpan(n int32) (from, to int64) {
	info := ix.infos[n]
	to = ix.lastOp
	if info.invoke >= 0 {
		from = ix.In.Ops[info.invoke].Time
	}
	if info.complete >= 0 {
		to = ix.In.Ops[info.complete].Time
	}
	return from, to
}

// activeFaults returns the start records of faults active at any time in [from, to].
func (ix *Index) activeFaults(from, to int64) []history.Fault {
	var out []history.Fault
	for _, w := range ix.windows {
		if w.from <= to && (w.to < 0 || w.to >= from) {
			out = append(out, ix.In.Faults[w.start])
		}
	}
	return out
}

// opWitness builds a witness for an operation with the given effects.
func (ix *Index) opWitness(n int32, view, note string, effects []int32) Witness {
	w := Witness{ID: ix.ids[n], View: view, Note: note, Ops: ix.opLines(n)}
	for _, e := range effects {
		w.Effects = append(w.Effects, ix.In.Effects[e])
		if w.Key == "" {
			w.Key = ix.In.Effects[e].Key
		}
	}
	if w.Key == "" && len(w.Ops) > 0 {
		w.Key = w.Ops[0].Key
	}
	from, to := ix.opSpan(n)
	w.Faults = ix.activeFaults(from, to)
	return w
}

func (ix *Index) effects(idx []int32) []history.Effect {
	out := make([]history.Effect, len(idx))
	for i, e := range idx {
		out[i] = ix.In.Effects[e]
	}
	return out
}
