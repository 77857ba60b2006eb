package history

import (
	"encoding/json"
	"fmt"
	"math"
)

// DecodeOp decodes one history line and appends it. The fast path reads the line's
// bytes straight into the columns, with no Op in between: a name, a key or an id is
// looked up by its bytes and copied only the first time it is met. A line the fast
// path cannot read exactly as encoding/json would (an escape, an unknown key, a
// float) goes through encoding/json and AddOp.
func (r *Records) DecodeOp(b []byte) error {
	var l opLine
	if scanOp(b, &l) {
		return r.ops.add(&l, plainList(l.errors, r.ops.strs.str))
	}
	var o Op
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	return r.AddOp(&o)
}

// DecodeEffect decodes one effects line and appends it, as DecodeOp.
func (r *Records) DecodeEffect(b []byte) error {
	var l effLine
	if scanEffect(b, &l) {
		return r.effs.add(&l)
	}
	var e Effect
	if err := json.Unmarshal(b, &e); err != nil {
		return err
	}
	return r.AddEffect(&e)
}

// errIDsFull: the ids of one side add up to more than 4 GiB (or 2³¹ of them), which
// the numbers of their arena cannot count.
var errIDsFull = fmt.Errorf("the ids add up to more than %d bytes", uint32(math.MaxUint32))

// add appends an operation read as l, with its errors.
func (c *opColumns) add(l *opLine, errs []string) error {
	typ, ok1 := c.names.number(l.typ)
	f, ok2 := c.names.number(l.f)
	if !ok1 || !ok2 {
		return fmt.Errorf("more than %d distinct operation types and functions", maxNames)
	}
	row := opRow{time: l.time, typ: typ, f: f}
	index, ok1 := narrow(l.index)
	process, ok2 := narrow(l.proc)
	row.index, row.process = index, process
	wide := !ok1 || !ok2
	row.key, _ = c.keys.number(l.key)
	// A read asks for no effect: an id one carries (none the workloads write) is
	// kept aside, and numbered with no operation's.
	readID := ""
	if len(l.id) > 0 && string(l.f) == FRead {
		readID = c.strs.str(l.id)
	} else if len(l.id) > 0 {
		n, ok := c.ids.number(l.id)
		if !ok {
			return errIDsFull
		}
		row.id = n + 1
	}
	if len(l.value) > 0 {
		if uint64(len(c.vals.b))+uint64(len(l.value)) > math.MaxUint32 {
			return fmt.Errorf("the operations' values add up to more than %d bytes", uint32(math.MaxUint32))
		}
		row.valOff, row.valLen = c.vals.add(l.value)
	}
	if wide || readID != "" || len(l.err) > 0 || l.attempts != 0 || len(errs) > 0 || l.status != 0 || len(l.source) > 0 {
		c.more = append(c.more, opMore{index: l.index, process: l.proc, readID: readID, err: c.strs.str(l.err), attempts: int(l.attempts), errors: errs,
			status: int(l.status), source: c.strs.str(l.source)})
		row.more = uint32(len(c.more))
	}
	c.rows = append(c.rows, row)
	return nil
}

// add appends an effect read as l.
func (c *effColumns) add(l *effLine) error {
	svc, ok1 := c.names.number(l.service)
	view, ok2 := c.names.number(l.view)
	kind, ok3 := c.names.number(l.kind)
	state, ok4 := c.names.number(l.state)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return fmt.Errorf("more than %d distinct services, views, kinds and states", maxNames)
	}
	row := effRow{at: l.at, service: svc, view: view, kind: kind, state: state}
	amount, ok1 := narrow(l.amount)
	seq, ok2 := narrow(l.seq)
	pos, ok3 := narrow(l.pos)
	row.amount, row.seq, row.pos = amount, seq, pos
	wide := !ok1 || !ok2 || !ok3
	row.key, _ = c.keys.number(l.key)
	if row.id, ok1 = c.ids.number(l.id); !ok1 {
		return errIDsFull
	}
	if wide || l.hasValue || l.time != 0 || len(l.saga) > 0 || len(l.step) > 0 || l.undo || l.deliveries != 0 || len(l.replica) > 0 || len(l.reason) > 0 {
		m := effMore{amount: l.amount, seq: l.seq, pos: l.pos, time: l.time, saga: c.strs.str(l.saga), step: c.strs.str(l.step), undo: l.undo, deliveries: int(l.deliveries),
			replica: c.strs.str(l.replica), reason: c.strs.str(l.reason)}
		if l.hasValue {
			v := l.value
			m.value = &v
		}
		c.more = append(c.more, m)
		row.more = uint32(len(c.more))
	}
	c.rows = append(c.rows, row)
	return nil
}
