package history

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Lines read out of a mapping are the lines a reader reads: the same lines handed
// out, the same errors, on the edges of a line (blank lines, carriage returns, no
// newline at the end, a torn last line, the longest line a record may be).
func TestEachLineInMatchesEachLine(t *testing.T) {
	long := strings.Repeat("x", maxLine)
	inputs := []string{
		"", "\n", "\n\n", "a", "a\n", "a\nb", "a\r\nb\r\n", "\r\n", "a\n\nb\n\n",
		"a\nbad\nc\n",              // an error in the middle: a line named, no torn line
		"a\nb\nbad",                // a last line without its newline that does not decode: torn
		"a\nb\nbad\n",              // the same with its newline: corruption
		long[:maxLine-1] + "\nb\n", // the longest line with its newline
		long + "\nb\n",             // one more
		"a\n" + long,               // the longest line at the end, no newline
		"a\n" + long + "x",         // one more
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
	for _, in := range inputs {
		want := collect(func(each func([]byte) error) error { return eachLine(strings.NewReader(in), each) })
		got := collect(func(each func([]byte) error) error { return eachLineIn([]byte(in), each) })
		if got != want {
			t.Errorf("%.20q: mapped %s, read %s", in, got, want)
		}
	}
}

// A file is mapped, its lines counted and decoded as when read; a file cut shorter
// while it is mapped is an error, not a crash.
func TestMappedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "effects.jsonl")
	var b bytes.Buffer
	for i := range 20000 {
		fmt.Fprintf(&b, `{"service":"bank","view":"write","kind":"deposit","key":"acct-%d","id":"d-%d","amount":%d}`+"\n", i%7, i, i)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	fl, err := openLines(path)
	if err != nil {
		t.Fatal(err)
	}
	if fl.data == nil {
		t.Skip("files are not mapped on this platform")
	}
	if fl.lines != 20001 {
		t.Errorf("counted %d lines, want 20001", fl.lines)
	}
	var r Records
	if err := fl.each(r.DecodeEffect); err != nil || r.NumEffects() != 20000 || r.Effect(19999).ID != "d-19999" {
		t.Fatalf("decoded %d effects (%v), want 20000", r.NumEffects(), err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	err = fl.each(func([]byte) error { return nil })
	fl.close()
	if err == nil || !strings.Contains(err.Error(), "cut shorter") {
		t.Fatalf("a file cut shorter while mapped read as %v", err)
	}
}
