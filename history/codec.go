package history

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"unsafe"

	"github.com/mscli/mscli/internal/hugemem"
)

// Writer appends records as JSON Lines. It is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	bw  *bufio.Writer
	enc *json.Encoder
	c   io.Closer
}

// NewWriter writes JSON Lines to w.
func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriterSize(w, 64<<10)
	hw := &Writer{bw: bw, enc: json.NewEncoder(bw)}
	hw.enc.SetEscapeHTML(false)
	if c, ok := w.(io.Closer); ok {
		hw.c = c
	}
	return hw
}

// Create creates (or truncates) a JSON Lines file.
func Create(path string) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return NewWriter(f), nil
}

// WriteFile creates (or truncates) a JSON Lines file holding recs: Read's counterpart
// for a whole file.
func WriteFile[T any](path string, recs []T) error {
	w, err := Create(path)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// Write appends one record.
func (w *Writer) Write(v any) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.enc.Encode(v)
}

// Flush writes buffered records through.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bw.Flush()
}

// Close flushes and closes the underlying file, if it is one.
func (w *Writer) Close() error {
	err := w.Flush()
	if w.c != nil {
		if cerr := w.c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Read decodes every JSON Lines record of r into a slice of T. Blank lines are
// skipped; a malformed line is an error naming its line number, except a last line
// cut short (torn): Read returns the records before it with a *TornLine. A line
// longer than 16 MiB is an error naming it: Read holds no more of one.
func Read[T any](r io.Reader) ([]T, error) { return readLines(r, unmarshal[T], 0) }

func unmarshal[T any](b []byte, v *T) error { return json.Unmarshal(b, v) }

// TornLine is the error of a read whose last line does not decode and has no newline
// to end it: a write cut short, as a killed process leaves the file its buffered
// Writer was filling (the newline is the last byte of every record written). The
// records before it are whole, and returned with it; a caller that can judge partial
// records finds it with errors.As. A line that does not decode anywhere else, or a
// last line that ends with its newline, is corruption, and an ordinary error.
type TornLine struct {
	Path string // the file, when one was read (ReadFile, ReadFileWith)
	Line int    // the torn line's number, from 1
	Err  error  // why it did not decode
}

func (e *TornLine) Error() string {
	s := fmt.Sprintf("line %d: %v (the last line, cut short: no newline ends it)", e.Line, e.Err)
	if e.Path != "" {
		s = e.Path + ": " + s
	}
	return s
}

func (e *TornLine) Unwrap() error { return e.Err }

func readLines[T any](r io.Reader, decode func([]byte, *T) error, lines int) ([]T, error) {
	return readLinesWith(func(each func([]byte) error) error { return eachLine(r, each) }, decode, lines)
}

// readLinesWith decodes the lines lines hands out, lines of them at most without
// growing the slice.
func readLinesWith[T any](lines func(func([]byte) error) error, decode func([]byte, *T) error, n int) ([]T, error) {
	out := make([]T, 0, n)
	hugemem.Advise(out)
	var zero T
	err := lines(func(b []byte) error {
		if len(out) < cap(out) {
			out = out[:len(out)+1] // zero: made so, and never written
		} else {
			out = append(out, zero)
		}
		if err := decode(b, &out[len(out)-1]); err != nil {
			out = out[:len(out)-1]
			return err
		}
		return nil
	})
	return out, err
}

// ReadFile decodes a JSON Lines file; a missing file is an error, and a torn last
// line a *TornLine (see Read).
func ReadFile[T any](path string) ([]T, error) { return ReadFileWith(path, unmarshal[T]) }

// ReadFileWith is ReadFile decoding each line with decode (Interner.DecodeOp and
// Interner.DecodeEffect read a large history fast and small).
func ReadFileWith[T any](path string, decode func([]byte, *T) error) ([]T, error) {
	var v []T
	err := readFile(path, func(fl *fileLines) error {
		var err error
		v, err = readLinesWith(fl.each, decode, fl.lines)
		return err
	})
	return v, err
}

// ReadFileEach hands every line of a JSON Lines file but blank ones to each, after
// grow with the count of its lines (an upper bound of the records to come); errors
// as ReadFile's. It is how a large run is decoded straight into Records.
func ReadFileEach(path string, grow func(lines int), each func([]byte) error) error {
	return readFile(path, func(fl *fileLines) error {
		grow(fl.lines)
		return fl.each(each)
	})
}

// readFile opens path, counts its lines and hands the count and the lines to read,
// naming the file in the error it returns (a *TornLine keeps its type).
func readFile(path string, read func(fl *fileLines) error) error {
	fl, err := openLines(path)
	if err != nil {
		return err
	}
	defer fl.close()
	err = read(fl)
	if torn, ok := err.(*TornLine); ok {
		torn.Path = path
		return torn
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Interner makes equal strings of decoded records share one copy. A history repeats
// the same few names (types, functions, views, states), the same keys and each op id
// on several lines; at a million operations the separate copies are a third of the
// memory a loaded run takes. It remembers the strings it saw last in a table of fixed
// size (see intern.go) rather than every string: a name or a key recurs on every few
// lines and stays in it, an op id recurs on lines near each other (its invoke and its
// completion, its effects), and a table that never grows costs no more at a million
// operations than at ten. The zero value is ready to use; it is not safe for
// concurrent use: goroutines decoding side by side take one each.
type Interner struct {
	strs strTable
	vals valTable
}

func (in *Interner) str(s string) string {
	if s == "" {
		return ""
	}
	return in.strs.intern(unsafe.Slice(unsafe.StringData(s), len(s)), s)
}

// Op interns an operation's strings and its value (values are shared read-only):
// what DecodeOp does for a line its fast path left to encoding/json.
func (in *Interner) Op(o *Op) {
	o.Type = OpType(in.str(string(o.Type)))
	o.F, o.Key, o.ID, o.Error = in.str(o.F), in.str(o.Key), in.str(o.ID), in.str(o.Error)
	if len(o.Value) > 0 && len(o.Value) <= 64 {
		o.Value = in.vals.intern(o.Value, true)
	}
	for i, e := range o.Errors {
		o.Errors[i] = in.str(e)
	}
}

// Effect interns an effect's strings.
func (in *Interner) Effect(e *Effect) {
	e.Service, e.View, e.Kind = in.str(e.Service), in.str(e.View), in.str(e.Kind)
	e.Key, e.ID, e.State = in.str(e.Key), in.str(e.ID), in.str(e.State)
}
