package history

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// The head of a line reads the same whatever the order of its fields, and the same as
// encoding/json does.
func TestDecodeOpHead(t *testing.T) {
	for _, line := range []string{
		`{"i":7,"t":1500,"proc":2,"type":"ok","f":"deposit","key":"acct-1","id":"d-1"}`,
		`{"type":"ok","key":"acct-1","proc":2,"t":1500,"i":7}`,
		`{"i":7,"t":1500,"proc":2,"type":"ok","value":{"value":3,"seq":1},"errors":["a\"b"]}`,
	} {
		i, tm, proc, typ, err := DecodeOpHead([]byte(line))
		var o Op
		if jerr := json.Unmarshal([]byte(line), &o); jerr != nil {
			t.Fatal(jerr)
		}
		if err != nil || i != o.Index || tm != o.Time || proc != o.Process || typ != o.Type {
			t.Errorf("%s: got %d %d %d %q %v, want %d %d %d %q", line, i, tm, proc, typ, err, o.Index, o.Time, o.Process, o.Type)
		}
	}
	if _, _, _, _, err := DecodeOpHead([]byte(`{"i":`)); err == nil {
		t.Error("a cut line decoded")
	}
	if n := testing.AllocsPerRun(100, func() {
		DecodeOpHead([]byte(`{"i":7,"t":1500,"proc":2,"type":"ok","f":"deposit","key":"acct-1","id":"d-1"}`))
	}); n > 1 {
		t.Errorf("%v allocations per line", n)
	}
}

// plainString, eight bytes at a time, ends a string where a byte-by-byte reading does:
// each kind of byte that stops it, at every position in and past the first eight,
// after strings of every length up to three words.
func TestPlainStringMatchesBytewise(t *testing.T) {
	bytewise := func(b []byte, i int) int { return plainStringFrom(b, i+1) }
	stops := []byte{'"', '\\', 0, 0x1f, 0x80, 0xff, 0xc3}
	passes := []byte{' ', '!', '#', '[', ']', '~', 0x7f, 'a'}
	for n := 0; n <= 26; n++ {
		for _, stop := range stops {
			for _, fill := range passes {
				for tail := 0; tail <= 9; tail++ {
					b := append([]byte{'"'}, bytes.Repeat([]byte{fill}, n)...)
					b = append(b, stop)
					b = append(b, bytes.Repeat([]byte{'"'}, tail)...)
					if got, want := plainString(b, 0), bytewise(b, 0); got != want {
						t.Fatalf("%q: %d, byte by byte %d", b, got, want)
					}
					// The same with no stop at all: the string runs off the line.
					b = append([]byte{'"'}, bytes.Repeat([]byte{fill}, n+tail)...)
					if got := plainString(b, 0); got != -1 {
						t.Fatalf("%q: %d, want -1", b, got)
					}
				}
			}
		}
	}
}

// A key table finds each of its keys where a line has room for two words after it
// and where it has not, with space before its colon too, and no other key.
func TestKeyTable(t *testing.T) {
	for _, tab := range []*keyTable{opKeys, effKeys} {
		for num, k := range tab.keys {
			for _, line := range []string{
				`"` + k + `":1,"padding":"0123456789abcdef"}`, // room for the words
				`"` + k + `":1}`, // near the end
				`"` + k + `" : 1,"padding":"0123456789abcdef"}`,
			} {
				s := lineScanner{b: []byte(line)}
				if got := s.field(tab); got != num {
					t.Errorf("%s: key number %d, want %d", line, got, num)
				}
				if n, ok := s.integer(); !ok || n != 1 {
					t.Errorf("%s: left at %q, not at the value", line, line[s.i:])
				}
			}
			for _, other := range []string{k + "x", k[:len(k)-1], "x" + k, strings.ToUpper(k)} {
				for _, line := range []string{`"` + other + `":1,"padding":"0123456789abcdef"}`, `"` + other + `":1}`} {
					s := lineScanner{b: []byte(line)}
					if got := s.field(tab); got >= 0 && tab.keys[got] != other {
						t.Errorf("%s: read as key %q", line, tab.keys[got])
					}
				}
			}
		}
		for _, line := range []string{`"":1,"padding":"0123456789abcdef"}`, `"":1}`, `1:1}`, `"\u00e9":1}`, `"é":1,"padding":"0123456789abcdef"}`} {
			s := lineScanner{b: []byte(line)}
			if got := s.field(tab); got != -1 {
				t.Errorf("%s: key number %d, want none", line, got)
			}
		}
	}
}
