package history

import (
	"bytes"
	"encoding/json"
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
	if in.fastOp(b, o) {
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
	if in.fastEffect(b, e) {
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

func (in *Interner) fastOp(b []byte, o *Op) bool {
	return scanObject(b, func(k, v []byte) (ok bool) {
		var n int64
		switch string(k) {
		case "i":
			o.Index, ok = integer(v)
		case "t":
			o.Time, ok = integer(v)
		case "proc":
			n, ok = integer(v)
			o.Process = int(n)
		case "type":
			var s string
			s, ok = in.plain(v)
			o.Type = OpType(s)
		case "f":
			o.F, ok = in.plain(v)
		case "key":
			o.Key, ok = in.plain(v)
		case "id":
			o.ID, ok = in.plain(v)
		case "value":
			// encoding/json keeps "null" in a RawMessage; leave that to it.
			o.Value, ok = in.raw(v), string(v) != "null"
		case "error":
			o.Error, ok = in.plain(v)
		case "attempts":
			n, ok = integer(v)
			o.Attempts = int(n)
		case "errors":
			o.Errors, ok = in.plainList(v)
		case "status":
			n, ok = integer(v)
			o.Status = int(n)
		case "source":
			o.Source, ok = in.plain(v)
		}
		return ok
	})
}

func (in *Interner) fastEffect(b []byte, e *Effect) bool {
	return scanObject(b, func(k, v []byte) (ok bool) {
		switch string(k) {
		case "service":
			e.Service, ok = in.plain(v)
		case "view":
			e.View, ok = in.plain(v)
		case "kind":
			e.Kind, ok = in.plain(v)
		case "key":
			e.Key, ok = in.plain(v)
		case "id":
			e.ID, ok = in.plain(v)
		case "amount":
			e.Amount, ok = integer(v)
		case "seq":
			e.Seq, ok = integer(v)
		case "pos":
			e.Pos, ok = integer(v)
		case "value":
			var n int64
			if n, ok = integer(v); ok {
				e.Value = &n
			}
		case "state":
			e.State, ok = in.plain(v)
		case "t":
			e.Time, ok = integer(v)
		case "at":
			e.At, ok = integer(v)
		case "saga":
			e.Saga, ok = in.plain(v)
		case "step":
			e.Step, ok = in.plain(v)
		case "deliveries":
			var n int64
			n, ok = integer(v)
			e.Deliveries = int(n)
		case "replica":
			e.Replica, ok = in.plain(v)
		case "reason":
			e.Reason, ok = in.plain(v)
		case "undo":
			switch string(v) {
			case "true":
				e.Undo, ok = true, true
			case "false":
				e.Undo, ok = false, true
			}
		}
		return ok // an unknown key is encoding/json's to match (case-insensitively)
	})
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
	for j := i + 1; j < len(b); j++ {
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

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func integer(v []byte) (int64, bool) {
	if len(v) == 0 || v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	return n, err == nil
}

// plain is a plain string value, interned; "null" leaves the field empty, as
// encoding/json does.
func (in *Interner) plain(v []byte) (string, bool) {
	if string(v) == "null" {
		return "", true
	}
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	return in.bytes(v[1 : len(v)-1]), true
}

func (in *Interner) plainList(v []byte) ([]string, bool) {
	if string(v) == "null" {
		return nil, true
	}
	if len(v) < 2 || v[0] != '[' {
		return nil, false
	}
	out := []string{}
	i := skipSpace(v, 1)
	for i < len(v) && v[i] != ']' {
		if v[i] != '"' {
			return nil, false
		}
		end := plainString(v, i)
		if end < 0 {
			return nil, false
		}
		out = append(out, in.bytes(v[i+1:end-1]))
		i = skipSpace(v, end)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return out, true
}

// bytes interns a string given as bytes, allocating only when it is not in the table.
func (in *Interner) bytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return in.strs.intern(b, "")
}

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
