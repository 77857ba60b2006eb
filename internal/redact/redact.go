// Package redact keeps a run's secrets out of everything mscli writes. A Secrets holds
// the values a scenario marks secret (a service's secrets:, read from mscli's own
// environment when the run starts) and replaces each, wherever it appears, with a
// marker naming it, "[secret API_TOKEN]". It is the one redactor of a run, with one
// matcher and three ways to apply it at the points where bytes leave mscli: String
// (and Error) for a message, Writer for a stream of text (a node's log, where a value
// may arrive split across two writes), and JSONLines for records, which it redacts
// inside their strings only, so that a record stays a record.
//
// Each value is matched as it is written and in the forms it takes in a JSON string
// and in a URL (escaped), longest first. A nil *Secrets redacts nothing.
package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/url"
	"slices"
	"sync"
)

// MinLen is the shortest value a secret may have: a shorter one would be replaced in
// ordinary text everywhere (and, being short, is no secret worth the name).
const MinLen = 8

// Secrets are a run's secret values by name.
type Secrets struct {
	values map[string]string
	pats   []pattern // longest first
	first  [256]bool // the first bytes of the patterns
}

type pattern struct {
	text   []byte
	marker []byte
}

// Marker is what a secret's value is replaced with.
func Marker(name string) string { return "[secret " + name + "]" }

// New holds values (name → value). Empty values are ignored.
func New(values map[string]string) *Secrets {
	s := &Secrets{values: map[string]string{}}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		v := values[name]
		if v == "" {
			continue
		}
		s.values[name] = v
		for _, form := range forms(v) {
			s.pats = append(s.pats, pattern{text: []byte(form), marker: []byte(Marker(name))})
		}
	}
	slices.SortStableFunc(s.pats, func(a, b pattern) int { return len(b.text) - len(a.text) })
	for _, p := range s.pats {
		s.first[p.text[0]] = true
	}
	return s
}

// forms are the ways a value is written: as it is, inside a JSON string (with and
// without HTML escaping), and escaped in a URL's query and path.
func forms(v string) []string {
	out := []string{v}
	add := func(f string) {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(v) == nil {
			q := bytes.TrimSpace(b.Bytes())
			add(string(q[1 : len(q)-1]))
		}
	}
	add(url.QueryEscape(v))
	add(url.PathEscape(v))
	return out
}

// Empty reports whether there is nothing to redact.
func (s *Secrets) Empty() bool { return s == nil || len(s.pats) == 0 }

// Value is the value of the secret name.
func (s *Secrets) Value(name string) (string, bool) {
	if s == nil {
		return "", false
	}
	v, ok := s.values[name]
	return v, ok
}

// Env is "NAME=value" for each of names the secrets hold: what a service that names
// them in its secrets: is started with.
func (s *Secrets) Env(names []string) []string {
	var out []string
	for _, n := range names {
		if v, ok := s.Value(n); ok {
			out = append(out, n+"="+v)
		}
	}
	return out
}

// redact appends b, every secret in it replaced, to dst. Unless final, it stops where
// what is left of b could be the start of a secret that the next bytes complete, and
// returns the length it consumed; the caller keeps the rest for then. With inJSON, b
// is the inside of a JSON string: a match never starts within an escape sequence
// (after its backslash), where the marker would leave the backslash escaping '['.
func (s *Secrets) redact(dst, b []byte, final, inJSON bool) ([]byte, int) {
	i, plain := 0, 0
	next := func() int { // past b[i], and past the rest of an escape it begins
		if inJSON && b[i] == '\\' && i+1 < len(b) {
			if b[i+1] == 'u' {
				return min(i+6, len(b))
			}
			return i + 2
		}
		return i + 1
	}
	for i < len(b) {
		if !s.first[b[i]] {
			if inJSON && b[i] == '\\' {
				i = next()
			} else {
				i++
			}
			continue
		}
		// Longest first: a longer secret that the next bytes may complete wins over a
		// shorter one that is already whole.
		var match *pattern
		for k, p := range s.pats {
			if !final && len(b)-i < len(p.text) && bytes.HasPrefix(p.text, b[i:]) {
				return append(dst, b[plain:i]...), i
			}
			if bytes.HasPrefix(b[i:], p.text) {
				match = &s.pats[k]
				break
			}
		}
		if match == nil {
			i = next()
			continue
		}
		dst = append(append(dst, b[plain:i]...), match.marker...)
		i += len(match.text)
		plain = i
	}
	return append(dst, b[plain:]...), len(b)
}

// Bytes returns b with every secret replaced.
func (s *Secrets) Bytes(b []byte) []byte {
	if s.Empty() {
		return b
	}
	out, _ := s.redact(make([]byte, 0, len(b)), b, true, false)
	return out
}

// String returns x with every secret replaced.
func (s *Secrets) String(x string) string {
	if s.Empty() {
		return x
	}
	return string(s.Bytes([]byte(x)))
}

// Error returns err with its message redacted; errors.Is and errors.As still see
// through it to err. nil stays nil, and an error without a secret stays as it is.
func (s *Secrets) Error(err error) error {
	if err == nil || s.Empty() {
		return err
	}
	msg := s.String(err.Error())
	if msg == err.Error() {
		return err
	}
	return &redacted{err: err, msg: msg}
}

type redacted struct {
	err error
	msg string
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// Writer is a stream of text with the secrets replaced: a value split across writes is
// still replaced, because the bytes that could begin one are held back until the next
// write (or Close) says whether they do. Safe for concurrent use.
type Writer struct {
	s    *Secrets
	w    io.Writer
	mu   sync.Mutex
	held []byte
	buf  []byte
}

// Writer returns a redacting writer to w.
func (s *Secrets) Writer(w io.Writer) *Writer { return &Writer{s: s, w: w} }

// Write redacts p (with the bytes held back from before) and writes what is certain.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.s.Empty() {
		return w.w.Write(p)
	}
	in := append(w.held, p...)
	var n int
	w.buf, n = w.s.redact(w.buf[:0], in, false, false)
	w.held = append(w.held[:0:0], in[n:]...)
	if len(w.buf) > 0 {
		if _, err := w.w.Write(w.buf); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes the bytes held back: the stream ended before they became the secret
// they could have begun. They are still redacted, as they may hold a whole shorter
// secret (a value that begins another, longer one).
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.held) == 0 {
		return nil
	}
	out, _ := w.s.redact(nil, w.held, true, false)
	_, err := w.w.Write(out)
	w.held = nil
	return err
}

// Close flushes, then closes the underlying writer if it is an io.Closer.
func (w *Writer) Close() error {
	err := w.Flush()
	if c, ok := w.w.(io.Closer); ok {
		err = errors.Join(err, c.Close())
	}
	return err
}

// JSON returns a JSON text with the secrets replaced inside its strings only: its
// numbers, literals and structure are left as they are, so it stays the same JSON
// with other strings.
func (s *Secrets) JSON(b []byte) []byte {
	if s.Empty() {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return append(out, b[i:]...)
		}
		start := i + q + 1
		end := start
		for end < len(b) && b[end] != '"' {
			if b[end] == '\\' {
				end++
			}
			end++
		}
		end = min(end, len(b))
		out = append(out, b[i:start]...)
		out, _ = s.redact(out, b[start:end], true, true)
		i = end
		if i < len(b) {
			out = append(out, '"')
			i++
		}
	}
	return out
}

// JSONLines is a JSON Lines stream with the secrets replaced inside each record's
// strings (JSON): it writes whole lines, and holds a line until its end is written.
type JSONLines struct {
	s    *Secrets
	w    io.Writer
	mu   sync.Mutex
	held []byte
}

// JSONLines returns a redacting JSON Lines writer to w.
func (s *Secrets) JSONLines(w io.Writer) *JSONLines { return &JSONLines{s: s, w: w} }

// Write writes the lines p completes, redacted, and holds the rest.
func (j *JSONLines) Write(p []byte) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.s.Empty() {
		return j.w.Write(p)
	}
	j.held = append(j.held, p...)
	nl := bytes.LastIndexByte(j.held, '\n')
	if nl < 0 {
		return len(p), nil
	}
	if _, err := j.w.Write(j.s.JSON(j.held[:nl+1])); err != nil {
		return 0, err
	}
	j.held = append(j.held[:0:0], j.held[nl+1:]...)
	return len(p), nil
}

// Close writes a last line without its end (redacted as well), then closes the
// underlying writer if it is an io.Closer.
func (j *JSONLines) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var err error
	if len(j.held) > 0 {
		_, err = j.w.Write(j.s.JSON(j.held))
		j.held = nil
	}
	if c, ok := j.w.(io.Closer); ok {
		err = errors.Join(err, c.Close())
	}
	return err
}
