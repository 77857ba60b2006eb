// Package workload drives the system under test like its clients would and records
// every operation in the history: the bank workload opens every account, then
// `clients` concurrent clients send deposits and withdrawals at a total rate, each
// retried with exponential back-off and full jitter (seed 002's retry loop).
//
// Each operation is an `invoke` record before its first attempt and one completion:
// `ok` if an attempt was acknowledged (2xx), `fail` only if every attempt definitely
// did not apply (refused before sending, 4xx, 503), `info` otherwise — the outcome of
// at least one attempt is unknown and the checkers must allow 0 or 1 effect.
package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mscli/mscli/plan"

	"golang.org/x/time/rate"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/stats"
	"github.com/mscli/mscli/internal/timing"
)

// Stats summarises a run of the workload.
type Stats struct {
	// Ops is how many operations were invoked (openings included).
	Ops int64
	// Completions by outcome.
	Ok, Fail, Info int64
	// Requests is how many attempts were sent in all.
	Requests int64
	// Latency of completed operations, invoke to completion, retries included.
	P50, P99, Max time.Duration
	Elapsed       time.Duration
	// OpsPerSec is completed operations per second over Elapsed.
	OpsPerSec float64
}

// Progress is a live view of a running workload.
type Progress struct {
	Elapsed        time.Duration
	Ok, Fail, Info int64
	InFlight       int64
	// OpsPerSec is completions per second over the last interval.
	OpsPerSec float64
}

// Runner runs a workload. Set the fields and call Run once.
type Runner struct {
	Workload plan.Workload
	// Endpoints are the service's base URLs, one per replica: attempts go round-robin.
	Endpoints []string
	// Rec receives the operation records (history.jsonl); may be nil.
	Rec *history.Writer
	// Start is the run clock's origin; records carry nanoseconds since it.
	Start time.Time
	// Client is the HTTP client; nil means NewHTTPClient.
	Client *http.Client
	// Progress, if set, is called every ProgressEvery (default 1s) while running.
	Progress      func(Progress)
	ProgressEvery time.Duration

	recMu  sync.Mutex
	index  int64
	werr   error
	counts history.Counts // of the records written, under recMu

	requests atomic.Int64
	bound    Kind // the kind, checked and bound to the workload (kind)
}

// Run runs the bank workload until ctx ends (see Runner.Run).
func Run(ctx context.Context, w plan.Workload, endpoints []string, rec *history.Writer, start time.Time) (Stats, error) {
	r := &Runner{Workload: w, Endpoints: endpoints, Rec: rec, Start: start}
	return r.Run(ctx)
}

// Run opens every account, then sends operations until ctx ends: at most Rate per
// second in all (a token bucket the clients share; 0 means as fast as they can), each
// client waiting for its operation to complete before drawing the next — a closed loop,
// so a slow or partitioned system sees fewer operations, as with real clients that
// block on their calls. Each attempt goes to the next endpoint, round-robin, so a retry
// usually lands on another replica. Operations in flight
// when ctx ends finish their current attempt (bounded by the request timeout) but are
// not retried, so their completion says what really happened rather than "canceled".
// The error is for invalid input or a failed record write; ctx ending is the normal
// way to stop.
func (r *Runner) Run(ctx context.Context) (Stats, error) {
	w := r.Workload
	switch {
	case len(r.Endpoints) == 0:
		return Stats{}, errors.New("workload: no endpoints")
	case w.Clients < 1:
		return Stats{}, fmt.Errorf("workload: %d clients", w.Clients)
	}
	kind, err := r.kind()
	if err != nil {
		return Stats{}, err
	}
	if r.Client == nil {
		r.Client = NewHTTPClient(w.Clients, w.Timeout.D())
		defer r.Client.CloseIdleConnections()
	}
	began := time.Now()
	lat := make([][]time.Duration, w.Clients)

	stopProgress := r.progress(began)
	defer stopProgress()

	// Every account is opened before any other operation, so a withdrawal never meets
	// an account that does not exist yet.
	openings := kind.Openings(w)
	var wg sync.WaitGroup
	for proc := range w.Clients {
		wg.Go(func() {
			c := r.newClient(proc)
			for i := proc; i < len(openings) && ctx.Err() == nil; i += w.Clients {
				lat[proc] = append(lat[proc], c.do(ctx, openings[i]))
			}
		})
	}
	wg.Wait()

	var limiter *rate.Limiter
	if w.Rate > 0 {
		// Burst 1: clients blocked by a fault do not bank tokens to flood the system
		// with when it heals.
		limiter = rate.NewLimiter(rate.Limit(w.Rate), 1)
	}
	for proc := range w.Clients {
		wg.Go(func() {
			c := r.newClient(proc)
			next := kind.Generator(w, proc)
			for ctx.Err() == nil {
				if limiter != nil && limiter.Wait(ctx) != nil {
					return
				}
				lat[proc] = append(lat[proc], c.do(ctx, next()))
			}
		})
	}
	wg.Wait()

	n := r.count()
	st := Stats{
		Ops: int64(n.Invoked), Ok: int64(n.Ok), Fail: int64(n.Fail), Info: int64(n.Info),
		Requests: r.requests.Load(), Elapsed: time.Since(began),
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	st.P50, st.P99 = stats.NearestRank(all, 0.50), stats.NearestRank(all, 0.99)
	if len(all) > 0 {
		st.Max = all[len(all)-1]
	}
	if s := st.Elapsed.Seconds(); s > 0 {
		st.OpsPerSec = float64(n.Completed()) / s
	}
	r.recMu.Lock()
	err = r.werr
	r.recMu.Unlock()
	return st, err
}

func (r *Runner) progress(began time.Time) (stop func()) {
	if r.Progress == nil {
		return func() {}
	}
	every := r.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	var last int
	lastAt := began
	return timing.Every(every, func(now time.Time) {
		c := r.count()
		n := c.Completed()
		p := Progress{Elapsed: now.Sub(began), Ok: int64(c.Ok), Fail: int64(c.Fail), Info: int64(c.Info), InFlight: int64(c.InFlight())}
		if d := now.Sub(lastAt).Seconds(); d > 0 {
			p.OpsPerSec = float64(n-last) / d
		}
		last, lastAt = n, now
		r.Progress(p)
	})
}

// write records one operation and counts it. Index and time are taken under the lock
// so the file is in index order and times never go backwards along it.
func (r *Runner) write(op history.Op) {
	r.recMu.Lock()
	defer r.recMu.Unlock()
	op.Index = r.index
	r.index++
	op.Time = history.Since(r.Start)
	r.counts.Add(op.Type)
	if r.Rec == nil {
		return
	}
	if err := r.Rec.Write(op); err != nil && r.werr == nil {
		r.werr = fmt.Errorf("write history: %w", err)
	}
}

// count returns the operations counted so far.
func (r *Runner) count() history.Counts {
	r.recMu.Lock()
	defer r.recMu.Unlock()
	return r.counts
}

// client is one concurrent client: a process number, its own round-robin position and
// its own jitter source (separate from the operation generator, so retries never shift
// the operation sequence).
type client struct {
	r      *Runner
	kind   Kind
	proc   int
	next   int
	jitter *rand.Rand
}

func (r *Runner) newClient(proc int) *client {
	k, _ := r.kind()
	return &client{r: r, kind: k, proc: proc, next: proc, jitter: newStream(r.Workload.Seed, streamJitter, proc)}
}

// kind resolves the workload's kind ("" is the bank, the first kind), checks the
// workload against it (Checker) and binds it (Binder), once: Run and ReadAll resolve it
// before their clients start, which then share it.
func (r *Runner) kind() (Kind, error) {
	if r.bound != nil {
		return r.bound, nil
	}
	name := r.Workload.Kind
	if name == "" {
		name = "bank"
	}
	k, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("workload: unknown kind %q (known: %v)", name, plan.WorkloadKindNames())
	}
	if c, ok := k.(Checker); ok {
		if err := c.Check(r.Workload); err != nil {
			return nil, err
		}
	}
	if b, ok := k.(Binder); ok {
		bk, err := b.Bind(r.Workload)
		if err != nil {
			return nil, err
		}
		k = bk
	}
	r.bound = k
	return k, nil
}

// do runs one operation to its completion and returns its latency.
func (c *client) do(ctx context.Context, op Planned) time.Duration {
	if op.F == FRead {
		d, _ := c.read(ctx, op)
		return d
	}
	r, w := c.r, c.r.Workload
	rec := history.Op{Process: c.proc, F: op.F, Key: op.Key, ID: op.ID}
	switch {
	case op.Value != "":
		rec.Value = json.RawMessage(op.Value)
	case !op.NoAmount:
		// Where the durable checker reads the amount the operation asked for.
		rec.Value, _ = json.Marshal(struct {
			Amount int64 `json:"amount"`
		}{op.Amount})
	}
	began := time.Now()
	inv := rec
	inv.Type = history.Invoke
	r.write(inv)

	timeout := r.timeout()
	attempts := max(1, w.Retry.Attempts)
	// Attempts outlive ctx: an operation already sent finishes its attempt, so the
	// run's end does not turn it into an unknown outcome.
	actx := context.WithoutCancel(ctx)
	all := NotApplied
	var errs []string
	var last string
	var final Attempt // the last attempt's, for its status and source
	sent := 0
	for a := 0; a < attempts; a++ {
		if a > 0 && !timing.Sleep(ctx, c.backoff(a-1)) {
			break
		}
		ep := r.Endpoints[c.next%len(r.Endpoints)]
		c.next++
		res := c.kind.Send(actx, r.Client, ep, op, timeout)
		final = res
		sent++
		r.requests.Add(1)
		if res.Out == Applied {
			all = Applied
			break
		}
		if res.Out == Unknown {
			all = Unknown
		}
		last = res.Err
		if !slices.Contains(errs, res.Err) {
			errs = append(errs, res.Err)
		}
		if !res.Retry {
			break
		}
	}
	done := rec
	done.Attempts = sent
	done.Status, done.Source = final.Status, final.Source
	switch all {
	case Applied:
		done.Type = history.Ok
	case NotApplied:
		done.Type = history.Fail
	default:
		done.Type = history.Info
	}
	if all != Applied || len(errs) > 0 {
		done.Errors = errs
	}
	if all != Applied {
		done.Error = last
	}
	r.write(done)
	return time.Since(began)
}

// read reads one key through the public API, once: a read changes nothing, so an
// attempt that fails is recorded as it went, not retried. It reports whether the read
// answered (an ok completion).
func (c *client) read(ctx context.Context, op Planned) (time.Duration, bool) {
	r := c.r
	rec := history.Op{Process: c.proc, F: FRead, Key: op.Key}
	began := time.Now()
	inv := rec
	inv.Type = history.Invoke
	r.write(inv)
	ep := r.Endpoints[c.next%len(r.Endpoints)]
	c.next++
	var res Attempt
	var seen history.Observed
	if or, ok := c.kind.(OpReader); ok {
		res, seen = or.ReadOp(context.WithoutCancel(ctx), r.Client, ep, op, r.timeout())
	} else {
		res, seen = c.kind.Read(context.WithoutCancel(ctx), r.Client, ep, op.Key, r.timeout())
	}
	r.requests.Add(1)
	done := rec
	done.Attempts = 1
	done.Status, done.Source = res.Status, res.Source
	switch res.Out {
	case Applied:
		done.Type = history.Ok
		done.Value, _ = json.Marshal(seen)
	case NotApplied:
		done.Type, done.Error, done.Errors = history.Fail, res.Err, []string{res.Err}
	default:
		done.Type, done.Error, done.Errors = history.Info, res.Err, []string{res.Err}
	}
	r.write(done)
	return time.Since(began), res.Out == Applied
}

// ReadAll reads every key once through the public API, from a process of its own
// (numbered after the clients): the final reads the converges invariant holds against
// the write model once the system is quiet. Each key gets one attempt whatever
// happens; a read that does not answer is tried again, backing off up to a second,
// until it answers or until ctx ends — the runner bounds it by the time the scenario
// gives the system to converge, since a service still recovering (replaying its
// events after a restore) may answer slowly for a while. Every attempt is recorded;
// a key whose reads never answered has no final read, and converges says so.
func (r *Runner) ReadAll(ctx context.Context) error {
	if len(r.Endpoints) == 0 {
		return errors.New("workload: no endpoints")
	}
	if r.Client == nil {
		r.Client = NewHTTPClient(1, r.Workload.Timeout.D())
		defer r.Client.CloseIdleConnections()
	}
	kind, err := r.kind()
	if err != nil {
		return err
	}
	c := r.newClient(r.Workload.Clients)
	for _, key := range kind.Keys(r.Workload) {
		if errors.Is(ctx.Err(), context.Canceled) {
			break // interrupted: not the end of the wait, the end of the run
		}
		for a := 0; ; a++ {
			if _, ok := c.read(ctx, Planned{F: FRead, Key: key}); ok || !timing.Sleep(ctx, min(time.Duration(50<<min(a, 5))*time.Millisecond, time.Second)) {
				break
			}
		}
	}
	r.recMu.Lock()
	defer r.recMu.Unlock()
	return r.werr
}

func (r *Runner) timeout() time.Duration {
	if t := r.Workload.Timeout.D(); t > 0 {
		return t
	}
	return DefaultTimeout
}

// backoff is the sleep before retry number n (0-based): full jitter, uniform in
// [0, min(max, backoff·2ⁿ)), which spreads retries of many clients apart.
func (c *client) backoff(n int) time.Duration {
	base, ceil := c.r.Workload.Retry.Backoff.D(), c.r.Workload.Retry.Max.D()
	if base <= 0 {
		return 0
	}
	d := base
	for i := 0; i < n && (ceil <= 0 || d < ceil) && d < time.Hour; i++ {
		d *= 2
	}
	if ceil > 0 && d > ceil {
		d = ceil
	}
	return time.Duration(c.jitter.Int64N(int64(d)))
}
