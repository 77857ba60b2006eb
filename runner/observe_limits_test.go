package runner

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/pgtest"
	"github.com/mscli/mscli/plan"
)

// allocated is what f allocated on the heap in all (runtime.MemStats.TotalAlloc
// counts every allocation, whatever the collector did since): a bound on the memory
// f held, which does not depend on when the collector ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// record is one effect line, as a service sends it.
const record = `{"view":"write","kind":"debit","key":"acct-1","id":"w-000001","amount":-5,"seq":1}` + "\n"

// lazyWriter writes n bytes of records (n < 0: without end), a chunk at a time from
// one buffer, flushing each, until the client goes away; written counts them.
func lazyWriter(n int64, written *atomic.Int64) http.HandlerFunc {
	chunk := []byte(strings.Repeat(record, (64<<10)/len(record)))
	return func(w http.ResponseWriter, r *http.Request) {
		for n < 0 || written.Load() < n {
			k, err := w.Write(chunk)
			written.Add(int64(k))
			if err != nil {
				return
			}
		}
	}
}

// An effects endpoint's answer is untrusted: a huge or endless one, a line of 100 MB,
// one that does not decode, one that trickles or stalls ends in an error that names
// the service, the replica and what its answer broke, having read little of it and
// held less.
func TestObserveHTTPHostileAnswers(t *testing.T) {
	var gb, endless, long atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/gb", lazyWriter(1<<30, &gb))
	mux.Handle("/endless", lazyWriter(-1, &endless))
	mux.HandleFunc("/long", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"view":"write","kind":"debit","key":"`)
		fill := bytes.Repeat([]byte("x"), 64<<10)
		for k := 0; k < 100<<20; k += len(fill) {
			n, err := w.Write(fill)
			long.Add(int64(n))
			if err != nil {
				return
			}
		}
		fmt.Fprintln(w, `"}`)
	})
	fixed := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }
	}
	mux.Handle("/invalid", fixed(record+`{"view":"write","kind":`+"\n"+record))
	mux.Handle("/types", fixed(record+record+`{"view":"write","kind":"debit","key":"a","id":"w-2","amount":"-5"}`+"\n"))
	mux.Handle("/nul", fixed(record+record+"{\"view\":\"write\",\x00\"kind\":\"debit\"}\n"))
	mux.Handle("/nul-escaped", fixed(`{"view":"write","kind":"debit","key":"a\u0000b","id":"w-1"}`+"\n"))
	mux.Handle("/array", fixed(record+"[1,2,3]\n"))
	mux.Handle("/null", fixed("null\n"))
	mux.HandleFunc("/trickle", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; ; i++ {
			if _, err := w.Write([]byte{record[i%len(record)]}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, record)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/silent", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	small := readLimits{line: defaultLimits.line, bytes: 8 << 20, rows: 10_000}
	for _, c := range []struct {
		path   string
		limits readLimits // zero: the defaults
		stall  time.Duration
		total  time.Duration
		want   string
		// sent is what the handler wrote, bound what it may have got to write;
		// alloc what the read may allocate in all (0: unchecked).
		sent  *atomic.Int64
		bound int64
		alloc uint64
	}{
		{path: "/gb", limits: readLimits{line: 1 << 20, bytes: 8 << 20, rows: defaultLimits.rows},
			want: "the service sent more than 8 MiB, the most mscli reads of one observation", sent: &gb, bound: 64 << 20,
			// 8 MiB is 100,000 records of 220 bytes, and the copies of a growing slice.
			alloc: 256 << 20},
		{path: "/endless", limits: small,
			want: "line 10001: the service sent more than 10000 records, the most mscli reads of one observation", sent: &endless, bound: 64 << 20, alloc: 64 << 20},
		{path: "/long", want: "line 1: the service sent a record longer than 1 MiB, the most mscli reads of one record", sent: &long, bound: 32 << 20, alloc: 16 << 20},
		{path: "/invalid", want: "line 2: the service sent a record that does not decode: unexpected end of JSON input"},
		{path: "/types", want: "line 3: the service sent a record that does not decode: json: cannot unmarshal string into Go struct field Effect.amount of type int64"},
		{path: "/nul", want: "line 3: the service sent a NUL byte (byte 17 of the line): a record is one JSON object"},
		{path: "/nul-escaped", want: "line 1: the service sent a NUL character in key: a record's fields are text"},
		{path: "/array", want: `line 2: the service sent "[1,2,3]", not a JSON object (one record per line)`},
		{path: "/null", want: `line 1: the service sent "null", not a JSON object`},
		{path: "/trickle", total: 500 * time.Millisecond, want: "the service took longer than 500ms to send its answer ("},
		{path: "/stall", stall: 300 * time.Millisecond, want: fmt.Sprintf("the service sent nothing for 300ms (after %d bytes of its answer)", len(record))},
		{path: "/silent", stall: 300 * time.Millisecond, want: "the service sent nothing for 300ms (after 0 bytes of its answer)"},
	} {
		t.Run(strings.TrimPrefix(c.path, "/"), func(t *testing.T) {
			src := newHTTPSource([]string{srv.URL + c.path})
			if c.limits != (readLimits{}) {
				src.limits = c.limits
			}
			if c.stall != 0 {
				src.stall = c.stall
			}
			if c.total != 0 {
				src.total = c.total
			}
			o := newObserver(map[string]source{"orders": src})
			defer o.close()
			var err error
			alloc := allocated(func() { _, err = o.observeAll(context.Background(), time.Now()) })
			t.Logf("%v (allocated %d MiB)", err, alloc>>20)
			prefix := "observe orders: no replica answered: GET " + srv.URL + c.path + ": "
			if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant %s…%s", err, prefix, c.want)
			}
			if c.sent == nil {
				return
			}
			// The answer's bytes are far more than the bound; the client stopped
			// reading at its limit (the rest is what the sockets buffered).
			if n := c.sent.Load(); n > c.bound {
				t.Errorf("the service got to send %d MiB, want at most %d MiB", n>>20, c.bound>>20)
			}
			if alloc > c.alloc {
				t.Errorf("the read allocated %d MiB, want at most %d MiB", alloc>>20, c.alloc>>20)
			}
		})
	}
}

// The limits are exact: an answer, a line, a number of records at the limit reads;
// one byte or record more does not. A line longer than the read buffer is gathered
// whole, and one without its newline at the end counts.
func TestDecodeEffectsLimits(t *testing.T) {
	line := func(n int) string { // a record of n bytes, newline included
		head := `{"view":"write","kind":"debit","key":"`
		tail := `","id":"w-1"}` + "\n"
		return head + strings.Repeat("k", n-len(head)-len(tail)) + tail
	}
	lim := readLimits{line: 200, bytes: 1000, rows: 5}
	for _, c := range []struct {
		body string
		want string // "" for no error
		n    int
	}{
		{body: line(201), n: 1}, // 200 bytes and the newline
		{body: line(202), want: "line 1: the service sent a record longer than 200 bytes"},
		{body: strings.TrimSuffix(line(201), "\n"), n: 1},
		{body: strings.TrimSuffix(line(202), "\n"), want: "line 1: the service sent a record longer than 200 bytes"},
		{body: strings.Repeat(line(200), 5), n: 5},
		{body: strings.Repeat(line(100), 6), want: "line 6: the service sent more than 5 records"},
		{body: strings.Repeat(line(100), 5) + "\n\n \r\n\t\n", n: 5},
		{body: line(200) + line(200) + line(200) + line(200) + line(200) + strings.Repeat("\n", 0), n: 5},
		{body: line(200) + line(200) + line(200) + line(200) + line(200) + "\n", want: "the service sent more than 1000 bytes"},
		{body: strings.ReplaceAll(line(150), "\n", "\r\n"), n: 1},
	} {
		effs, err := decodeEffects(strings.NewReader(c.body), lim)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.body, err)
		case c.want == "" && len(effs) != c.n:
			t.Errorf("%q: %d records, want %d", c.body, len(effs), c.n)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: err = %v, want %s", c.body, err, c.want)
		}
	}
	// Lines longer than the read buffer (a quarter of the line limit) come whole,
	// equal to what encoding/json makes of them.
	lim = readLimits{line: 4000, bytes: 1 << 20, rows: 100}
	var body strings.Builder
	for n := 100; n <= 4000; n += 390 {
		body.WriteString(line(n))
	}
	effs, err := decodeEffects(strings.NewReader(body.String()), lim)
	want, werr := history.Read[history.Effect](strings.NewReader(body.String()))
	if err != nil || werr != nil || len(effs) != 11 || fmt.Sprint(effs) != fmt.Sprint(want) {
		t.Fatalf("%d records (%v), want %d (%v)", len(effs), err, len(want), werr)
	}
}

// docs/effects.md tells a service's author what mscli reads at most.
func TestEffectLimitsDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/effects.md")
	if err != nil {
		t.Fatal(err)
	}
	_, limits, _ := strings.Cut(string(b), "## Limits")
	for _, s := range []string{sizeOf(int64(defaultLimits.line)), sizeOf(defaultLimits.bytes),
		fmt.Sprintf("%d million", defaultLimits.rows/1_000_000), fmt.Sprintf("%g s", observeTimeout.Seconds()), "1 minute"} {
		if !strings.Contains(limits, s) {
			t.Errorf("docs/effects.md's Limits do not say %q", s)
		}
	}
	if observeTotal != time.Minute {
		t.Errorf("observeTotal is %s, the docs say 1 minute", observeTotal)
	}
}

// A query's rows are untrusted as an endpoint's answer: a value of 100 MB, endless
// rows, too many bytes in all, a NUL in a bytea end in an error that names the
// query, the database and the bound, having held little.
func TestObserveSQLHostileRows(t *testing.T) {
	dsn := pgtest.Shared(t).NewDB(t)
	endless := `SELECT 'write' AS view, 'k' || g AS key, g AS value FROM (SELECT generate_series(1, 1000000000000) AS g) s`
	for _, c := range []struct {
		name    string
		states  string
		limits  readLimits    // zero: the defaults
		timeout time.Duration // zero: observeTimeout
		want    []string      // any of them
		bound   uint64        // what the read may allocate; 0: unchecked
	}{
		{name: "100 MB value", states: `SELECT 'write' AS view, repeat('x', 100000000) AS key, 1 AS value`,
			want: []string{"bytes, longer than 1 MiB, the most mscli reads of one record"}, bound: 16 << 20},
		{name: "endless", states: endless, limits: readLimits{line: 1 << 20, bytes: 512 << 20, rows: 10_000},
			want: []string{"sent more than 10000 rows, the most mscli reads of one observation"}, bound: 64 << 20},
		{name: "endless to the timeout", states: endless, timeout: 500 * time.Millisecond,
			want: []string{"no answer within 500ms", "sent more than 4000000 rows"}},
		{name: "too many bytes", limits: readLimits{line: 1 << 20, bytes: 4 << 20, rows: 10_000},
			states: `SELECT 'write' AS view, repeat('x', 500000) || g AS key, g AS value FROM (SELECT generate_series(1, 1000000) AS g) s`,
			want:   []string{"sent more than 4 MiB, the most mscli reads of one observation"}, bound: 64 << 20},
		{name: "NUL", states: `SELECT 'write' AS view, '\x6100'::bytea AS key, 1 AS value`,
			want: []string{`row 1: column key: a NUL character in "a\x00": a record's fields are text`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSQLSource(dsn, plan.SQLObserve{States: c.states})
			if c.limits != (readLimits{}) {
				s.limits = c.limits
			}
			if c.timeout != 0 {
				s.timeout = c.timeout
			}
			o := newObserver(map[string]source{"ledger": s})
			defer o.close()
			var err error
			alloc := allocated(func() { _, err = o.observeAll(context.Background(), time.Now()) })
			t.Logf("%v (allocated %d MiB)", err, alloc>>20)
			if err == nil || !strings.HasPrefix(err.Error(), "observe ledger: states query ") {
				t.Fatalf("err = %v, want the states query's error", err)
			}
			if strings.Contains(c.want[0], "sent") && !strings.Contains(err.Error(), "the database "+s.where+" sent") {
				t.Errorf("err = %v, want it to name the database %s", err, s.where)
			}
			found := false
			for _, w := range c.want {
				found = found || strings.Contains(err.Error(), w)
			}
			if !found {
				t.Errorf("err = %v, want %q", err, c.want)
			}
			if c.bound != 0 && alloc > c.bound {
				t.Errorf("the read allocated %d MiB, want at most %d MiB", alloc>>20, c.bound>>20)
			}
		})
	}
}
