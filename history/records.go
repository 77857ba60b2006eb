package history

import (
	"encoding/binary"
	"encoding/json"
	"hash/maphash"
	"math"
	"math/bits"
	"unsafe"

	"github.com/mscli/mscli/internal/hugemem"
)

// Records holds a run's operations and effects column by column, the shape a large
// run is checked in. A million operations are two million history lines and three
// million effects; as slices of Op and Effect (about 180 and 220 bytes each, most of
// them empty fields) they took a gigabyte. Here a line is a row of fixed width —
// numbers, and names, keys and ids as small numbers into tables that hold each
// string once — with the fields few records use (an error, a saga's step, a value)
// kept beside it only when set: 40 bytes an operation, 40 an effect. A number a
// row holds in 32 bits (a line's index and process; an effect's amount, sequence and
// position) that 32 bits do not hold is kept whole beside it (wide32).
//
// Op and Effect give a record back whole; the column readers (OpTime, EffectKind, …)
// read one field without building it, for a pass over millions. The history's op ids
// are numbered densely as they are added (OpIDNum): what an index of the run numbers
// its operations by.
//
// DecodeOp and DecodeEffect read a line straight into the columns; AddOp and
// AddEffect add a record built in memory. The operations' side (DecodeOp, AddOp) and
// the effects' side may run side by side, each in one goroutine (they keep tables of
// their own); reading is safe from any number of goroutines once adding is done.
type Records struct {
	ops  opColumns
	effs effColumns
}

type opColumns struct {
	rows  []opRow
	more  []opMore
	ids   idSet
	names symbols[uint16]
	keys  symbols[uint32]
	vals  valArena
	strs  strTable // the few other strings (errors, sources), each copy shared nearby
}

// opRow is one history line. id is a number of ids + 1 (0: none); typ and f name
// names, key keys; the value is vals.b[valOff:valOff+valLen]; more is an index into
// more + 1 (0: none of those fields is set). index and process are wide32 when more
// holds them.
type opRow struct {
	time           int64
	index, process int32
	id, key        uint32
	typ, f         uint16
	valOff, valLen uint32
	more           uint32
}

type opMore struct {
	index    int64 // when the row's would not hold it, or process not (wide32)
	process  int64
	readID   string // a read's id, numbered with no other's
	err      string
	attempts int
	errors   []string
	status   int
	source   string
}

type effColumns struct {
	rows  []effRow
	more  []effMore
	names symbols[uint16]
	keys  symbols[uint32]
	ids   recentIDs
	strs  strTable // the few other strings (sagas, steps, replicas), each copy shared nearby
}

// effRow is one effects line: service, view, kind and state name names, key keys,
// id ids (see recentIDs); more is an index into more + 1; amount, seq and pos are
// wide32 when more holds them. A row holds no pointer: the collector never reads the
// rows, the largest part of a loaded run.
type effRow struct {
	at                         int64
	amount, seq, pos           int32
	id, key                    uint32
	service, view, kind, state uint16
	more                       uint32
}

// recentIDs keeps the effects' ids as numbers (0 is ""). Numbering them
// against every id of the run would cost the effects, the larger file, a probe of a
// table of tens of megabytes each; but an operation's effects come near each other,
// so a small table of the ids met last gives most lines the number of a copy
// already kept. An id met again after it left that table is kept a second time, under
// a second number: a copy more, never a wrong id. (The index looks the ids up in the
// history's table, from several goroutines.)
type recentIDs struct {
	ids   strArena // id n is ids.at(n-1)
	seed  maphash.Seed
	slots [1 << 14]uint32 // by hash: a number of ids, checked against it
}

type effMore struct {
	amount, seq, pos int64 // when the row's would not hold one of them (wide32)
	value            *int64
	time             int64
	saga, step       string
	undo             bool
	deliveries       int
	replica          string
	reason           string
}

// str is the id numbered n.
func (r *recentIDs) str(n uint32) string {
	if n == 0 {
		return ""
	}
	return r.ids.at(int32(n - 1))
}

// number is id b's number, keeping a copy of it when it is not among the ids met
// last; false when the ids are full.
func (r *recentIDs) number(b []byte) (uint32, bool) {
	if len(b) == 0 {
		return 0, true
	}
	if r.ids.ends == nil {
		r.seed = maphash.MakeSeed()
	}
	slot := &r.slots[maphash.Bytes(r.seed, b)&(1<<14-1)]
	if n := *slot; n != 0 && r.str(n) == string(b) {
		return n, true
	}
	n, ok := r.ids.add(b)
	if !ok {
		return 0, false
	}
	*slot = uint32(n) + 1
	return *slot, true
}

// Grow makes room for ops more operations and effs more effects: a caller that knows
// how many lines it will add (a count of a file's lines) saves the copies of growing.
func (r *Records) Grow(ops, effs int) {
	if ops > 0 {
		r.ops.rows = growRows(r.ops.rows, ops)
		r.ops.ids.grow(ops / 2) // an operation's two lines name its id
	}
	if effs > 0 {
		r.effs.rows = growRows(r.effs.rows, effs)
	}
}

// GrowOps and GrowEffects are Grow for one side, each safe beside the other side's
// adding.
func (r *Records) GrowOps(n int)     { r.Grow(n, 0) }
func (r *Records) GrowEffects(n int) { r.Grow(0, n) }

func growRows[T any](s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	g := make([]T, len(s), len(s)+n)
	hugemem.Advise(g)
	copy(g, s)
	return g
}

// AddOp appends an operation. It fails only when a run names more than 65,535
// distinct types and functions, which no workload does.
func (r *Records) AddOp(o *Op) error {
	l := opLine{index: o.Index, time: o.Time, proc: int64(o.Process), attempts: int64(o.Attempts), status: int64(o.Status),
		typ: bytesOf(string(o.Type)), f: bytesOf(o.F), key: bytesOf(o.Key), id: bytesOf(o.ID), err: bytesOf(o.Error),
		source: bytesOf(o.Source), value: o.Value}
	return r.ops.add(&l, o.Errors)
}

// AddEffect appends an effect. It fails only when a run names more than 65,535
// distinct services, views, kinds and states.
func (r *Records) AddEffect(e *Effect) error {
	l := effLine{service: bytesOf(e.Service), view: bytesOf(e.View), kind: bytesOf(e.Kind), key: bytesOf(e.Key), id: bytesOf(e.ID),
		state: bytesOf(e.State), saga: bytesOf(e.Saga), step: bytesOf(e.Step), replica: bytesOf(e.Replica), reason: bytesOf(e.Reason),
		amount: e.Amount, seq: e.Seq, pos: e.Pos, time: e.Time, at: e.At, deliveries: int64(e.Deliveries), undo: e.Undo}
	if e.Value != nil {
		l.value, l.hasValue = *e.Value, true
	}
	return r.effs.add(&l)
}

// bytesOf is a string's bytes, to be read only.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// NumOps is how many operation records there are.
func (r *Records) NumOps() int { return len(r.ops.rows) }

// Op returns operation record i whole. Its Value and Errors are shared: read them,
// never change them.
func (r *Records) Op(i int) Op {
	c := &r.ops
	row := &c.rows[i]
	o := Op{Index: r.opIndex(row), Time: row.time, Process: r.OpProcess(i), Type: OpType(c.names.strs[row.typ]),
		F: c.names.strs[row.f], Key: c.keys.strs[row.key]}
	if row.id > 0 {
		o.ID = c.ids.ids.at(int32(row.id - 1))
	}
	o.Value = r.OpValue(i)
	if row.more > 0 {
		m := &c.more[row.more-1]
		o.Error, o.Attempts, o.Errors, o.Status, o.Source = m.err, m.attempts, m.errors, m.status, m.source
		if m.readID != "" {
			o.ID = m.readID
		}
	}
	return o
}

// OpTime, OpType, OpF, OpProcess and OpKey read one field of operation record i;
// OpIsRead tells whether it is a read through the public API.
func (r *Records) OpTime(i int) int64  { return r.ops.rows[i].time }
func (r *Records) OpType(i int) OpType { return OpType(r.ops.names.strs[r.ops.rows[i].typ]) }
func (r *Records) OpF(i int) string    { return r.ops.names.strs[r.ops.rows[i].f] }
func (r *Records) OpProcess(i int) int {
	row := &r.ops.rows[i]
	if row.process == wide32 {
		return int(r.ops.more[row.more-1].process)
	}
	return int(row.process)
}

func (r *Records) opIndex(row *opRow) int64 {
	if row.index == wide32 {
		return r.ops.more[row.more-1].index
	}
	return int64(row.index)
}

func (r *Records) OpKey(i int) string { return r.ops.keys.strs[r.ops.rows[i].key] }

// OpValue is operation record i's value, nil if none; shared: read it, never change it.
func (r *Records) OpValue(i int) json.RawMessage {
	row := &r.ops.rows[i]
	if row.valLen == 0 {
		return nil
	}
	return json.RawMessage(r.ops.vals.b[row.valOff : row.valOff+row.valLen : row.valOff+row.valLen])
}
func (r *Records) OpIsRead(i int) bool { return r.OpF(i) == FRead }

// wide32 in a row's 32-bit number says the number is in the row's more: one 32
// bits do not hold, which the workloads seldom write and any line may say.
const wide32 = math.MinInt32

// narrow is v in 32 bits, or wide32 and false when they do not hold it (or it is
// wide32 itself).
func narrow(v int64) (int32, bool) {
	if n := int32(v); int64(n) == v && n != wide32 {
		return n, true
	}
	return wide32, false
}

// OpID is operation record i's id, "" if none.
func (r *Records) OpID(i int) string {
	row := &r.ops.rows[i]
	switch {
	case row.id > 0:
		return r.ops.ids.ids.at(int32(row.id - 1))
	case row.more > 0:
		return r.ops.more[row.more-1].readID
	}
	return ""
}

// OpIDNum is the number of operation record i's id among the history's ids, dense
// from 0 in the order first met; false for a record with no id (a read's).
func (r *Records) OpIDNum(i int) (int32, bool) {
	id := r.ops.rows[i].id
	return int32(id) - 1, id > 0
}

// NumOpIDs is how many distinct ids the history names.
func (r *Records) NumOpIDs() int { return r.ops.ids.ids.len() }

// OpIDOf is the history's id numbered n.
func (r *Records) OpIDOf(n int32) string { return r.ops.ids.ids.at(n) }

// LookupOpID is the number of an id among the history's ids.
func (r *Records) LookupOpID(id string) (int32, bool) { return r.ops.ids.lookup(id) }

// EffectIDOps sets out[k-from] to the number among the history's ids of the effects'
// id numbered k, for each k in [from, from+len(out)), or to -1 when the history has no
// such id. It only reads: goroutines may call it side by side, for separate outs.
func (r *Records) EffectIDOps(from uint32, out []int32) {
	var keys [lookupBatch]string
	for base := 0; base < len(out); base += lookupBatch {
		part := out[base:min(base+lookupBatch, len(out))]
		for j := range part {
			keys[j] = r.effs.ids.str(from + uint32(base+j))
		}
		r.ops.ids.tab.lookupEach(&r.ops.ids.ids, keys[:len(part)], part)
	}
}

// NumEffects is how many effect records there are.
func (r *Records) NumEffects() int { return len(r.effs.rows) }

// Effect returns effect record i whole. Its Value is shared: read it, never change
// it.
func (r *Records) Effect(i int) Effect {
	c := &r.effs
	row := &c.rows[i]
	e := Effect{Service: c.names.strs[row.service], View: c.names.strs[row.view], Kind: c.names.strs[row.kind],
		Key: c.keys.strs[row.key], ID: c.ids.str(row.id), Amount: r.EffectAmount(i), Seq: r.EffectSeq(i), Pos: r.EffectPos(i), State: c.names.strs[row.state], At: row.at}
	if row.more > 0 {
		m := &c.more[row.more-1]
		e.Time, e.Saga, e.Step, e.Undo, e.Deliveries, e.Replica, e.Reason = m.time, m.saga, m.step, m.undo, m.deliveries, m.replica, m.reason
		e.Value = m.value
	}
	return e
}

// EffectService … EffectTime read one field of effect record i.
func (r *Records) EffectService(i int) string { return r.effs.names.strs[r.effs.rows[i].service] }
func (r *Records) EffectView(i int) string    { return r.effs.names.strs[r.effs.rows[i].view] }
func (r *Records) EffectKind(i int) string    { return r.effs.names.strs[r.effs.rows[i].kind] }
func (r *Records) EffectState(i int) string   { return r.effs.names.strs[r.effs.rows[i].state] }
func (r *Records) EffectKey(i int) string     { return r.effs.keys.strs[r.effs.rows[i].key] }
func (r *Records) EffectAt(i int) int64       { return r.effs.rows[i].at }
func (r *Records) EffectAmount(i int) int64 {
	if row := &r.effs.rows[i]; row.amount != wide32 {
		return int64(row.amount)
	}
	return r.effs.more[r.effs.rows[i].more-1].amount
}

func (r *Records) EffectSeq(i int) int64 {
	if row := &r.effs.rows[i]; row.seq != wide32 {
		return int64(row.seq)
	}
	return r.effs.more[r.effs.rows[i].more-1].seq
}

func (r *Records) EffectPos(i int) int64 {
	if row := &r.effs.rows[i]; row.pos != wide32 {
		return int64(row.pos)
	}
	return r.effs.more[r.effs.rows[i].more-1].pos
}
func (r *Records) EffectTime(i int) int64 {
	if m := r.effs.rows[i].more; m > 0 {
		return r.effs.more[m-1].time
	}
	return 0
}

// EffectSaga is the saga effect record i is a step of, "" if none.
func (r *Records) EffectSaga(i int) string {
	if m := r.effs.rows[i].more; m > 0 {
		return r.effs.more[m-1].saga
	}
	return ""
}

// EffectKeyNum is the number of effect record i's key among the effects' keys, dense
// from 0 ("") and below NumEffectKeys: a checker that groups effects by key counts
// into a slice by it, with no map.
func (r *Records) EffectKeyNum(i int) uint32 { return r.effs.rows[i].key }

// EffectViewNum numbers effect record i's service and view together: two effects have
// one number exactly when they have the same service and the same view. A pass over
// the effects that groups them by view compares it, not two strings, and keys a map
// by it, not by a pair of strings.
func (r *Records) EffectViewNum(i int) uint32 {
	row := &r.effs.rows[i]
	return uint32(row.service)<<16 | uint32(row.view)
}

// NumEffectKeys is how many distinct keys the effects name, "" included.
func (r *Records) NumEffectKeys() int { return len(r.effs.keys.strs) }

// EffectKeyOf is the effects' key numbered n.
func (r *Records) EffectKeyOf(n uint32) string { return r.effs.keys.strs[n] }

// EffectID is effect record i's id, "" if none.
func (r *Records) EffectID(i int) string { return r.effs.ids.str(r.effs.rows[i].id) }

// EffectIDNum is the number of effect record i's id among the effects' ids: 0 for
// "", below NumEffectIDs. An id has one number on effects near each other and may
// have several in a run (see recentIDs): a pass over the numbers meets every id the
// effects name at least once, most of them once, where a pass over the effects meets
// each several times.
func (r *Records) EffectIDNum(i int) uint32 { return r.effs.rows[i].id }

// NumEffectIDs is how many numbers the effects' ids have, "" included.
func (r *Records) NumEffectIDs() int { return r.effs.ids.ids.len() + 1 }

// EffectIDOf is the effects' id numbered n.
func (r *Records) EffectIDOf(n uint32) string { return r.effs.ids.str(n) }

// maxNames bounds the distinct names of one side (types and functions; services,
// views, kinds and states): a name is a 16-bit number.
const maxNames = 1<<16 - 1

// symbols numbers strings, 0 for "": strs holds each once. A small cache in front
// of the map answers the strings just met (a run repeats few names and keys on lines
// near each other) without hashing them whole.
type symbols[N uint16 | uint32] struct {
	strs  []string
	num   map[string]N
	cache [1 << 12]N // by quickHash; a hit is checked against strs
}

// number is b's number, numbering a copy of it when new; false when the table is
// full.
func (s *symbols[N]) number(b []byte) (N, bool) {
	if s.strs == nil {
		s.strs = []string{""}
		s.num = map[string]N{}
	}
	if len(b) == 0 {
		return 0, true
	}
	slot := &s.cache[quickHash(b)>>(64-12)]
	if n := *slot; n != 0 && s.strs[n] == string(b) {
		return n, true
	}
	n, ok := s.num[string(b)]
	if !ok {
		if uint64(len(s.strs)) > uint64(^N(0)) {
			return 0, false
		}
		n = N(len(s.strs))
		v := string(b)
		s.strs = append(s.strs, v)
		s.num[v] = n
	}
	*slot = n
	return n, true
}

// quickHash mixes a string's length with its first and last eight bytes: enough to
// spread a run's names and keys over a small cache, at a fraction of a full hash.
func quickHash(b []byte) uint64 {
	n := len(b)
	var x, y uint64
	if n >= 8 {
		x, y = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:])
	} else {
		for i, c := range b {
			x |= uint64(c) << (8 * i)
		}
	}
	return (x ^ bits.RotateLeft64(y, 31) ^ uint64(n)) * 0x9e3779b97f4a7c15
}

// valArena keeps operations' values, each distinct one once as bytes of one arena:
// a value repeats (the same amount on many lines) more often than not.
type valArena struct {
	b     []byte
	seed  maphash.Seed
	cache [1 << 12]struct{ off, n uint32 } // by the value's hash, checked against b
}

func (a *valArena) add(v []byte) (off, n uint32) {
	if a.b == nil {
		a.seed = maphash.MakeSeed()
	}
	slot := &a.cache[maphash.Bytes(a.seed, v)&(uint64(len(a.cache))-1)]
	if slot.n == uint32(len(v)) && string(a.b[slot.off:slot.off+slot.n]) == string(v) {
		return slot.off, slot.n
	}
	off = uint32(len(a.b))
	a.b = append(a.b, v...)
	slot.off, slot.n = off, uint32(len(v))
	return off, slot.n
}
