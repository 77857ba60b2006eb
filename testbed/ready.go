package testbed

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Readiness polls a node until it is ready: its health endpoint answers 200 (URL), it
// accepts a TCP connection (TCP), or Check passes. With none of them the node is ready
// once it runs.
type Readiness struct {
	Node string
	// URL answers 200 once the node is ready.
	URL string
	// TCP is a host:port that accepts connections once the node is ready.
	TCP string
	// Check returns nil once the node is ready (a database's own probe).
	Check func(ctx context.Context) error
	// Timeout bounds the wait; 0 means DefaultStartTimeout.
	Timeout time.Duration
	// Log is the node's log file, whose end goes into the error.
	Log string
	// Exited, if set, is closed when the node's process exits: waiting longer is
	// pointless.
	Exited <-chan struct{}
}

// ReadyError says a node did not become ready: which node, for how long, the last probe
// error and the end of its log — what a person needs to see first.
type ReadyError struct {
	Node string
	// URL is what the probe asked: "GET http://…/readyz", "connect 127.0.0.1:5432".
	URL    string
	Waited time.Duration
	// Exited is true when the process died while starting.
	Exited bool
	Err    error
	Log    string
	Tail   string
}

func (e *ReadyError) Error() string {
	var b strings.Builder
	if e.Exited {
		fmt.Fprintf(&b, "node %s exited while starting (after %s)", e.Node, e.Waited.Round(time.Millisecond))
	} else {
		fmt.Fprintf(&b, "node %s not ready after %s", e.Node, e.Waited.Round(time.Millisecond))
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %s: %v", e.URL, e.Err)
	}
	if e.Log != "" {
		if e.Tail == "" {
			fmt.Fprintf(&b, "\n(log %s is empty)", e.Log)
		} else {
			fmt.Fprintf(&b, "\nlast lines of %s:\n%s", e.Log, e.Tail)
		}
	}
	return b.String()
}

func (e *ReadyError) Unwrap() error { return e.Err }

// pollEvery is short because starts are on the critical path of every run and a probe
// on 127.0.0.1 costs next to nothing.
const pollEvery = 25 * time.Millisecond

// Wait polls until the node answers 200, the timeout passes, the process exits or ctx
// ends.
func (r Readiness) Wait(ctx context.Context) error {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	fail := func(exited bool, err error) error {
		e := &ReadyError{Node: r.Node, URL: r.what(), Waited: time.Since(began), Exited: exited, Err: err, Log: r.Log}
		if r.Log != "" {
			e.Tail = Tail(r.Log, 20)
		}
		return e
	}
	var last error
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		err := r.probe(ctx, client)
		if err == nil {
			return nil
		}
		// A probe cut short by the deadline says nothing: keep the one before it
		// ("status 503 …", "connection refused"), which says why the node is not ready.
		if last == nil || ctx.Err() == nil {
			last = err
		}
		select {
		case <-r.Exited:
			return fail(true, last)
		case <-ctx.Done():
			return fail(false, last)
		case <-tick.C:
		}
	}
}

// what says what the probe asks, for a message: "GET http://…", "connect 127.0.0.1:…".
func (r Readiness) what() string {
	switch {
	case r.Check != nil:
		return "probe"
	case r.TCP != "":
		return "connect " + r.TCP
	}
	return "GET " + r.URL
}

// probe asks once whether the node is ready.
func (r Readiness) probe(ctx context.Context, c *http.Client) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	switch {
	case r.Check != nil:
		return r.Check(ctx)
	case r.TCP != "":
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", r.TCP)
		if err != nil {
			return err
		}
		return conn.Close()
	case r.URL == "":
		return nil
	}
	return probeHTTP(ctx, c, r.URL)
}

func probeHTTP(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

// Tail returns the last n lines of a file ("" if it cannot be read), reading at most
// its last 16 KiB: logs of a crash loop can be large.
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 16 << 10
	if st, err := f.Stat(); err == nil && st.Size() > max {
		if _, err := f.Seek(st.Size()-max, io.SeekStart); err != nil {
			return ""
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
