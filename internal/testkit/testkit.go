// Package testkit holds the small helpers many packages' tests share: a TCP server per
// test, an echo and a forwarder to run in it, and a bounded wait for a condition.
package testkit

import (
	"io"
	"net"
	"testing"
	"time"
)

// Serve listens on a free 127.0.0.1 port until the test ends, runs handle for each
// connection in its own goroutine and closes the connection after it; it returns the
// address.
func Serve(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return l.Addr().String()
}

// Echo writes back what it reads until the connection closes: a handler for Serve.
func Echo(c net.Conn) { io.Copy(c, c) }

// Forward copies a connection to and from upstream (a new connection there for each),
// each way until its sender closes it: a plain TCP forwarder, a handler for Serve.
func Forward(upstream string) func(net.Conn) {
	return func(down net.Conn) {
		up, err := net.Dial("tcp", upstream)
		if err != nil {
			return
		}
		defer up.Close()
		done := make(chan struct{})
		go func() {
			io.Copy(up, down)
			up.(*net.TCPConn).CloseWrite()
			close(done)
		}()
		io.Copy(down, up)
		down.(*net.TCPConn).CloseWrite()
		<-done
	}
}

// Eventually polls cond every poll until it holds, and fails the test with what after d.
func Eventually(t testing.TB, d, poll time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(poll)
	}
}
