package runner

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/mscli/mscli/history"
)

// The system under test is untrusted input: its effects endpoint, or the rows its
// database answers an observation query with, may be endless, huge, malformed or
// hostile. readLimits bound what one observation reads from one service, so that
// such an answer ends in an error naming the service, never in mscli running out of
// memory.
type readLimits struct {
	// line bounds one record: a line of the effects endpoint, a row of a query (the
	// PostgreSQL message that carries it).
	line int
	// bytes bounds the whole answer: an endpoint's body, the rows of a read's queries.
	bytes int64
	// rows bounds the records of one answer: what the decoded records cost in memory
	// (a history.Effect is some 220 bytes before its strings) whatever their lines'
	// size.
	rows int
}

// defaultLimits: a record is ~100-300 bytes (the longest field a dead letter's
// reason), so 1 MiB is thousands of times what a service needs and what one line can
// cost mscli. A run of a million operations observes ~330 bytes and three records per
// operation in a service with a write and a read model (the write and read effects,
// the operation's state): 512 MiB and 4 million records let a service report 1.3
// million operations, and hold one answer's records in about 1 GB.
var defaultLimits = readLimits{line: 1 << 20, bytes: 512 << 20, rows: 4_000_000}

// errTooLong is a capReader's error once the answer exceeds its bound.
var errTooLong = errors.New("answer too long")

// capReader reads r up to left bytes, then fails with errTooLong: an answer of
// exactly the bound reads to its end.
type capReader struct {
	r    io.Reader
	left int64 // the bound, plus the one byte that tells an answer exceeded it
	n    int64 // bytes read
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errTooLong
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	c.n += int64(n)
	if c.left <= 0 && err == nil {
		err = errTooLong
	}
	return n, err
}

// decodeEffects reads an effects answer, history.Effect JSON Lines, within lim: a
// line or an answer too long, too many records, a line that is not one JSON object of
// the record's fields (invalid JSON, a wrong type, a NUL byte) is an error that says
// so, naming the line. It streams: what it holds is the records decoded so far and at
// most one line. Blank lines are skipped.
func decodeEffects(r io.Reader, lim readLimits) ([]history.Effect, error) {
	cr := &capReader{r: r, left: lim.bytes + 1}
	// A line longer than the buffer is gathered (up to lim.line).
	br := bufio.NewReaderSize(cr, min(64<<10, max(16, lim.line/4)))
	var in history.Interner // a million records repeat a few views, kinds and keys
	var out []history.Effect
	var long []byte // a line longer than br's buffer, gathered
	for n := 1; ; n++ {
		b, err := nextLine(br, &long, lim.line)
		switch {
		case err == io.EOF:
			return out, nil
		case errors.Is(err, errTooLong):
			return out, fmt.Errorf("the service sent more than %s, the most mscli reads of one observation", sizeOf(lim.bytes))
		case errors.Is(err, errLineTooLong):
			return out, fmt.Errorf("line %d: the service sent a record longer than %s, the most mscli reads of one record", n, sizeOf(int64(lim.line)))
		case err != nil:
			return out, fmt.Errorf("line %d: %w", n, err)
		}
		b = bytes.Trim(b, " \t\r")
		if len(b) == 0 {
			continue
		}
		if len(out) >= lim.rows {
			return out, fmt.Errorf("line %d: the service sent more than %d records, the most mscli reads of one observation", n, lim.rows)
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			return out, fmt.Errorf("line %d: the service sent a NUL byte (byte %d of the line): a record is one JSON object", n, i+1)
		}
		if b[0] != '{' {
			return out, fmt.Errorf("line %d: the service sent %s, not a JSON object (one record per line)", n, quoteStart(b))
		}
		var e history.Effect
		if err := in.DecodeEffect(b, &e); err != nil {
			return out, fmt.Errorf("line %d: the service sent a record that does not decode: %w", n, err)
		}
		if bytes.Contains(b, []byte(`\u0000`)) { // the one way to write a NUL in JSON text
			if err := checkEffect(&e); err != nil {
				return out, fmt.Errorf("line %d: the service sent %w", n, err)
			}
		}
		out = append(out, e)
	}
}

var errLineTooLong = errors.New("line too long")

// nextLine returns the next line of br without its newline, gathering one longer
// than br's buffer in *long, or io.EOF when none is left. A line longer than max is
// errLineTooLong as soon as that much is read.
func nextLine(br *bufio.Reader, long *[]byte, maxLen int) ([]byte, error) {
	b, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		*long = append((*long)[:0], b...)
		for err == bufio.ErrBufferFull {
			if len(*long) > maxLen {
				return nil, errLineTooLong
			}
			b, err = br.ReadSlice('\n')
			*long = append(*long, b...)
		}
		b = *long
	}
	if err == io.EOF && len(b) > 0 {
		err = nil // the last line, without its newline
	}
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	if len(b) > maxLen {
		return nil, errLineTooLong
	}
	return b, nil
}

// checkEffect refuses what decodes but is no record's text: a NUL character (an
// escaped \u0000) in a string field.
func checkEffect(e *history.Effect) error {
	v := reflect.ValueOf(e).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.String && strings.IndexByte(f.String(), 0) >= 0 {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			return fmt.Errorf("a NUL character in %s: a record's fields are text", name)
		}
	}
	return nil
}

// quoteStart quotes the start of b for an error message, safe for a terminal.
func quoteStart(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%q…", b[:40])
	}
	return fmt.Sprintf("%q", b)
}

// sizeOf says a number of bytes in the largest binary unit that divides it.
func sizeOf(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
