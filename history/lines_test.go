package history

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// scannerLines is the reference eachLine is held to: bufio.Scanner with a buffer of
// maxLine, blank lines skipped, a *TornLine for a last line without its newline that
// does not decode.
func scannerLines(r io.Reader, each func([]byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	unterminated := false
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		n, tok, err := bufio.ScanLines(data, atEOF)
		unterminated = atEOF && n > 0 && data[n-1] != '\n'
		return n, tok, err
	})
	line := 0
	for sc.Scan() {
		line++
		if err := handOut(each, sc.Bytes(), line, unterminated); err != nil {
			return err
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("line %d: longer than %d MiB, the most a record may be", line+1, maxLine>>20)
	} else if err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	return nil
}

// Lines read through a buffer are the lines bufio.Scanner reads, whatever the reads
// return at a time and however small the buffer starts: the same lines handed out,
// the same errors, on the edges of a line (blank lines, carriage returns, no newline
// at the end, a torn last line, the longest line a record may be).
func TestEachLineMatchesScanner(t *testing.T) {
	long := strings.Repeat("x", maxLine)
	inputs := []string{
		"", "\n", "\n\n", "a", "a\n", "a\nb", "a\r\nb\r\n", "\r\n", "a\n\nb\n\n", "a\r", "ab\r\ncd",
		"a\nbad\nc\n",              // an error in the middle: a line named, no torn line
		"a\nb\nbad",                // a last line without its newline that does not decode: torn
		"a\nb\nbad\n",              // the same with its newline: corruption
		long[:maxLine-1] + "\nb\n", // the longest line with its newline
		long + "\nb\n",             // one more
		"a\n" + long,               // the longest line at the end, no newline
		"a\n" + long + "x",         // one more
		"a\n" + long[:maxLine-1],   // the longest line at the end
	}
	collect := func(read func(func([]byte) error) error) string {
		var out []string
		err := read(func(b []byte) error {
			if string(b) == "bad" {
				return errors.New("does not decode")
			}
			out = append(out, fmt.Sprintf("%d:%.8s", len(b), b))
			return nil
		})
		var torn *TornLine
		if errors.As(err, &torn) {
			return fmt.Sprintf("%v torn line %d: %v", out, torn.Line, err)
		}
		return fmt.Sprintf("%v %v", out, err)
	}
	readers := []struct {
		name string
		read func(in string, each func([]byte) error) error
	}{
		{"whole", func(in string, each func([]byte) error) error { return eachLine(strings.NewReader(in), each) }},
		{"halves", func(in string, each func([]byte) error) error {
			return eachLine(iotest.HalfReader(strings.NewReader(in)), each)
		}},
		{"with EOF", func(in string, each func([]byte) error) error {
			return eachLine(iotest.DataErrReader(strings.NewReader(in)), each)
		}},
		{"from 3 bytes", func(in string, each func([]byte) error) error {
			return eachLineBuf(strings.NewReader(in), make([]byte, 3), each)
		}},
		{"a byte at a time", func(in string, each func([]byte) error) error {
			if len(in) > 64<<10 {
				return eachLine(strings.NewReader(in), each) // millions of reads: not this one
			}
			return eachLineBuf(iotest.OneByteReader(strings.NewReader(in)), make([]byte, 1), each)
		}},
	}
	for _, in := range inputs {
		want := collect(func(each func([]byte) error) error { return scannerLines(strings.NewReader(in), each) })
		for _, r := range readers {
			if got := collect(func(each func([]byte) error) error { return r.read(in, each) }); got != want {
				t.Errorf("%.20q %s: %s, bufio.Scanner %s", in, r.name, got, want)
			}
		}
	}
}

// A read that fails is an error naming the line it stopped in, whether or not part
// of that line was read; a reader that returns nothing over and over is no progress,
// not a loop.
func TestEachLineReadError(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a\nb\n", `["a" "b"] line 3: disk gone`},
		{"a\nb", `["a"] line 2: disk gone`},
		{"a\nbad", `["a"] line 2: disk gone`}, // not a torn line: the file may go on
	} {
		r := io.MultiReader(strings.NewReader(c.in), iotest.ErrReader(errors.New("disk gone")))
		var got []string
		err := eachLine(r, func(b []byte) error {
			if string(b) == "bad" {
				return errors.New("does not decode")
			}
			got = append(got, string(b))
			return nil
		})
		if s := fmt.Sprintf("%q %v", got, err); s != c.want {
			t.Errorf("%q then a failing read: %s, want %s", c.in, s, c.want)
		}
	}
	err := eachLine(io.MultiReader(strings.NewReader("a\nb"), emptyReader{}), func([]byte) error { return nil })
	if !errors.Is(err, io.ErrNoProgress) || !strings.HasPrefix(err.Error(), "line 2: ") {
		t.Errorf("a reader that returns nothing: %v, want line 2: %v", err, io.ErrNoProgress)
	}
	var got []string
	err = eachLineBuf(strings.NewReader("a\nb\n"), nil, func(b []byte) error { got = append(got, string(b)); return nil })
	if err != nil || len(got) != 2 {
		t.Errorf("no buffer given: %q, %v", got, err)
	}
}

// emptyReader returns no bytes and no error, forever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// A file of several reads' worth is counted and handed out line by line, lines
// across the reads' edges whole; a file cut shorter after its count hands out what it
// still holds.
func TestFileLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "effects.jsonl")
	var b bytes.Buffer
	var want []string
	for i := 0; b.Len() < 3*readChunk+readChunk/2; i++ {
		l := fmt.Sprintf(`{"service":"bank","view":"write","kind":"deposit","key":"acct-%d","id":"d-%d","amount":%d,"reason":%q}`,
			i%7, i, i, strings.Repeat("r", i%97))
		want = append(want, l)
		b.WriteString(l + "\n")
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	fl, err := openLines(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.close()
	if fl.lines != len(want)+1 {
		t.Errorf("counted %d lines, want %d", fl.lines, len(want)+1)
	}
	var got []string
	if err := fl.each(func(b []byte) error { got = append(got, string(b)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("handed out %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d: %.40q, want %.40q", i+1, got[i], want[i])
		}
	}
	var r Records
	fl2, err := openLines(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fl2.close()
	if err := fl2.each(r.DecodeEffect); err != nil || r.NumEffects() != len(want) {
		t.Fatalf("decoded %d effects (%v), want %d", r.NumEffects(), err, len(want))
	}
	cut := int64(bytes.IndexByte(b.Bytes(), '\n')) + 5
	fl3, err := openLines(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fl3.close()
	if err := os.Truncate(path, cut); err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	err = fl3.each(func(b []byte) error { got = append(got, string(b)); return nil })
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1][:4] {
		t.Errorf("a file cut after its count handed out %.3q (%v), want its first line and 4 bytes", got, err)
	}
}
