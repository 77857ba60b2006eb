package history

// scanOp reads a history line into l; false when the line is not one the fast path
// reads exactly as encoding/json would.
func scanOp(b []byte, l *opLine) bool {
	s := lineScanner{b: b}
	if ok, empty := s.open(); !ok || empty {
		return ok
	}
	for {
		k, ok := s.key()
		if !ok {
			return false
		}
		switch string(k) {
		case "i":
			l.index, ok = s.integer()
		case "t":
			l.time, ok = s.integer()
		case "proc":
			l.proc, ok = s.integer()
		case "type":
			ok = s.str(&l.typ)
		case "f":
			ok = s.str(&l.f)
		case "key":
			ok = s.str(&l.key)
		case "id":
			ok = s.str(&l.id)
		case "value":
			// encoding/json keeps "null" in a RawMessage; leave that to it.
			l.value, ok = s.raw()
			ok = ok && string(l.value) != "null"
		case "error":
			ok = s.str(&l.err)
		case "attempts":
			l.attempts, ok = s.integer()
		case "errors":
			l.errors, ok = s.raw()
			ok = ok && eachPlain(l.errors, nil)
		case "status":
			l.status, ok = s.integer()
		case "source":
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
		k, ok := s.key()
		if !ok {
			return false
		}
		switch string(k) {
		case "service":
			ok = s.str(&l.service)
		case "view":
			ok = s.str(&l.view)
		case "kind":
			ok = s.str(&l.kind)
		case "key":
			ok = s.str(&l.key)
		case "id":
			ok = s.str(&l.id)
		case "amount":
			l.amount, ok = s.integer()
		case "seq":
			l.seq, ok = s.integer()
		case "pos":
			l.pos, ok = s.integer()
		case "value":
			l.value, ok = s.integer() // null (no value) is encoding/json's
			l.hasValue = ok
		case "state":
			ok = s.str(&l.state)
		case "t":
			l.time, ok = s.integer()
		case "at":
			l.at, ok = s.integer()
		case "saga":
			ok = s.str(&l.saga)
		case "step":
			ok = s.str(&l.step)
		case "deliveries":
			l.deliveries, ok = s.integer()
		case "replica":
			ok = s.str(&l.replica)
		case "reason":
			ok = s.str(&l.reason)
		case "undo":
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
