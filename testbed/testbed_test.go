package testbed_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mscli/mscli/testbed"
)

func TestReadinessWaitsForOK(t *testing.T) {
	var calls atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 4 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer hs.Close()
	r := testbed.Readiness{Node: "bank/0", URL: hs.URL + "/readyz", Timeout: 5 * time.Second}
	if err := r.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 4 {
		t.Errorf("%d probes", calls.Load())
	}
}

func TestReadinessTimeoutNamesTheNodeAndTailsItsLog(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broker unreachable", http.StatusServiceUnavailable)
	}))
	defer hs.Close()
	log := filepath.Join(t.TempDir(), "bank-0.log")
	var lines []string
	for i := range 100 {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	os.WriteFile(log, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	r := testbed.Readiness{Node: "bank/0", URL: hs.URL + "/readyz", Timeout: 200 * time.Millisecond, Log: log}
	err := r.Wait(context.Background())
	var re *testbed.ReadyError
	if !errors.As(err, &re) || re.Node != "bank/0" || re.Exited {
		t.Fatalf("err = %#v", err)
	}
	msg := err.Error()
	for _, want := range []string{"node bank/0 not ready after", "status 503 broker unreachable", "bank-0.log", "line 99", "line 80"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "line 79\n") {
		t.Errorf("more than 20 lines of log:\n%s", msg)
	}
}

func TestReadinessGivesUpWhenTheProcessExits(t *testing.T) {
	exited := make(chan struct{})
	close(exited)
	began := time.Now()
	err := testbed.Readiness{Node: "broker", URL: "http://127.0.0.1:1/healthz", Timeout: 10 * time.Second, Exited: exited}.Wait(context.Background())
	var re *testbed.ReadyError
	if !errors.As(err, &re) || !re.Exited || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(began) > time.Second {
		t.Error("kept polling a dead process")
	}
	if !strings.Contains(err.Error(), "exited while starting") {
		t.Errorf("message: %s", err)
	}
}

func TestTail(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.log")
	os.WriteFile(big, []byte(strings.Repeat("x", 100<<10)+"\nlast\n"), 0o644)
	if got := testbed.Tail(big, 1); got != "last" {
		t.Errorf("Tail = %q", got)
	}
	if got := testbed.Tail(filepath.Join(dir, "missing"), 5); got != "" {
		t.Errorf("Tail of a missing file = %q", got)
	}
}

func TestFreeAddr(t *testing.T) {
	a, err := testbed.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", a)
	if err != nil {
		t.Fatalf("listen on the free address %s: %v", a, err)
	}
	l.Close()
}

func TestProxies(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }))
	defer hs.Close()
	px := testbed.NewProxies()
	l, err := px.Add("client->bank/0", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if px.Get("client->bank/0") != l || len(px.All()) != 1 || l.Upstream() != hs.Listener.Addr().String() {
		t.Fatal("proxy not registered")
	}
	if _, err := px.Add("client->bank/0", hs.Listener.Addr().String()); err == nil {
		t.Error("two proxies with one name")
	}
	getOK := func() bool {
		c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get("http://" + l.Listen())
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	if !getOK() {
		t.Fatal("no traffic through the proxy")
	}
	ctx := context.Background()
	addr := l.Listen()
	if err := l.SetEnabled(ctx, false); err != nil || getOK() {
		t.Fatalf("disabled proxy still passes traffic (%v)", err)
	}
	if err := l.SetEnabled(ctx, true); err != nil || !getOK() || l.Listen() != addr {
		t.Fatalf("re-enabled proxy: %v, address %s (was %s)", err, l.Listen(), addr)
	}
	if err := l.SetEnabled(ctx, true); err != nil {
		t.Errorf("enabling an enabled proxy: %v", err)
	}
	if err := l.AddToxic(ctx, "t1", "latency", "downstream", 1, map[string]any{"latency": 1}); err != nil {
		t.Fatal(err)
	}
	if err := l.AddToxic(ctx, "t2", "no-such-toxic", "downstream", 1, nil); err == nil {
		t.Error("unknown toxic type accepted")
	}
	if err := l.RemoveToxic(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if err := l.RemoveToxic(ctx, "t1"); err == nil {
		t.Error("removing a removed toxic succeeded")
	}
	if err := px.Close(); err != nil {
		t.Fatal(err)
	}
	if getOK() {
		t.Error("traffic after Close")
	}
	if err := px.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
