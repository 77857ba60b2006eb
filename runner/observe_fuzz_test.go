package runner

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/mscli/mscli/history"
)

// fuzzLimits are small, so that the fuzzer reaches every bound and lines longer than
// the read buffer (a quarter of the line limit) in bodies of a few hundred bytes.
var fuzzLimits = readLimits{line: 256, bytes: 4096, rows: 16}

// FuzzObserve feeds the observation's decoders what a service may answer: an
// effects endpoint's body, and a query's value as text. They must never panic; an
// error says what the service sent; every record decoded is one mscli can write to
// effects.jsonl and read back the same, whether the body came at once or a byte at a
// time.
func FuzzObserve(f *testing.F) {
	for _, s := range []string{
		record,
		record + record + "\n\n" + record,
		`{"service":"bank","view":"read","kind":"state","key":"acct-1","value":10,"seq":3}` + "\r\n" +
			`{"view":"write","kind":"operation","id":"w-1","state":"applied","at":1764658331402118000}`,
		`{"view":"saga","kind":"release","saga":"o-13","step":"reserve","undo":true,"key":"i","id":"o-13/release","amount":1}`,
		`{"view":"delivery","kind":"dead-letter","id":"a-1","reason":"rule: unknown \"code\" 99","deliveries":1,"replica":"t/0"}`,
		strings.Repeat(record, 20),                            // too many records
		strings.Repeat(record, 60),                            // too many bytes
		`{"key":"` + strings.Repeat("k", 300) + `"}` + "\n",   // too long a line
		`{"key":"` + strings.Repeat("k", 100) + `"}` + "\n",   // longer than the buffer
		`{"view":"write","kind":` + "\n",                      // invalid JSON
		`{"amount":"5"}`, `{"value":1.5}`, `{"amount":1e400}`, // wrong types
		`{"seq":9223372036854775808}`, `{"undo":"yes"}`, // out of range, not a bool
		"{\"view\":\"w\x00\"}", `{"key":"a\u0000b"}`, // NUL bytes
		`null`, `[]`, `"x"`, `12`, `{}`, `{"a":{"b":[1,{}]}}`, // not a record, or an empty one
		`{"view":"\xff\xfe"}`, `{"key":"é\u00e9\ud800"}`, // invalid UTF-8, a lone surrogate
		`{"value":null,"value":3}`, `{"view":"a"} {"view":"b"}`, // a key twice, two objects
		"\xef\xbb\xbf{}", " \t{\"view\":\"w\"}\t ", "\r\r\n", // a BOM, spaces
		`{"view":"write","kind":"debit"`, // torn
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		effs, err := decodeEffects(bytes.NewReader(body), fuzzLimits)
		slow, serr := decodeEffects(iotest.OneByteReader(bytes.NewReader(body)), fuzzLimits)
		if !reflect.DeepEqual(effs, slow) || (err == nil) != (serr == nil) || err != nil && err.Error() != serr.Error() {
			t.Fatalf("%q: at once %v (%v), a byte at a time %v (%v)", body, effs, err, slow, serr)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "the service sent ") {
				t.Fatalf("%q: the error %q does not say what the service sent", body, err)
			}
		} else {
			checkDecoded(t, body, effs)
		}

		// A query's text value, as an integer or as text.
		s := string(body)
		n, err := sqlInt(s)
		if want, perr := strconv.ParseInt(s, 10, 64); perr == nil && (err != nil || n != want) {
			t.Fatalf("sqlInt(%q) = %d, %v; want %d", s, n, err, want)
		}
		if err != nil && err.Error() == "" {
			t.Fatalf("sqlInt(%q): an empty error", s)
		}
		if txt, err := sqlText(body); err == nil && (txt != s || strings.IndexByte(txt, 0) >= 0) {
			t.Fatalf("sqlText(%q) = %q", body, txt)
		}
	})
}

// checkDecoded holds an answer's records to what the run makes of them: within the
// limits, no NUL, valid UTF-8, and the same once written to effects.jsonl and read
// back.
func checkDecoded(t *testing.T, body []byte, effs []history.Effect) {
	t.Helper()
	if len(effs) > fuzzLimits.rows || len(body) > int(fuzzLimits.bytes) {
		t.Fatalf("%q: %d records decoded from %d bytes, beyond the limits", body, len(effs), len(body))
	}
	var buf bytes.Buffer
	w := history.NewWriter(&buf)
	for i := range effs {
		e := &effs[i]
		if err := checkEffect(e); err != nil {
			t.Fatalf("%q: record %d: %v", body, i, err)
		}
		v := reflect.ValueOf(e).Elem()
		for j := range v.NumField() {
			if f := v.Field(j); f.Kind() == reflect.String && !utf8.ValidString(f.String()) {
				t.Fatalf("%q: record %d: %s is not UTF-8", body, i, v.Type().Field(j).Name)
			}
		}
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	back, err := history.Read[history.Effect](&buf)
	if err != nil || len(back) != len(effs) || len(effs) > 0 && !reflect.DeepEqual(back, effs) {
		t.Fatalf("%q: written and read back %+v (%v), want %+v", body, back, err, effs)
	}
}
