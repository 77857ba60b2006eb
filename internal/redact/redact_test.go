package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func secrets() *Secrets {
	return New(map[string]string{"API_TOKEN": "tok-3f9a\"c/1&x", "DB_PASS": "hunter22hunter", "LONGER": "hunter22hunter-and-more"})
}

func TestString(t *testing.T) {
	s := secrets()
	cases := map[string]string{
		"no secret here":                          "no secret here",
		"token=tok-3f9a\"c/1&x.":                  "token=[secret API_TOKEN].",
		"json: \"tok-3f9a\\\"c/1&x\"":             "json: \"[secret API_TOKEN]\"",
		"url: ?t=tok-3f9a%22c%2F1%26x&y":          "url: ?t=[secret API_TOKEN]&y",
		"hunter22hunter hunter22hunter-and-more":  "[secret DB_PASS] [secret LONGER]",
		"hunter22hunte":                           "hunter22hunte",
		"twice: hunter22hunterhunter22hunter end": "twice: [secret DB_PASS][secret DB_PASS] end",
	}
	for in, want := range cases {
		if got := s.String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
	var none *Secrets
	if got := none.String("hunter22hunter"); got != "hunter22hunter" {
		t.Errorf("a nil Secrets changed %q", got)
	}
}

// A value split across writes — at every byte — is still replaced, and nothing of it
// reaches the underlying writer before the writer knows.
func TestWriterAcrossWrites(t *testing.T) {
	s := secrets()
	text := "start hunter22hunter middle tok-3f9a\"c/1&x hunter22hunter-and-more hunter22hunt end hunter22h"
	want := "start [secret DB_PASS] middle [secret API_TOKEN] [secret LONGER] hunter22hunt end hunter22h"
	for cut := 0; cut <= len(text); cut++ {
		for _, step := range []int{1, 2, 3, 7, len(text)} {
			var out bytes.Buffer
			w := s.Writer(&out)
			rest := text
			if _, err := w.Write([]byte(rest[:cut])); err != nil {
				t.Fatal(err)
			}
			rest = rest[cut:]
			for len(rest) > 0 {
				n := min(step, len(rest))
				if _, err := w.Write([]byte(rest[:n])); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
				for _, v := range []string{"hunter22hunter ", "tok-3f9a\"c/1&x"} {
					if strings.Contains(out.String(), v) {
						t.Fatalf("cut %d step %d: %q reached the writer: %q", cut, step, v, out.String())
					}
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if out.String() != want {
				t.Fatalf("cut %d step %d:\n got %q\nwant %q", cut, step, out.String(), want)
			}
		}
	}
}

// Concurrent writers (a process's stdout and stderr) never see a half-replaced value.
func TestWriterConcurrent(t *testing.T) {
	s := secrets()
	var out bytes.Buffer
	w := s.Writer(&out)
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 200 {
				_, _ = w.Write([]byte("line hunter22hunter\n"))
			}
		}()
	}
	for range 4 {
		<-done
	}
	_ = w.Close()
	if strings.Contains(out.String(), "hunter22hunter") {
		t.Fatal("a secret got through")
	}
	if got := strings.Count(out.String(), "line [secret DB_PASS]\n"); got != 800 {
		t.Fatalf("%d redacted lines, want 800", got)
	}
}

// JSON Lines records keep their structure: strings redacted (with the value in its
// JSON-escaped form), numbers left alone, lines whole though written in pieces.
func TestJSONLines(t *testing.T) {
	s := New(map[string]string{"PIN": "12345678", "TOKEN": "tok-3f9a\"c/1&x"})
	recs := []map[string]any{
		{"t": 912345678901, "error": "status 500: tok-3f9a\"c/1&x and 12345678", "key": "k"},
		{"t": 12345678, "f": "read"},
	}
	var in bytes.Buffer
	for _, r := range recs {
		b, _ := json.Marshal(r)
		in.Write(append(b, '\n'))
	}
	in.WriteString(`{"torn":"12345678`)
	var out bytes.Buffer
	w := s.JSONLines(&out)
	for b := in.Bytes(); len(b) > 0; b = b[min(5, len(b)):] {
		if _, err := w.Write(b[:min(5, len(b))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %q", len(lines), out.String())
	}
	var r0, r1 map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &r0); err != nil {
		t.Fatalf("line 1 is no longer JSON: %v: %s", err, lines[0])
	}
	if err := json.Unmarshal([]byte(lines[1]), &r1); err != nil {
		t.Fatalf("line 2 is no longer JSON: %v: %s", err, lines[1])
	}
	if r0["error"] != "status 500: [secret TOKEN] and [secret PIN]" || r0["t"] != float64(912345678901) {
		t.Errorf("line 1: %v", r0)
	}
	if r1["t"] != float64(12345678) {
		t.Errorf("a number equal to a secret was changed: %v", r1)
	}
	if lines[2] != `{"torn":"[secret PIN]` {
		t.Errorf("the torn last line: %q", lines[2])
	}
}

func TestError(t *testing.T) {
	s := secrets()
	base := &fs.PathError{Op: "open", Path: "hunter22hunter", Err: fs.ErrNotExist}
	err := s.Error(base)
	if strings.Contains(err.Error(), "hunter22hunter") || !strings.Contains(err.Error(), "[secret DB_PASS]") {
		t.Errorf("Error() = %q", err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || !errors.Is(err, fs.ErrNotExist) {
		t.Error("the redacted error hides its chain")
	}
	plain := errors.New("nothing secret")
	if s.Error(plain) != plain || s.Error(nil) != nil {
		t.Error("an error without a secret should be returned as it is")
	}
}

func TestEnv(t *testing.T) {
	s := secrets()
	got := s.Env([]string{"DB_PASS", "MISSING"})
	if len(got) != 1 || got[0] != "DB_PASS=hunter22hunter" {
		t.Errorf("Env = %q", got)
	}
}

// A stream that ends with a whole secret which also begins a longer one (a password,
// and a URL holding it) is held back until the end, and still redacted then.
func TestWriterFlushRedactsWhatItHeld(t *testing.T) {
	s := secrets() // DB_PASS begins LONGER
	for _, tail := range []string{"hunter22hunter", "hunter22hunter-and", "pw tok-3f9a\"c/1&x"} {
		var out bytes.Buffer
		w := s.Writer(&out)
		if _, err := w.Write([]byte("pw=" + tail)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "hunter22hunter") || strings.Contains(out.String(), "tok-3f9a") {
			t.Errorf("the stream ending %q wrote %q", tail, out.String())
		}
	}
}

// Inside a JSON string a value is matched where a character begins, never in the
// middle of an escape: a string holding a newline then the rest of a secret that
// begins with 'n' is not a match (a marker there would leave "\[", no longer JSON),
// while the value after an escape, or escaped itself, still is.
func TestJSONEscapes(t *testing.T) {
	s := New(map[string]string{"N": "nimbus-token-1", "U": "u0041-secret-2", "Q": "\"quoted-value"})
	for _, c := range []struct{ in, want string }{
		{"a\nimbus-token-1", "a\nimbus-token-1"},       // a newline, then not the secret
		{"a\nnimbus-token-1", "a\n[secret N]"},         // a newline, then the secret
		{"\\nimbus-token-1", "\\[secret N]"},           // a backslash, then the secret
		{"x\u0001u0041-secret-2", "x\u0001[secret U]"}, // after a \u escape
		{"say \"quoted-value", "say [secret Q]"},       // the value's own escape
		{"\t\"quoted-value\\nimbus-token-1", "\t[secret Q]\\[secret N]"},
	} {
		b, _ := json.Marshal(map[string]string{"e": c.in})
		got := s.JSON(b)
		var m map[string]string
		if err := json.Unmarshal(got, &m); err != nil {
			t.Errorf("%q: %s is no longer JSON: %v", c.in, got, err)
			continue
		}
		if m["e"] != c.want {
			t.Errorf("%q: got %q, want %q", c.in, m["e"], c.want)
		}
	}
}
