package testbed

import (
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/internal/testkit"
)

// A destination that dies while a latency toxic holds data for it must not leave the
// toxic blocked: unpatched, toxiproxy leaves it sending to a writer that has stopped
// reading, and a RemoveToxic that meets it deadlocks the whole proxy (upstream issue
// #558; third_party/toxiproxy drains the chain instead).
func TestLatencyToxicSurvivesADeadDestination(t *testing.T) {
	// An upstream that writes continuously until its connection fails.
	upstream := testkit.Serve(t, func(c net.Conn) {
		chunk := make([]byte, 4096)
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	})
	px := NewProxies()
	defer px.Close()
	l, err := px.Add("bank/0->broker", upstream)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := l.AddToxic(ctx, "slow", "latency", "downstream", 1, map[string]any{"latency": 300}); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", l.Listen())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
	// Die abruptly with data in flight: the proxy's writes to us fail.
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	time.Sleep(time.Second)

	done := make(chan error, 1)
	go func() { done <- l.RemoveToxic(ctx, "slow") }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("RemoveToxic hung after a destination died:\n%s", stuckToxics())
	}
	deadline := time.Now().Add(5 * time.Second)
	for stuckToxics() != "" {
		if time.Now().After(deadline) {
			t.Fatalf("a latency toxic stays blocked on a destination that died:\n%s", stuckToxics())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stuckToxics returns the stacks of latency toxics that are running.
func stuckToxics() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "LatencyToxic).Pipe") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// A call that never returns is given up when the context ends.
func TestBoundedGivesUpWithTheContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	block := make(chan struct{})
	defer close(block)
	began := time.Now()
	err := Bounded(ctx, func() error { <-block; return nil })
	if err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("Bounded returned %v, want a did-not-answer error", err)
	}
	if time.Since(began) > 5*time.Second {
		t.Fatalf("Bounded took %s", time.Since(began))
	}
	if err := Bounded(context.Background(), func() error { return nil }); err != nil {
		t.Fatal(err)
	}
}
