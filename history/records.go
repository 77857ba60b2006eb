package history

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math"
	"unsafe"

	"github.com/mscli/mscli/internal/addrslot"
	"github.com/mscli/mscli/internal/hugemem"
)

// Records holds a run's operations and effects column by column, the shape a large
// run is checked in. A million operations are two million history lines and three
// million effects; as slices of Op and Effect (about 180 and 220 bytes each, most of
// them empty fields) they took a gigabyte. Here a line is a row of fixed width —
// numbers, and names, keys and ids as small numbers into tables that hold each
// string once — with the fields few records use (an error, a saga's step, a value)
// kept beside it only when set: 48 bytes an operation, 64 an effect.
//
// Op and Effect give a record back whole; the column readers (OpTime, EffectKind, …)
// read one field without building it, for a pass over millions. The history's op ids
// are numbered densely as they are added (OpIDNum): what an index of the run numbers
// its operations by.
//
// AddOp and AddEffect may run side by side, each in one goroutine (the history and
// the effects keep tables of their own); reading is safe from any number of
// goroutines once adding is done.
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
}

// opRow is one history line. id is a number of ids + 1 (0: none); typ and f name
// names, key keys; the value is vals.b[valOff:valOff+valLen]; more is an index into
// more + 1 (0: none of those fields is set).
type opRow struct {
	index, time    int64
	process        int32
	id, key        uint32
	typ, f         uint16
	valOff, valLen uint32
	more           uint32
}

type opMore struct {
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
}

// effRow is one effects line: service, view, kind and state name names, key keys,
// more is an index into more + 1. The id is kept as the decoder gave it (an
// interning decoder gives the copy of the history's id, or one shared by the
// effects near each other): numbering it here would cost the effects, the larger
// file, a probe of a table of every id on its own; the index looks the ids up in the
// history's table from several goroutines instead.
type effRow struct {
	amount, seq, pos, at       int64
	id                         string
	key                        uint32
	service, view, kind, state uint16
	more                       uint32
}

type effMore struct {
	value      *int64
	time       int64
	saga, step string
	undo       bool
	deliveries int
	replica    string
	reason     string
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
	c := &r.ops
	typ, ok1 := c.names.number(string(o.Type))
	f, ok2 := c.names.number(o.F)
	if !ok1 || !ok2 {
		return fmt.Errorf("more than %d distinct operation types and functions", maxNames)
	}
	row := opRow{index: o.Index, time: o.Time, process: int32(o.Process), typ: typ, f: f}
	row.key, _ = c.keys.number(o.Key)
	// A read asks for no effect: an id one carries (none the workloads write) is
	// kept aside, and numbered with no operation's.
	readID := ""
	if o.ID != "" && o.F == FRead {
		readID = o.ID
	} else if o.ID != "" {
		row.id = c.ids.number(o.ID) + 1
	}
	if len(o.Value) > 0 {
		if uint64(len(c.vals.b))+uint64(len(o.Value)) > math.MaxUint32 {
			return fmt.Errorf("the operations' values add up to more than %d bytes", uint32(math.MaxUint32))
		}
		row.valOff, row.valLen = c.vals.add(o.Value)
	}
	if readID != "" || o.Error != "" || o.Attempts != 0 || len(o.Errors) > 0 || o.Status != 0 || o.Source != "" {
		c.more = append(c.more, opMore{readID: readID, err: o.Error, attempts: o.Attempts, errors: o.Errors, status: o.Status, source: o.Source})
		row.more = uint32(len(c.more))
	}
	c.rows = append(c.rows, row)
	return nil
}

// AddEffect appends an effect. It fails only when a run names more than 65,535
// distinct services, views, kinds and states.
func (r *Records) AddEffect(e *Effect) error {
	c := &r.effs
	svc, ok1 := c.names.number(e.Service)
	view, ok2 := c.names.number(e.View)
	kind, ok3 := c.names.number(e.Kind)
	state, ok4 := c.names.number(e.State)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return fmt.Errorf("more than %d distinct services, views, kinds and states", maxNames)
	}
	row := effRow{amount: e.Amount, seq: e.Seq, pos: e.Pos, at: e.At, service: svc, view: view, kind: kind, state: state}
	row.key, _ = c.keys.number(e.Key)
	row.id = e.ID
	if e.Value != nil || e.Time != 0 || e.Saga != "" || e.Step != "" || e.Undo || e.Deliveries != 0 || e.Replica != "" || e.Reason != "" {
		m := effMore{time: e.Time, saga: e.Saga, step: e.Step, undo: e.Undo, deliveries: e.Deliveries, replica: e.Replica, reason: e.Reason}
		if e.Value != nil {
			v := *e.Value
			m.value = &v
		}
		c.more = append(c.more, m)
		row.more = uint32(len(c.more))
	}
	c.rows = append(c.rows, row)
	return nil
}

// NumOps is how many operation records there are.
func (r *Records) NumOps() int { return len(r.ops.rows) }

// Op returns operation record i whole. Its Value and Errors are shared: read them,
// never change them.
func (r *Records) Op(i int) Op {
	c := &r.ops
	row := &c.rows[i]
	o := Op{Index: row.index, Time: row.time, Process: int(row.process), Type: OpType(c.names.strs[row.typ]),
		F: c.names.strs[row.f], Key: c.keys.strs[row.key]}
	if row.id > 0 {
		o.ID = c.ids.ids[row.id-1]
	}
	if row.valLen > 0 {
		o.Value = json.RawMessage(c.vals.b[row.valOff : row.valOff+row.valLen : row.valOff+row.valLen])
	}
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
func (r *Records) OpProcess(i int) int { return int(r.ops.rows[i].process) }
func (r *Records) OpKey(i int) string  { return r.ops.keys.strs[r.ops.rows[i].key] }
func (r *Records) OpIsRead(i int) bool { return r.OpF(i) == FRead }

// OpID is operation record i's id, "" if none.
func (r *Records) OpID(i int) string {
	row := &r.ops.rows[i]
	switch {
	case row.id > 0:
		return r.ops.ids.ids[row.id-1]
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
func (r *Records) NumOpIDs() int { return len(r.ops.ids.ids) }

// OpIDOf is the history's id numbered n.
func (r *Records) OpIDOf(n int32) string { return r.ops.ids.ids[n] }

// LookupOpID is the number of an id among the history's ids.
func (r *Records) LookupOpID(id string) (int32, bool) { return r.ops.ids.lookup(id) }

// NumEffects is how many effect records there are.
func (r *Records) NumEffects() int { return len(r.effs.rows) }

// Effect returns effect record i whole. Its Value is shared: read it, never change
// it.
func (r *Records) Effect(i int) Effect {
	c := &r.effs
	row := &c.rows[i]
	e := Effect{Service: c.names.strs[row.service], View: c.names.strs[row.view], Kind: c.names.strs[row.kind],
		Key: c.keys.strs[row.key], ID: row.id, Amount: row.amount, Seq: row.seq, Pos: row.pos, State: c.names.strs[row.state], At: row.at}
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
func (r *Records) EffectAmount(i int) int64   { return r.effs.rows[i].amount }
func (r *Records) EffectSeq(i int) int64      { return r.effs.rows[i].seq }
func (r *Records) EffectPos(i int) int64      { return r.effs.rows[i].pos }
func (r *Records) EffectAt(i int) int64       { return r.effs.rows[i].at }
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

// EffectID is effect record i's id, "" if none.
func (r *Records) EffectID(i int) string { return r.effs.rows[i].id }

// maxNames bounds the distinct names of one side (types and functions; services,
// views, kinds and states): a name is a 16-bit number.
const maxNames = 1<<16 - 1

// symbols numbers strings, 0 for "": strs holds each once. A small cache in front
// of the map answers the strings just met (a run repeats few names and keys on lines
// near each other) without probing it.
type symbols[N uint16 | uint32] struct {
	strs  []string
	num   map[string]N
	cache [1 << 12]N // by where the string's bytes are; a hit is the very string strs holds
}

// number is v's number, numbering it when new; false when the table is full.
//
// The cache is keyed by the address of v's bytes: a decoder that interns (Interner)
// hands the same copy of a name each time, and the table keeps the first copy it was
// given, so most strings are answered by comparing two addresses. An address is only
// a hit when it is that of the copy strs holds, which the table keeps alive: no other
// string can have it.
func (s *symbols[N]) number(v string) (N, bool) {
	if s.strs == nil {
		s.strs = []string{""}
		s.num = map[string]N{}
	}
	if v == "" {
		return 0, true
	}
	p := unsafe.StringData(v)
	slot := &s.cache[addrslot.Of(p, len(s.cache))]
	if n := *slot; n != 0 && unsafe.StringData(s.strs[n]) == p && len(s.strs[n]) == len(v) {
		return n, true
	}
	n, ok := s.num[v]
	if !ok {
		if uint64(len(s.strs)) > uint64(^N(0)) {
			return 0, false
		}
		n = N(len(s.strs))
		s.strs = append(s.strs, v)
		s.num[v] = n
	}
	*slot = n
	return n, true
}

// idSet numbers op ids: an idTable over the ids it keeps, with a cache in front
// keyed by where an id's bytes are, as symbols' (an id recurs on lines near each
// other: its invoke and completion, its effects, and an interning decoder hands the
// same copy each time).
type idSet struct {
	ids   []string
	tab   idTable
	cache [1 << 12]uint32 // its number + 1
}

func (s *idSet) number(id string) uint32 {
	if s.tab.slots == nil {
		s.tab = newIDTable(1 << 10)
	}
	p := unsafe.StringData(id)
	slot := &s.cache[addrslot.Of(p, len(s.cache))]
	if n := *slot; n != 0 && unsafe.StringData(s.ids[n-1]) == p && len(s.ids[n-1]) == len(id) {
		return n - 1
	}
	var n int32
	s.ids, n = s.tab.number(s.ids, id)
	*slot = uint32(n) + 1
	return uint32(n)
}

// grow makes room for n more ids without growing the table again.
func (s *idSet) grow(n int) {
	want := len(s.ids) + n
	if 2*want > len(s.tab.slots) {
		s.tab = newIDTable(want)
		for i, id := range s.ids {
			s.tab.place(id, int32(i))
		}
	}
	s.ids = growRows(s.ids, n)
}

func (s *idSet) lookup(id string) (int32, bool) { return s.tab.lookup(s.ids, id) }

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
