package chaos_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/testbed"
)

// large is a body of several toxiproxy chunks (they are 32 KiB at most).
var large = bytes.Repeat([]byte("0123456789abcdef"), 3<<16)

// dependency is a real net/http server behind a toxiproxy proxy, on the link
// gateway->catalog, and a keep-alive client that crosses it.
type dependency struct {
	env    *env
	link   *testbed.ProxyLink
	calls  atomic.Int64 // requests the server received
	client *http.Client
	url    string
}

func newDependency(t *testing.T) *dependency {
	t.Helper()
	d := &dependency{}
	mux := http.NewServeMux()
	mux.HandleFunc("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "item %s", r.PathValue("id"))
	})
	// Written in parts, flushed: a chunked body.
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for i := range 5 {
			fmt.Fprintf(w, "part %d;", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/large", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(large)))
		w.Write(large)
	})
	mux.HandleFunc("/large-chunked", func(w http.ResponseWriter, r *http.Request) { w.Write(large) })
	// A chunked body that takes a while.
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		for i := range 20 {
			fmt.Fprintf(w, "part %d;", i)
			w.(http.Flusher).Flush()
			time.Sleep(10 * time.Millisecond)
		}
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.calls.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	px := newProxies(t)
	l, err := px.Add("gateway->catalog/0", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	d.link = l
	d.env = &env{links: map[string][]chaos.Link{"gateway->catalog": {l}}}
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	d.client = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	d.url = "http://" + l.Listen()
	return d
}

// answer is what one request got.
type answer struct {
	status int
	body   string
	conn   string // the client end of the connection it used
}

func (d *dependency) get(t *testing.T, path string) answer {
	t.Helper()
	var a answer
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { a.conn = i.Conn.LocalAddr().String() }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", d.url+path, nil)
	resp, err := d.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", path, err)
	}
	a.status, a.body = resp.StatusCode, string(b)
	return a
}

func httpErrors(at time.Duration, params map[string]string) plan.Fault {
	f := fault("http-errors", "gateway->catalog", params)
	f.At = plan.Duration(at)
	return f
}

func applyFault(t *testing.T, e chaos.Env, f plan.Fault) chaos.Heal {
	t.Helper()
	heal, err := chaos.Apply(context.Background(), e, f)
	if err != nil {
		t.Fatalf("apply %s: %v", f.Kind, err)
	}
	return heal
}

// With the defaults every answer is a 503, with the body the dependency wrote, on one
// keep-alive connection; every request reached the dependency. Healed, answers are 200.
func TestHTTPErrorsAnswersTheStatus(t *testing.T) {
	d := newDependency(t)
	first := d.get(t, "/items/0")
	heal := applyFault(t, d.env, httpErrors(0, nil))
	for i := range 20 {
		a := d.get(t, fmt.Sprintf("/items/%d", i))
		if a.status != http.StatusServiceUnavailable || a.body != fmt.Sprintf("item %d", i) || a.conn != first.conn {
			t.Fatalf("request %d: %+v, want 503 with the body, on connection %s", i, a, first.conn)
		}
	}
	if n := d.calls.Load(); n != 21 {
		t.Errorf("the dependency got %d requests, want 21", n)
	}
	if err := heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := d.get(t, "/items/1"); a.status != http.StatusOK || a.conn != first.conn {
		t.Errorf("after the heal: %+v", a)
	}

	heal = applyFault(t, d.env, httpErrors(0, map[string]string{"status": "500"}))
	defer heal(context.Background())
	if a := d.get(t, "/items/2"); a.status != http.StatusInternalServerError || a.body != "item 2" {
		t.Errorf("status 500: %+v", a)
	}
}

// Half the answers, near enough, over 400 requests on one connection; every body
// intact; the same fault draws the same answers again.
func TestHTTPErrorsRatio(t *testing.T) {
	d := newDependency(t)
	first := d.get(t, "/items/0")
	f := httpErrors(3*time.Second, map[string]string{"ratio": "0.5"})
	draw := func() string {
		heal := applyFault(t, d.env, f)
		defer heal(context.Background())
		var s strings.Builder
		for i := range 400 {
			a := d.get(t, fmt.Sprintf("/items/%d", i))
			if a.body != fmt.Sprintf("item %d", i) || a.conn != first.conn {
				t.Fatalf("request %d: %+v, want its body on connection %s", i, a, first.conn)
			}
			switch a.status {
			case http.StatusOK:
				s.WriteByte('.')
			case http.StatusServiceUnavailable:
				s.WriteByte('x')
			default:
				t.Fatalf("request %d: status %d", i, a.status)
			}
		}
		return s.String()
	}
	one := draw()
	if n := strings.Count(one, "x"); n < 140 || n > 260 {
		t.Errorf("ratio 0.5: %d errors in 400 answers", n)
	}
	if two := draw(); two != one {
		t.Errorf("the same fault drew differently:\n%s\n%s", one, two)
	}
	f.At += plan.Duration(time.Second)
	if three := draw(); three == one {
		t.Error("a fault that starts elsewhere drew the same 400 answers")
	}
}

// Chunked bodies and bodies of many chunks keep their framing: the answers after them
// come on the same connection.
func TestHTTPErrorsKeepsBodies(t *testing.T) {
	d := newDependency(t)
	first := d.get(t, "/items/0")
	heal := applyFault(t, d.env, httpErrors(0, nil))
	defer heal(context.Background())
	for range 3 {
		for path, want := range map[string]string{"/chunked": "part 0;part 1;part 2;part 3;part 4;", "/large": string(large), "/large-chunked": string(large)} {
			a := d.get(t, path)
			if a.status != http.StatusServiceUnavailable || a.body != want || a.conn != first.conn {
				t.Fatalf("%s: status %d, %d bytes of %d, connection %s (want %s)", path, a.status, len(a.body), len(want), a.conn, first.conn)
			}
		}
	}
}

// Healed while a chunked answer streams, the answer ends intact, and the next ones on
// the same connection are the dependency's own.
func TestHTTPErrorsHealMidStream(t *testing.T) {
	d := newDependency(t)
	first := d.get(t, "/items/0")
	heal := applyFault(t, d.env, httpErrors(0, nil))
	resp, err := d.client.Get(d.url + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d", resp.StatusCode)
	}
	part := make([]byte, 7)
	if _, err := io.ReadFull(resp.Body, part); err != nil {
		t.Fatal(err)
	}
	if err := heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	var want strings.Builder
	for i := range 20 {
		fmt.Fprintf(&want, "part %d;", i)
	}
	if got := string(part) + string(rest); err != nil || got != want.String() {
		t.Fatalf("body across the heal: %q (%v)", got, err)
	}
	for i := range 5 {
		if a := d.get(t, fmt.Sprintf("/items/%d", i)); a.status != http.StatusOK || a.conn != first.conn {
			t.Fatalf("after the heal: %+v, want 200 on connection %s", a, first.conn)
		}
	}
}

// The kind's declaration: HTTP links on both testbeds, server errors only.
func TestHTTPErrorsDeclaration(t *testing.T) {
	k, ok := plan.LookupFaultKind("http-errors")
	if !ok || k.Target != plan.TargetLink || !k.Window {
		t.Fatalf("http-errors: %+v", k)
	}
	if !k.ActsEverywhere(plan.RoleLink) || k.ActsAnywhere(plan.RoleDatabaseLink) {
		t.Errorf("http-errors acts on %+v: want every link but the database's, on both testbeds", k.Acts)
	}
	d := newDependency(t)
	for _, status := range []string{"404", "600"} {
		if _, err := chaos.Apply(context.Background(), d.env, httpErrors(0, map[string]string{"status": status})); err == nil {
			t.Errorf("status %s was accepted", status)
		}
	}
	if n := len(d.link.Proxy().Toxics.GetToxicArray()); n != 0 {
		t.Errorf("refused faults left %d toxics", n)
	}
}
