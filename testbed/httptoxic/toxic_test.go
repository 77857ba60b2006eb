package httptoxic_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mscli/mscli/internal/testkit"
	"github.com/mscli/mscli/testbed"
	"github.com/mscli/mscli/testbed/httptoxic"
)

const (
	okResponse  = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	errResponse = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\nok"
)

// scripted is a proxy in front of an upstream that writes, on its one connection, what
// the test sends it, and closes the connection on nil.
type scripted struct {
	link  *testbed.ProxyLink
	steps chan []byte
	conn  net.Conn // the client's connection through the proxy
}

func newScripted(t *testing.T) *scripted {
	t.Helper()
	s := &scripted{steps: make(chan []byte)}
	upstream := testkit.Serve(t, func(c net.Conn) {
		for b := range s.steps {
			if b == nil {
				return
			}
			if _, err := c.Write(b); err != nil {
				return
			}
		}
	})
	px := testbed.NewProxies()
	t.Cleanup(func() { px.Close() })
	l, err := px.Add("gateway->catalog/0", upstream)
	if err != nil {
		t.Fatal(err)
	}
	s.link = l
	return s
}

func (s *scripted) addToxic(t *testing.T, name string, attrs map[string]any) {
	t.Helper()
	if err := s.link.AddToxic(context.Background(), name, httptoxic.Type, "downstream", 1, attrs); err != nil {
		t.Fatal(err)
	}
}

func (s *scripted) dial(t *testing.T) {
	t.Helper()
	c, err := net.Dial("tcp", s.link.Listen())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s.conn = c
}

// write has the upstream write b.
func (s *scripted) write(b string) { s.steps <- []byte(b) }

// expect reads exactly want from the client's connection.
func (s *scripted) expect(t *testing.T, want string) {
	t.Helper()
	s.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	got := make([]byte, len(want))
	n, err := io.ReadFull(s.conn, got)
	if err != nil || string(got) != want {
		t.Fatalf("read %q (%v), want %q", got[:n], err, want)
	}
}

// expectNothing checks that nothing arrives for a while.
func (s *scripted) expectNothing(t *testing.T) {
	t.Helper()
	s.conn.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	var b [64]byte
	n, err := s.conn.Read(b[:])
	var ne net.Error
	if n > 0 || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read %q (%v), want nothing yet", b[:n], err)
	}
}

// Removed while it holds a status line back, the toxic passes it on unchanged: no byte
// is lost and the connection goes on.
func TestRemovedWhileHoldingAStatusLine(t *testing.T) {
	s := newScripted(t)
	s.addToxic(t, "e", map[string]any{"ratio": 1.0})
	s.dial(t)
	s.write(okResponse)
	s.expect(t, errResponse)

	s.write("HTTP/1.1 20")
	s.expectNothing(t)
	if err := s.link.RemoveToxic(context.Background(), "e"); err != nil {
		t.Fatal(err)
	}
	s.expect(t, "HTTP/1.1 20")
	s.write("0 OK\r\nContent-Length: 2\r\n\r\nok")
	s.expect(t, "0 OK\r\nContent-Length: 2\r\n\r\nok")
	s.write(okResponse)
	s.expect(t, okResponse)
}

// When the chain changes (another toxic is added after it), the toxic passes on what it
// holds, and starts again where it was: the framing goes on and the next response is
// rewritten.
func TestChainChangeKeepsTheFraming(t *testing.T) {
	s := newScripted(t)
	s.addToxic(t, "e", map[string]any{"ratio": 1.0, "status": 502})
	s.dial(t)
	s.write("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHTTP/1.1 200") // a body that looks like HTTP
	s.expect(t, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 12\r\n\r\nHTTP/1.1 200")
	s.write("HTTP/1.1 20") // the next response's status line, held back
	s.expectNothing(t)
	if err := s.link.AddToxic(context.Background(), "later", "latency", "downstream", 1, map[string]any{"latency": 0}); err != nil {
		t.Fatal(err)
	}
	s.expect(t, "HTTP/1.1 20")
	s.write("0 OK\r\nContent-Length: 2\r\n\r\nok")
	s.expect(t, "0 OK\r\nContent-Length: 2\r\n\r\nok")
	s.write(okResponse)
	s.expect(t, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 2\r\n\r\nok")
}

// At the end of the input the toxic passes on what it holds and closes.
func TestEndOfInputFlushes(t *testing.T) {
	s := newScripted(t)
	s.addToxic(t, "e", map[string]any{"ratio": 1.0})
	s.dial(t)
	s.write("HTTP/1.1 20")
	s.steps <- nil
	s.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	got, err := io.ReadAll(s.conn)
	if err != nil || string(got) != "HTTP/1.1 20" {
		t.Fatalf("read %q (%v), want the held bytes, then the end", got, err)
	}
}

// The toxic's attributes are toxiproxy's JSON: a bad one is refused when it is added.
func TestBadAttributesAreRefused(t *testing.T) {
	s := newScripted(t)
	if err := s.link.AddToxic(context.Background(), "e", httptoxic.Type, "downstream", 1, map[string]any{"ratio": "half"}); err == nil {
		t.Error("a ratio that is not a number was accepted")
	}
}
