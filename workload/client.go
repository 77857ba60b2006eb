package workload

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mscli/mscli/history"
)

// DefaultTimeout bounds one request when the workload does not say.
const DefaultTimeout = 2 * time.Second

// NewHTTPClient returns the client the workload uses: keep-alive on with enough idle
// connections per replica for every client, environment proxies ignored (the testbed's
// proxies are the only ones wanted), no overall timeout — each attempt carries its own
// deadline.
func NewHTTPClient(clients int, timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return &http.Client{CheckRedirect: noRedirects, Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         d.DialContext,
		MaxIdleConnsPerHost: max(2, clients),
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
}

// noRedirects makes a redirect the answer: the service under test said 3xx, and it
// may not send the client (a POST turned GET) anywhere else.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Outcome is what an attempt says about its operation.
type Outcome int

const (
	// NotApplied: the attempt definitely did not and will not take effect — the
	// connection was refused before anything was sent, or the service said so (4xx,
	// 503).
	NotApplied Outcome = iota
	// Applied: the service accepted the operation (2xx).
	Applied
	// Unknown: the request may have reached the service (timeout, reset, other 5xx).
	Unknown
)

// Attempt is what one attempt of an operation says.
type Attempt struct {
	Out   Outcome
	Retry bool // worth another attempt
	Err   string
	// Status is the HTTP status of the answer, 0 when none came; Source is who
	// answered, as a gateway's answer header says (history.AnswerHeader), "" when it
	// did not say. A kind that sets them has them recorded on the operation's
	// completion (the last attempt's).
	Status int
	Source string
}

// send makes one attempt of op against endpoint.
func send(ctx context.Context, c *http.Client, endpoint string, op Planned, timeout time.Duration) Attempt {
	path := "/deposits/"
	if op.F == FWithdraw {
		path = "/withdrawals/"
	}
	u := endpoint + "/accounts/" + url.PathEscape(op.Key) + path + url.PathEscape(op.ID)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, strings.NewReader(fmt.Sprintf(`{"amount":%d}`, op.Amount)))
	if err != nil {
		return Attempt{Out: NotApplied, Err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	code, msg, failed := attempt(c, req, endpoint, timeout)
	if failed != nil {
		return *failed
	}
	return writeOutcome(endpoint, code, msg)
}

// writeOutcome reads a write's answer: 2xx applied, 503 not applied (try again), any
// other 4xx refused for good, anything else unknown.
func writeOutcome(endpoint string, code int, msg string) Attempt {
	switch {
	case code >= 200 && code < 300:
		return Attempt{Out: Applied}
	case code == http.StatusServiceUnavailable:
		return Attempt{Out: NotApplied, Retry: true, Err: statusErr(endpoint, code, msg)}
	case code >= 400 && code < 500:
		// The service refused this operation; asking again gets the same answer.
		return Attempt{Out: NotApplied, Err: statusErr(endpoint, code, msg)}
	default:
		return Attempt{Out: Unknown, Retry: true, Err: statusErr(endpoint, code, msg)}
	}
}

// attempt sends one write request and reads its answer's status and first line. A
// transport error is the Attempt: whether a connection was ever obtained separates
// "refused before sending" (definitely not applied) from failures after the request
// may have gone out (unknown).
func attempt(c *http.Client, req *http.Request, endpoint string, timeout time.Duration) (code int, msg string, failed *Attempt) {
	code, msg, _, failed = attemptHeader(c, req, endpoint, timeout)
	return code, msg, failed
}

// attemptHeader is attempt with the answer's header too (nil with a failed attempt).
func attemptHeader(c *http.Client, req *http.Request, endpoint string, timeout time.Duration) (code int, msg string, header http.Header, failed *Attempt) {
	var connected atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }}))
	resp, err := c.Do(req)
	if err != nil {
		out := Unknown
		if !connected.Load() {
			out = NotApplied
		}
		return 0, "", nil, &Attempt{Out: out, Retry: true, Err: describe(endpoint, err, timeout)}
	}
	defer resp.Body.Close()
	msg = firstLine(resp.Body)
	// Drain what is left so the connection can be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, msg, resp.Header, nil
}

// get reads one account: 200 with its balance and version, 404 for an account the
// read model does not hold (a definite answer too: the key has no value).
func get(ctx context.Context, c *http.Client, endpoint, key string, timeout time.Duration) (Attempt, history.Observed) {
	return readKey(ctx, c, endpoint, "/accounts/"+url.PathEscape(key), "balance", timeout)
}

// readKey reads one key's value at path: 200 with the value in field and its
// version in seq, 404 for a key the read model does not hold.
func readKey(ctx context.Context, c *http.Client, endpoint, path, field string, timeout time.Duration) (Attempt, history.Observed) {
	var seen history.Observed
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+path, nil)
	if err != nil {
		return Attempt{Out: NotApplied, Err: err.Error()}, seen
	}
	resp, err := c.Do(req)
	if err != nil {
		return Attempt{Out: Unknown, Err: describe(endpoint, err, timeout)}, seen
	}
	defer resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		var body map[string]json.RawMessage
		var v int64
		err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
		if err == nil {
			err = json.Unmarshal(body[field], &v)
		}
		if err == nil && body["seq"] != nil {
			err = json.Unmarshal(body["seq"], &seen.Seq)
		}
		if err != nil {
			return Attempt{Out: Unknown, Err: fmt.Sprintf("%s: unreadable %s body: %v", hostOf(endpoint), path, err)}, history.Observed{}
		}
		seen.Value = &v
		return Attempt{Out: Applied}, seen
	case code == http.StatusNotFound:
		return Attempt{Out: Applied}, seen
	case code >= 400 && code < 500, code == http.StatusServiceUnavailable:
		return Attempt{Out: NotApplied, Err: statusErr(endpoint, code, firstLine(resp.Body))}, seen
	default:
		return Attempt{Out: Unknown, Err: statusErr(endpoint, code, firstLine(resp.Body))}, seen
	}
}

func firstLine(r io.Reader) string {
	sc := bufio.NewScanner(io.LimitReader(r, 4<<10))
	if !sc.Scan() {
		return ""
	}
	s := strings.TrimSpace(sc.Text())
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

func statusErr(endpoint string, code int, msg string) string {
	s := fmt.Sprintf("%s: HTTP %d", hostOf(endpoint), code)
	if msg != "" {
		s += ": " + msg
	}
	return s
}

// describe turns a transport error into a short, stable message: errors that differ
// only by an ephemeral port would otherwise all count as distinct.
func describe(endpoint string, err error, timeout time.Duration) string {
	var reason string
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		reason = fmt.Sprintf("timeout after %s", timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		reason = "connection reset by peer"
	case errors.Is(err, syscall.EPIPE):
		reason = "broken pipe"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		reason = "connection closed before the response (EOF)"
	case errors.Is(err, context.Canceled):
		reason = "canceled"
	default:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		reason = err.Error()
	}
	return hostOf(endpoint) + ": " + reason
}

func hostOf(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		return u.Host
	}
	return endpoint
}
