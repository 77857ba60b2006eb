package history

import "encoding/binary"

// The keys of a history line and of an effects line, in the order the fields are
// numbered in scanOp's and scanEffect's switches.
var (
	opKeys = newKeyTable("i", "t", "proc", "type", "f", "key", "id", "value", "error", "attempts", "errors",
		"status", "source")
	effKeys = newKeyTable("service", "view", "kind", "key", "id", "amount", "seq", "pos", "value", "state", "t",
		"at", "saga", "step", "deliveries", "replica", "reason", "undo")
)

// scanOp reads a history line into l; false when the line is not one the fast path
// reads exactly as encoding/json would.
func scanOp(b []byte, l *opLine) bool {
	s := lineScanner{b: b}
	if ok, empty := s.open(); !ok || empty {
		return ok
	}
	for {
		var ok bool
		switch s.field(opKeys) {
		case 0:
			l.index, ok = s.integer()
		case 1:
			l.time, ok = s.integer()
		case 2:
			l.proc, ok = s.integer()
		case 3:
			ok = s.str(&l.typ)
		case 4:
			ok = s.str(&l.f)
		case 5:
			ok = s.str(&l.key)
		case 6:
			ok = s.str(&l.id)
		case 7:
			// encoding/json keeps "null" in a RawMessage; leave that to it.
			l.value, ok = s.raw()
			ok = ok && string(l.value) != "null"
		case 8:
			ok = s.str(&l.err)
		case 9:
			l.attempts, ok = s.integer()
		case 10:
			l.errors, ok = s.raw()
			ok = ok && eachPlain(l.errors, nil)
		case 11:
			l.status, ok = s.integer()
		case 12:
			ok = s.str(&l.source)
		default:
			return false // an unknown key is encoding/json's to match (case-insensitively)
		}
		if !ok {
			return false
		}
		if more, ok := s.next(); !more {
			return ok
		}
	}
}

// scanEffect reads an effects line into l, as scanOp: the same loop, written out
// again, since a function called per field (scanObject's closure) is part of what
// this pass saves.
func scanEffect(b []byte, l *effLine) bool {
	s := lineScanner{b: b}
	if ok, empty := s.open(); !ok || empty {
		return ok
	}
	for {
		var ok bool
		switch s.field(effKeys) {
		case 0:
			ok = s.str(&l.service)
		case 1:
			ok = s.str(&l.view)
		case 2:
			ok = s.str(&l.kind)
		case 3:
			ok = s.str(&l.key)
		case 4:
			ok = s.str(&l.id)
		case 5:
			l.amount, ok = s.integer()
		case 6:
			l.seq, ok = s.integer()
		case 7:
			l.pos, ok = s.integer()
		case 8:
			l.value, ok = s.integer() // null (no value) is encoding/json's
			l.hasValue = ok
		case 9:
			ok = s.str(&l.state)
		case 10:
			l.time, ok = s.integer()
		case 11:
			l.at, ok = s.integer()
		case 12:
			ok = s.str(&l.saga)
		case 13:
			ok = s.str(&l.step)
		case 14:
			l.deliveries, ok = s.integer()
		case 15:
			ok = s.str(&l.replica)
		case 16:
			ok = s.str(&l.reason)
		case 17:
			l.undo, ok = s.boolean()
		default:
			return false
		}
		if !ok {
			return false
		}
		if more, ok := s.next(); !more {
			return ok
		}
	}
}

// keyTable recognises a side's keys without scanning for their closing quote: each
// key with its quotes and colon (`"id":`, up to 16 bytes) is kept as two words and
// their masks, listed by the key's first letter, so that a key is one or two
// compares of words read at the line's position. Where the next field starts is then
// known before the words are compared, and the parse of a line does not wait on each
// key's bytes in turn (finding the quote byte by byte, then eight at a time, each
// waited: a key was a fifth of a large load).
type keyTable struct {
	byFirst [128][]keyWords
	keys    []string
}

type keyWords struct {
	w, m [2]uint64
	n    int // bytes: the key, its quotes and its colon
	num  int // the key's number, its place in the table's list
}

func newKeyTable(keys ...string) *keyTable {
	t := &keyTable{keys: keys}
	for num, k := range keys {
		full := `"` + k + `":`
		if len(full) > 16 || k == "" || k[0] >= 128 {
			panic("history: a key the table cannot hold: " + k)
		}
		kw := keyWords{n: len(full), num: num}
		for i := range len(full) {
			kw.w[i/8] |= uint64(full[i]) << (8 * (i % 8))
			kw.m[i/8] |= 0xff << (8 * (i % 8))
		}
		t.byFirst[k[0]] = append(t.byFirst[k[0]], kw)
	}
	return t
}

// field reads a key and its colon, leaving s at the value, and returns the key's
// number in t; -1 for a key t has not got, or no key.
func (s *lineScanner) field(t *keyTable) int {
	b, i := s.b, s.i
	if i+16 <= len(b) && b[i] == '"' && b[i+1] < 128 {
		w0 := binary.LittleEndian.Uint64(b[i:])
		w1 := binary.LittleEndian.Uint64(b[i+8:])
		for _, kw := range t.byFirst[b[i+1]] {
			if w0&kw.m[0] == kw.w[0] && w1&kw.m[1] == kw.w[1] {
				s.i = skipSpace(b, i+kw.n)
				return kw.num
			}
		}
	}
	// Near the line's end, space before the colon, an escape: the key read whole.
	k, ok := s.key()
	if !ok || len(k) == 0 || k[0] >= 128 {
		return -1
	}
	for _, kw := range t.byFirst[k[0]] {
		if t.keys[kw.num] == string(k) {
			return kw.num
		}
	}
	return -1
}

// lineScanner reads one flat JSON object field by field, each value as the type its
// key expects, in a single pass over the bytes: the fast path of scanOp and
// scanEffect. (scanObject first found each value's end and the field then read it
// again: an integer's digits were walked twice, and every field was a call through a
// closure.) It gives up — false — on what it cannot read exactly as encoding/json
// would, as scanObject does, so that encoding/json decodes those lines; it also reads
// a boolean where a key expects one (an effect's undo), which scanObject left to
// encoding/json.
type lineScanner struct {
	b []byte
	i int
}

// open reads up to the first key; false when b is no object. empty is an object
// with no key, whole when nothing but space follows it.
func (s *lineScanner) open() (ok, empty bool) {
	s.i = skipSpace(s.b, 0)
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false, false
	}
	s.i = skipSpace(s.b, s.i+1)
	if s.i < len(s.b) && s.b[s.i] == '}' {
		return skipSpace(s.b, s.i+1) == len(s.b), true
	}
	return true, false
}

// key reads a key and its colon, leaving s at the value.
func (s *lineScanner) key() ([]byte, bool) {
	b, i := s.b, s.i
	if i >= len(b) || b[i] != '"' {
		return nil, false
	}
	end := plainString(b, i)
	if end < 0 {
		return nil, false
	}
	k := b[i+1 : end-1]
	i = skipSpace(b, end)
	if i >= len(b) || b[i] != ':' {
		return nil, false
	}
	s.i = skipSpace(b, i+1)
	return k, true
}

// next reads what follows a value: more is true after a comma (s at the next key),
// false after the closing brace, which must end the line but for space.
func (s *lineScanner) next() (more, ok bool) {
	b := s.b
	i := skipSpace(b, s.i)
	if i >= len(b) {
		return false, false
	}
	switch b[i] {
	case ',':
		s.i = skipSpace(b, i+1)
		return true, true
	case '}':
		return false, skipSpace(b, i+1) == len(b)
	}
	return false, false
}

// str reads a plain string value into *dst (its bytes, without the quotes); null
// leaves *dst as it is, as encoding/json leaves a string field.
func (s *lineScanner) str(dst *[]byte) bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '"' {
		end := plainString(b, i)
		if end < 0 {
			return false
		}
		*dst = b[i+1 : end-1 : end-1]
		s.i = end
		return true
	}
	if len(b)-i >= 4 && string(b[i:i+4]) == "null" {
		s.i = i + 4
		return true
	}
	return false
}

// integer reads an integer value as integer does; null, a float or a leading zero is
// encoding/json's.
func (s *lineScanner) integer() (int64, bool) {
	b, i := s.b, s.i
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	start := i
	var n int64
	for i < len(b) {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		n = n*10 + int64(d)
		i++
	}
	digits := i - start
	if digits == 0 || b[start] == '0' && digits > 1 {
		return 0, false
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		return 0, false
	}
	if digits > 18 {
		// Up to 18 digits cannot overflow; more are strconv's to judge.
		v, ok := integer(b[s.i:i])
		s.i = i
		return v, ok
	}
	s.i = i
	if neg {
		n = -n
	}
	return n, true
}

// raw reads any value scanObject accepts and returns its bytes.
func (s *lineScanner) raw() ([]byte, bool) {
	end := value(s.b, s.i, 0)
	if end < 0 {
		return nil, false
	}
	v := s.b[s.i:end]
	s.i = end
	return v, true
}

// boolean reads true or false.
func (s *lineScanner) boolean() (v, ok bool) {
	b, i := s.b, s.i
	switch {
	case len(b)-i >= 4 && string(b[i:i+4]) == "true":
		s.i = i + 4
		return true, true
	case len(b)-i >= 5 && string(b[i:i+5]) == "false":
		s.i = i + 5
		return false, true
	}
	return false, false
}
