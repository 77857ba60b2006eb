package history

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"strconv"
	"unsafe"
)

// A million-operation run is five million JSON lines; encoding/json's reflection
// spends most of a load on them. The records mscli writes are flat objects of plain
// strings and integers, so a small scanner decodes them directly, interning strings
// as it goes. Anything it does not recognise — an escape in a string, an unknown key,
// a float — makes it give up on that line, and encoding/json decodes it instead: the
// fast path accepts only what encoding/json would decode to the same record
// (FuzzDecode checks exactly that).

// DecodeOp decodes one history line into o: the fast path, else encoding/json
// (interning what it decoded).
func (in *Interner) DecodeOp(b []byte, o *Op) error {
	zeroRecord(o)
	var l opLine
	if scanOp(b, &l) {
		in.op(&l, o)
		return nil
	}
	*o = Op{}
	if err := json.Unmarshal(b, o); err != nil {
		return err
	}
	in.Op(o)
	return nil
}

// DecodeEffect decodes one effects line into e, as DecodeOp does.
func (in *Interner) DecodeEffect(b []byte, e *Effect) error {
	zeroRecord(e)
	var l effLine
	if scanEffect(b, &l) {
		in.effect(&l, e)
		return nil
	}
	*e = Effect{}
	if err := json.Unmarshal(b, e); err != nil {
		return err
	}
	in.Effect(e)
	return nil
}

// zeroRecord zeroes a record that is not zero already. A load decodes into the slots of a
// slice it just made, zero; writing zeros over them anyway is no plain store while the
// collector marks (it is for most of a large load): every pointer word of the record
// passes the write barrier, which took a fifth of the decoding's time. Reading the
// words first costs nothing the decoding's own writes would not.
func zeroRecord[T Op | Effect](r *T) {
	words := unsafe.Slice((*uintptr)(unsafe.Pointer(r)), unsafe.Sizeof(*r)/unsafe.Sizeof(uintptr(0)))
	for _, w := range words {
		if w != 0 {
			var zero T
			*r = zero
			return
		}
	}
}

// opLine is one history line as the fast path read it: each string field as its
// bytes without the quotes (nil when absent or null, which encoding/json leaves
// unchanged), the value and the errors as raw JSON. The decoders turn it into an Op
// (Interner) or a row of Records.
type opLine struct {
	index, time, proc, attempts, status int64
	typ, f, key, id, err, source        []byte
	value, errors                       []byte
}

// effLine is one effects line as the fast path read it, as opLine.
type effLine struct {
	service, view, kind, key, id, state, saga, step, replica, reason []byte
	amount, seq, pos, time, at, deliveries, value                    int64
	hasValue, undo                                                   bool
}

// op fills o from a line the fast path read, interning its strings.
func (in *Interner) op(l *opLine, o *Op) {
	o.Index, o.Time, o.Process, o.Attempts, o.Status = l.index, l.time, int(l.proc), int(l.attempts), int(l.status)
	o.Type, o.F, o.Key, o.ID = OpType(in.bytes(l.typ)), in.bytes(l.f), in.bytes(l.key), in.bytes(l.id)
	o.Error, o.Source = in.bytes(l.err), in.bytes(l.source)
	if l.value != nil {
		o.Value = in.raw(l.value)
	}
	o.Errors = plainList(l.errors, in.bytes)
}

// effect fills e from a line the fast path read, interning its strings.
func (in *Interner) effect(l *effLine, e *Effect) {
	e.Service, e.View, e.Kind, e.Key, e.ID = in.bytes(l.service), in.bytes(l.view), in.bytes(l.kind), in.bytes(l.key), in.bytes(l.id)
	e.State, e.Saga, e.Step, e.Replica, e.Reason = in.bytes(l.state), in.bytes(l.saga), in.bytes(l.step), in.bytes(l.replica), in.bytes(l.reason)
	e.Amount, e.Seq, e.Pos, e.Time, e.At, e.Deliveries, e.Undo = l.amount, l.seq, l.pos, l.time, l.at, int(l.deliveries), l.undo
	if l.hasValue {
		v := l.value
		e.Value = &v
	}
}

// scanObject walks one JSON object of b, handing each key (without quotes) and raw
// value to field. It accepts keys without escapes and values that are plain strings,
// integers, or objects and arrays of those; anything else, or field returning false,
// makes it return false. A repeated key is handed over again: the later value wins,
// as in encoding/json.
func scanObject(b []byte, field func(k, v []byte) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		end := plainString(b, i)
		if end < 0 {
			return false
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		vend := value(b, i, 0)
		if vend < 0 || !field(key, b[i:vend]) {
			return false
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// value returns the end of the value at b[i:], or -1.
func value(b []byte, i, depth int) int {
	if i >= len(b) || depth > 8 {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		return plainString(b, i)
	case c == '-' || c >= '0' && c <= '9':
		j := i
		if b[j] == '-' {
			j++
		}
		start := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == start || b[start] == '0' && j-start > 1 {
			return -1 // no digits, or a leading zero
		}
		if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
			return -1 // floats are encoding/json's
		}
		return j
	case c == 'n':
		if bytes.HasPrefix(b[i:], []byte("null")) {
			return i + 4
		}
		return -1
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		j := skipSpace(b, i+1)
		if j < len(b) && b[j] == closing {
			return j + 1
		}
		for {
			if c == '{' {
				if j >= len(b) || b[j] != '"' {
					return -1
				}
				if j = plainString(b, j); j < 0 {
					return -1
				}
				if j = skipSpace(b, j); j >= len(b) || b[j] != ':' {
					return -1
				}
				j = skipSpace(b, j+1)
			}
			if j = value(b, j, depth+1); j < 0 {
				return -1
			}
			j = skipSpace(b, j)
			if j >= len(b) {
				return -1
			}
			if b[j] == closing {
				return j + 1
			}
			if b[j] != ',' {
				return -1
			}
			j = skipSpace(b, j+1)
		}
	}
	return -1
}

// plainString returns the end (after the closing quote) of the string starting at
// b[i] == '"', or -1 if it holds an escape or a control character (encoding/json's
// business) or does not end.
func plainString(b []byte, i int) int {
	j := i + 1
	// Eight bytes at a time while eight remain in the line (the line goes on past
	// most strings): a quarter of the scalar loop's cost on a large load, where this
	// was its largest item. The lowest byte flagged is exact (a borrow only carries to
	// higher bytes), so it is the first byte the scalar loop would have stopped at.
	for ; j+8 <= len(b); j += 8 {
		x := binary.LittleEndian.Uint64(b[j:])
		if m := specialBytes(x); m != 0 {
			j += bits.TrailingZeros64(m) >> 3
			if b[j] == '"' {
				return j + 1
			}
			return -1
		}
	}
	return plainStringFrom(b, j)
}

// plainStringFrom is plainString byte by byte from b[j], inside the string.
func plainStringFrom(b []byte, j int) int {
	for ; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1
		case c == '\\' || c < 0x20 || c >= 0x80:
			// Escapes, control characters and non-ASCII (which encoding/json checks
			// for valid UTF-8 and may rewrite) go the slow way.
			return -1
		}
	}
	return -1
}

// specialBytes flags (with its high bit) each byte of x that ends a plain string's
// run of bytes: a quote, a backslash, a control character or a non-ASCII byte.
func specialBytes(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	e := x ^ (ones * '\\')
	return ((q-ones)&^q | (e-ones)&^e | (x-ones*0x20)&^x | x) & highs
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		// Every space is below '!': most bytes leave on the first comparison.
		if c := b[i]; c > ' ' || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		i++
	}
	return i
}

// integer is v as a decimal int64, as strconv.ParseInt reads it. Up to 18 digits
// cannot overflow and are added up here, the usual case (times, amounts, positions):
// ParseInt was a tenth of a large load's decoding.
func integer(v []byte) (int64, bool) {
	digits := v
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		if len(digits) == 0 || digits[0] < '0' || digits[0] > '9' {
			return 0, false
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		return n, err == nil
	}
	var n int64
	for _, c := range digits {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int64(d)
	}
	if len(digits) < len(v) {
		n = -n
	}
	return n, true
}

// plain sets *dst to the bytes of a plain string value (without its quotes); null
// leaves *dst as it is, as encoding/json leaves a string field. Anything else is
// false.
func plain(v []byte, dst *[]byte) bool {
	if string(v) == "null" {
		return true
	}
	if len(v) < 2 || v[0] != '"' {
		return false
	}
	*dst = v[1 : len(v)-1 : len(v)-1]
	return true
}

// eachPlain hands each string of a list of plain strings to each (when not nil);
// false when v is not such a list or null.
func eachPlain(v []byte, each func([]byte)) bool {
	if string(v) == "null" {
		return true
	}
	if len(v) < 2 || v[0] != '[' {
		return false
	}
	i := skipSpace(v, 1)
	for i < len(v) && v[i] != ']' {
		if v[i] != '"' {
			return false
		}
		end := plainString(v, i)
		if end < 0 {
			return false
		}
		if each != nil {
			each(v[i+1 : end-1])
		}
		i = skipSpace(v, end)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return true
}

// plainList is a list eachPlain accepted, as encoding/json decodes it into a
// []string (nil for null or no list, empty for []), each string made by str.
func plainList(v []byte, str func([]byte) string) []string {
	if v == nil || string(v) == "null" {
		return nil
	}
	out := []string{}
	eachPlain(v, func(b []byte) { out = append(out, str(b)) })
	return out
}

// bytes interns a string given as bytes, allocating only when it is not in the table.
func (in *Interner) bytes(b []byte) string { return in.strs.str(b) }

// raw interns a raw JSON value.
func (in *Interner) raw(v []byte) json.RawMessage {
	if len(v) > 64 {
		return append(json.RawMessage(nil), v...)
	}
	return in.vals.intern(v, false)
}

// DecodeOpHead reads what an index of a history needs of one line — its position,
// time, process and type — without allocating for a line as Writer writes it; the
// fields may come in any order, and a line the fast path cannot read goes through
// encoding/json.
func DecodeOpHead(b []byte) (i, t int64, proc int, typ OpType, err error) {
	ok := scanObject(b, func(k, v []byte) (ok bool) {
		var n int64
		switch string(k) {
		case "i":
			i, ok = integer(v)
		case "t":
			t, ok = integer(v)
		case "proc":
			n, ok = integer(v)
			proc = int(n)
		case "type":
			switch string(v) {
			case `"invoke"`:
				typ = Invoke
			case `"ok"`:
				typ = Ok
			case `"fail"`:
				typ = Fail
			case `"info"`:
				typ = Info
			default:
				return false
			}
			return true
		default:
			return true
		}
		return ok
	})
	if ok {
		return i, t, proc, typ, nil
	}
	var h struct {
		I    int64  `json:"i"`
		T    int64  `json:"t"`
		Proc int    `json:"proc"`
		Type OpType `json:"type"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return 0, 0, 0, "", err
	}
	return h.I, h.T, h.Proc, h.Type, nil
}
