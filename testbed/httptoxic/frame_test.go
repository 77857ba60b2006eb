package httptoxic

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// run feeds a stream to a fresh Rewriter in the given pieces, with a pick that answers
// 503 every time, and returns what it passed on and how many times it picked.
func run(pieces []string) (string, int) {
	var r Rewriter
	picks := 0
	pick := func() int { picks++; return 503 }
	var out strings.Builder
	for _, p := range pieces {
		out.Write(r.Feed([]byte(p), pick))
	}
	out.Write(r.Flush())
	return out.String(), picks
}

// splits is every way to cut s in two, and s byte by byte.
func splits(s string) [][]string {
	out := [][]string{{s}}
	for i := 1; i < len(s); i++ {
		out = append(out, []string{s[:i], s[i:]})
	}
	var bytewise []string
	for i := range len(s) {
		bytewise = append(bytewise, s[i:i+1])
	}
	return append(out, bytewise)
}

const (
	ok200    = "HTTP/1.1 200 OK\r\n"
	err503   = "HTTP/1.1 503 Service Unavailable\r\n"
	lenHello = "Content-Length: 5\r\n\r\nhello"
)

func TestRewriterFramesResponses(t *testing.T) {
	cases := []struct {
		name, in, want string
		picks          int
	}{
		{"content-length, keep-alive",
			ok200 + lenHello + ok200 + "Content-Type: text/plain\r\n" + lenHello,
			err503 + lenHello + err503 + "Content-Type: text/plain\r\n" + lenHello, 2},
		{"an empty body", ok200 + "Content-Length: 0\r\n\r\n" + ok200 + lenHello,
			err503 + "Content-Length: 0\r\n\r\n" + err503 + lenHello, 2},
		{"a body that looks like a response",
			ok200 + "Content-Length: 17\r\n\r\n" + ok200 + "HTTP/1.1 404 Not Found\r\n" + lenHello,
			err503 + "Content-Length: 17\r\n\r\n" + ok200 + err503 + lenHello, 2},
		{"chunked with extensions and a trailer",
			ok200 + "Transfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\n" + ok200 + lenHello,
			err503 + "Transfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\n" + err503 + lenHello, 2},
		{"chunked last of several codings",
			ok200 + "Transfer-Encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n" + ok200 + lenHello,
			err503 + "Transfer-Encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n" + err503 + lenHello, 2},
		{"interim responses pass",
			"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + ok200 + lenHello,
			"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + err503 + lenHello, 1},
		{"204 and 304 have no body",
			"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n" + ok200 + lenHello,
			err503 + "Content-Length: 0\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n" + err503 + lenHello, 2},
		{"bare line feeds, HTTP/1.0, no reason",
			"HTTP/1.0 200\nContent-Length: 5\n\nhello" + "HTTP/1.1 500 Internal Server Error\n" + "Content-Length: 2\n\nno",
			"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 5\n\nhello" + err503 + "Content-Length: 2\n\nno", 2},
		{"equal Content-Length values", ok200 + "Content-Length: 5, 5\r\n\r\nhello" + ok200 + lenHello,
			err503 + "Content-Length: 5, 5\r\n\r\nhello" + err503 + lenHello, 2},
		{"a body to the end of the connection", ok200 + "\r\nbody " + ok200 + lenHello,
			err503 + "\r\nbody " + ok200 + lenHello, 1},
		{"a coding other than chunked", ok200 + "Transfer-Encoding: gzip\r\n\r\n" + ok200 + lenHello,
			err503 + "Transfer-Encoding: gzip\r\n\r\n" + ok200 + lenHello, 1},
		{"switching protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n" + ok200 + lenHello,
			"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n" + ok200 + lenHello, 0},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n" + ok200 + lenHello, "SSH-2.0-OpenSSH\r\n" + ok200 + lenHello, 0},
		{"a bad status code", "HTTP/1.1 2x0 OK\r\n" + lenHello + ok200, "HTTP/1.1 2x0 OK\r\n" + lenHello + ok200, 0},
		{"a bad length", ok200 + "Content-Length: -5\r\n\r\n" + ok200, err503 + "Content-Length: -5\r\n\r\n" + ok200, 1},
		{"conflicting lengths", ok200 + "Content-Length: 5, 6\r\n\r\nhello" + ok200,
			err503 + "Content-Length: 5, 6\r\n\r\nhello" + ok200, 1},
		{"a bad chunk size", ok200 + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + ok200,
			err503 + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + ok200, 1},
		{"chunk data too long", ok200 + "Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n" + ok200,
			err503 + "Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n" + ok200, 1},
		{"a header without a colon", ok200 + "Nonsense\r\n" + lenHello + ok200, err503 + "Nonsense\r\n" + lenHello + ok200, 1},
		{"a status line cut short by the end", "HTTP/1.1 20", "HTTP/1.1 20", 0},
	}
	for _, tc := range cases {
		for _, pieces := range splits(tc.in) {
			got, picks := run(pieces)
			if got != tc.want || picks != tc.picks {
				t.Fatalf("%s, fed as %q:\ngot  %q (%d picks)\nwant %q (%d picks)", tc.name, pieces, got, picks, tc.want, tc.picks)
			}
		}
	}
}

func TestRewriterLeavesWhatIsNotPicked(t *testing.T) {
	in := ok200 + lenHello + "HTTP/1.1 100 Continue\r\n\r\n" + ok200 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
	var r Rewriter
	n := 0
	if got := r.Feed([]byte(in), func() int { n++; return 0 }); string(got) != in || n != 2 {
		t.Errorf("pick 0 changed the stream or picked %d times:\n%q", n, got)
	}
	// A status the Rewriter has no text for still makes a valid status line.
	var r2 Rewriter
	if got := string(r2.Feed([]byte(ok200+lenHello), func() int { return 599 })); got != "HTTP/1.1 599 Error\r\n"+lenHello {
		t.Errorf("599: %q", got)
	}
}

// A large body crosses in many pieces of every size and comes out whole.
func TestRewriterLargeBodies(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	head := ok200 + "Content-Length: 1048576\r\n\r\n"
	in := head + string(body) + ok200 + "Transfer-Encoding: chunked\r\n\r\n100000\r\n" + string(body) + "\r\n0\r\n\r\n" + ok200 + lenHello
	want := strings.ReplaceAll(in, ok200, err503)
	rng := rand.New(rand.NewPCG(1, 2))
	var pieces []string
	for s := in; len(s) > 0; {
		n := min(len(s), 1+rng.IntN(70000))
		pieces, s = append(pieces, s[:n]), s[n:]
	}
	got, picks := run(pieces)
	if got != want || picks != 3 {
		t.Errorf("large bodies: %d bytes out of %d, %d picks", len(got), len(want), picks)
	}
}

// Flush gives back a status line held half-way; that response then passes unchanged,
// and the framing goes on.
func TestRewriterFlush(t *testing.T) {
	var r Rewriter
	picks := 0
	pick := func() int { picks++; return 503 }
	if out := r.Feed([]byte("HTTP/1.1 2"), pick); len(out) != 0 {
		t.Fatalf("a partial status line passed on: %q", out)
	}
	if held := string(r.Flush()); held != "HTTP/1.1 2" {
		t.Fatalf("Flush: %q", held)
	}
	if held := r.Flush(); held != nil {
		t.Fatalf("a second Flush: %q", held)
	}
	// What follows of that status line is no longer held back.
	if out := string(r.Feed([]byte("00 "), pick)); out != "00 " {
		t.Fatalf("after a Flush: %q", out)
	}
	out := string(r.Feed([]byte("OK\r\n"+lenHello+ok200+lenHello), pick))
	if want := "OK\r\n" + lenHello + err503 + lenHello; out != want || picks != 1 {
		t.Fatalf("after a Flush: %q (%d picks), want %q", out, picks, want)
	}
	// Nothing is held back outside a status line.
	r.Feed([]byte(ok200+"Content-Length: 5\r\n\r\nhe"), pick)
	if held := r.Flush(); held != nil {
		t.Errorf("Flush inside a body: %q", held)
	}
}

func TestRewriterBoundsLines(t *testing.T) {
	long := "HTTP/1.1 200 " + strings.Repeat("k", maxStatusLine)
	if got, picks := run([]string{long, "\r\n" + lenHello}); got != long+"\r\n"+lenHello || picks != 0 {
		t.Errorf("an over-long status line: %d picks", picks)
	}
	head := ok200 + "X: " + strings.Repeat("v", maxHeaderLine) + "\r\n" + lenHello + ok200
	if got, picks := run([]string{head}); got != err503+head[len(ok200):] || picks != 1 {
		t.Errorf("an over-long header line: %d picks", picks)
	}
}

// The draws follow the seed, the ratio bounds them, and a status that is no status
// answers 503.
func TestErrorToxicPicks(t *testing.T) {
	draw := func(tx *ErrorToxic) []int {
		var out []int
		for range 200 {
			out = append(out, tx.pick())
		}
		return out
	}
	a, b := draw(&ErrorToxic{Ratio: 0.5, Status: 502, Seed: 7}), draw(&ErrorToxic{Ratio: 0.5, Status: 502, Seed: 7})
	if !slices.Equal(a, b) {
		t.Error("two toxics with one seed drew differently")
	}
	if c := draw(&ErrorToxic{Ratio: 0.5, Status: 502, Seed: 8}); slices.Equal(a, c) {
		t.Error("two seeds drew the same 200 times")
	}
	if n := len(slices.DeleteFunc(slices.Clone(a), func(s int) bool { return s == 0 })); n < 60 || n > 140 {
		t.Errorf("ratio 0.5: %d of 200 drawn", n)
	}
	for _, tc := range []struct {
		tx   *ErrorToxic
		want map[int]bool
	}{
		{&ErrorToxic{Ratio: 0}, map[int]bool{0: true}},
		{&ErrorToxic{Ratio: 1}, map[int]bool{503: true}},
		{&ErrorToxic{Ratio: 1, Status: 42}, map[int]bool{503: true}},
		{&ErrorToxic{Ratio: 0.5, Status: 500}, map[int]bool{0: true, 500: true}},
	} {
		got := map[int]bool{}
		for _, s := range draw(tc.tx) {
			got[s] = true
		}
		if !maps.Equal(got, tc.want) {
			t.Errorf("ratio %v status %d: drew %v", tc.tx.Ratio, tc.tx.Status, got)
		}
	}
}
