package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"sort"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/reports"
)

// observer reads each observed service's effects through its source (an HTTP
// endpoint on the replicas, or SQL queries on the service's database), reached directly
// (not through the proxies). How a source reads is its own business: converging and the
// final observation are the same for every kind.
type observer struct {
	sources  map[string]source
	services []string // sorted, so records come out in a stable order
	// ledgers are the services that declare no write view (a saga's participants):
	// their one view is their truth, with no read model to wait for.
	ledgers map[string]bool
	// progress, if set, hears what a long wait is waiting for.
	progress func(format string, args ...any)
	// quiet are the states the last converge saw when the system agreed: the final
	// observation must find them unchanged (see changedSinceQuiet).
	quiet keyStates
}

// keyStates are the keys' states an observation shows, by service, view and key.
type keyStates map[[3]string]history.Effect

// statesOf collects the state effects of an observation (none of the snapshots'
// times: Time is cleared). A state without a value is a key that does not exist: it
// is left out, as converging leaves it out.
func statesOf(effs []history.Effect, into keyStates) {
	for _, e := range effs {
		if e.Kind == history.KindState && e.Value != nil {
			e.Time = 0
			into[[3]string{e.Service, e.View, e.Key}] = e
		}
	}
}

// changedSinceQuiet describes the first key whose state the final observation
// shows otherwise than the converge poll that found the system quiet ("" when none
// changed). A command still on its way when that poll ran (redelivered to a replica
// that had just restarted) can be applied, and its operation settle, between the poll
// and the final observation: the final reads of the public API, taken in between,
// then miss it, and the run must wait again rather than judge them.
func (o *observer) changedSinceQuiet(final []history.Effect) string {
	if o.quiet == nil {
		return ""
	}
	now := keyStates{}
	statesOf(final, now)
	// A view the quiet poll saw no state of is not compared: a source may give
	// states in its final observation only (an effects query that returns some).
	views := map[[2]string]bool{}
	for k := range o.quiet {
		views[[2]string{k[0], k[1]}] = true
	}
	keys := make([][3]string, 0, len(now)+len(o.quiet))
	for k := range now {
		if views[[2]string{k[0], k[1]}] {
			keys = append(keys, k)
		}
	}
	for k := range o.quiet {
		if _, ok := now[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a[0] < b[0] || a[0] == b[0] && (a[1] < b[1] || a[1] == b[1] && a[2] < b[2])
	})
	for _, k := range keys {
		was, wok := o.quiet[k]
		is, iok := now[k]
		if wok != iok || !history.SameState(&was, &is) {
			var w, i *history.Effect // nil: missing
			if wok {
				w = &was
			}
			if iok {
				i = &is
			}
			return fmt.Sprintf("%s %s in the %s model was %s, is %s", k[0], k[2], k[1], history.StateString(w), history.StateString(i))
		}
	}
	return ""
}

// source reads one service's effects (history.Effect records). While converging it
// may read only the states and operation states (what converging compares); the final
// observation reads everything. An error is retried while converging, like an
// unreachable endpoint.
type source interface {
	read(ctx context.Context, converging bool) ([]history.Effect, error)
	// reportsStates says whether the source gives the keys' states: without them there
	// are no models to compare while converging, only operations to see settle.
	reportsStates() bool
	// close releases what the source holds (connections); it is idempotent.
	close() error
}

// observeTimeout bounds one request to a replica, or one query.
const observeTimeout = 5 * time.Second

func newObserver(sources map[string]source) *observer {
	o := &observer{sources: sources}
	for s := range sources {
		o.services = append(o.services, s)
	}
	sort.Strings(o.services)
	return o
}

// close releases every source.
func (o *observer) close() error {
	var errs []error
	for _, svc := range o.services {
		errs = append(errs, o.sources[svc].close())
	}
	return errors.Join(errs...)
}

// fetch returns one service's effects: only its states and operation states while
// converging. A record that does not name its service is the service's.
func (o *observer) fetch(ctx context.Context, service string, converging bool) ([]history.Effect, error) {
	effs, err := o.sources[service].read(ctx, converging)
	if err != nil {
		return nil, fmt.Errorf("observe %s: %w", service, err)
	}
	for i := range effs {
		if effs[i].Service == "" {
			effs[i].Service = service
		}
	}
	return effs, nil
}

// sourceOf is where a service's effects are read: its SQL queries on the database
// the system gives it, or its HTTP endpoint on every replica. A fixture observed
// neither way keeps its /effects endpoint; any other such service is not observed (nil).
func sourceOf(s plan.Service, sys System) source {
	obs := s.Observe
	if !obs.Observed() && !s.User() {
		obs.HTTP = "/effects"
	}
	switch {
	case obs.SQL != nil && obs.SQL.URL != "":
		return newSQLSource(hostDSN(sys, obs.SQL.URL), *obs.SQL)
	case obs.SQL != nil:
		return newSQLSource(sys.DatabaseURL(s.Name), *obs.SQL)
	case obs.HTTP != "":
		path := obs.HTTP
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		var urls []string
		for _, base := range sys.ObserveURLs(s.Name) {
			urls = append(urls, strings.TrimSuffix(base, "/")+path)
		}
		return newHTTPSource(urls)
	}
	return nil
}

// httpSource reads the effects endpoint (history.Effect JSON Lines), trying each
// replica until one answers: any replica reports the whole service. While converging
// it asks for ?kind=state&kind=operation; an endpoint that ignores the filter is
// fine. An answer is read within limits, bytes and time (the service under test is
// untrusted): an error names the replica and the bound its answer broke.
type httpSource struct {
	client *http.Client
	urls   []string // the endpoint on each replica
	limits readLimits
	// stall bounds the wait for the answer to start and for each next bytes of it;
	// total the whole answer, so a trickle that never stalls ends too.
	stall, total time.Duration
}

// observeTotal bounds one whole answer of an effects endpoint: a service that
// reports a million operations sends ~330 MB, which mscli decodes at tens of MB/s.
const observeTotal = time.Minute

func newHTTPSource(urls []string) *httpSource {
	// A redirect is an answer, never followed: the service under test does not send
	// mscli elsewhere.
	noRedirects := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &httpSource{client: &http.Client{CheckRedirect: noRedirects}, urls: urls,
		limits: defaultLimits, stall: observeTimeout, total: observeTotal}
}

func (h *httpSource) read(ctx context.Context, converging bool) ([]history.Effect, error) {
	if len(h.urls) == 0 {
		return nil, errors.New("no replica to ask")
	}
	var errs []string
	for _, u := range h.urls {
		if converging {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + "kind=state&kind=operation"
		}
		effs, err := h.get(ctx, u)
		if err == nil {
			return effs, nil
		}
		errs = append(errs, fmt.Sprintf("GET %s: %v", u, err))
	}
	return nil, fmt.Errorf("no replica answered: %s", strings.Join(errs, "; "))
}

// reportsStates: the effects contract's endpoint serves states.
func (h *httpSource) reportsStates() bool { return true }

func (h *httpSource) close() error {
	h.client.CloseIdleConnections()
	return nil
}

// get reads one replica's answer (its errors leave the URL to the caller).
func (h *httpSource) get(ctx context.Context, url string) ([]history.Effect, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ctx, stop := context.WithTimeoutCause(ctx, h.total, errTooSlow)
	defer stop()
	stalled := time.AfterFunc(h.stall, func() { cancel(errStalled) })
	defer stalled.Stop()
	body := &progressReader{progress: func() { stalled.Reset(h.stall) }}
	// why is err, or what cut the request short: a bound, or the caller.
	why := func(err error) error {
		if ctx.Err() == nil {
			return err
		}
		switch cause := context.Cause(ctx); cause {
		case errStalled:
			return fmt.Errorf("the service sent nothing for %s (after %d bytes of its answer)", h.stall, body.n)
		case errTooSlow:
			return fmt.Errorf("the service took longer than %s to send its answer (%d bytes so far)", h.total, body.n)
		default:
			return cause
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		var uerr *neturl.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the caller names the URL
		}
		return nil, why(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("%s: %q", resp.Status, strings.TrimSpace(string(b)))
	}
	body.r = resp.Body
	effs, err := decodeEffects(body, h.limits)
	if err != nil {
		return nil, why(err)
	}
	return effs, nil
}

// The bounds of an answer's time, as the causes of its request's end.
var (
	errStalled = errors.New("stalled")
	errTooSlow = errors.New("too slow")
)

// progressReader counts what it reads and calls progress on every read that
// returns bytes.
type progressReader struct {
	r        io.Reader
	n        int64
	progress func()
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.n += int64(n)
		p.progress()
	}
	return n, err
}

// converge polls every service's state until each read view equals its write view and
// every operation the service knows has settled (history.Settled), or until the
// deadline. Every poll is recorded as a snapshot (state effects with a time),
// so the converges checker can judge the time to converge from the records alone.
func (o *observer) converge(ctx context.Context, start time.Time, heal time.Time, deadline time.Duration, every time.Duration, rec *history.Writer) (*reports.Converge, error) {
	c := &reports.Converge{}
	o.quiet = nil
	stop := time.Now().Add(deadline)
	var lastErr error
	nextNote := time.Now().Add(2 * time.Second)
	for {
		agree := true
		var waiting []string // what this poll found unfinished, for the progress note
		seen := keyStates{}
		for _, svc := range o.services {
			effs, err := o.fetch(ctx, svc, true)
			if err != nil {
				lastErr, agree = err, false
				waiting = append(waiting, err.Error())
				continue
			}
			statesOf(effs, seen)
			t := history.Since(start)
			states := map[string]map[string]*history.Effect{}
			unsettled, first := 0, ""
			for _, e := range effs {
				if e.Kind == history.KindOperation && !history.Settled(e.State) {
					// Quiet means no operation is still on its way, too.
					agree = false
					if unsettled++; first == "" {
						first = e.ID + " " + e.State
					}
				}
				if e.Kind != history.KindState {
					continue // operation states; or the endpoint ignored the filter
				}
				e.Time = t
				if err := rec.Write(e); err != nil {
					return c, err
				}
				if states[e.View] == nil {
					states[e.View] = map[string]*history.Effect{}
				}
				if e.Value != nil {
					states[e.View][e.Key] = &e
				}
			}
			if unsettled > 0 {
				waiting = append(waiting, fmt.Sprintf("%s: %d operation(s) not settled (first: %s)", svc, unsettled, first))
			}
			if !o.sources[svc].reportsStates() || o.ledgers[svc] {
				continue
			}
			if d := statesDiffer(states); d != "" {
				agree = false
				waiting = append(waiting, svc+": "+d)
			}
		}
		c.Polls++
		if !agree && o.progress != nil && time.Now().After(nextNote) {
			o.progress("still waiting: %s", strings.Join(waiting, "; "))
			nextNote = time.Now().Add(2 * time.Second)
		}
		if agree {
			c.Converged = true
			c.After = time.Since(heal)
			o.quiet = seen
			return c, nil
		}
		if time.Now().After(stop) {
			if lastErr != nil {
				return c, lastErr
			}
			return c, nil
		}
		select {
		case <-ctx.Done():
			return c, ctx.Err()
		case <-time.After(every):
		}
	}
}

// statesDiffer describes the first difference between a read view and the write
// view ("" when every read view equals the write view).
func statesDiffer(views map[string]map[string]*history.Effect) string {
	w := views[history.WriteView]
	if w == nil {
		return "no write view yet"
	}
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for name, r := range views {
		if name == history.WriteView {
			continue
		}
		for _, k := range keys {
			if !history.SameState(r[k], w[k]) {
				return fmt.Sprintf("%s is %s in the write model, %s in the %s model", k, history.StateString(w[k]), history.StateString(r[k]), name)
			}
		}
		if len(r) != len(w) {
			return fmt.Sprintf("the %s model has %d keys, the write model %d", name, len(r), len(w))
		}
	}
	return ""
}

// observeAll reads the final observation of every service (records without a
// time). A service tells when it applied an effect on its own clock (Unix ns); the
// records carry it on the run clock, which started at start.
func (o *observer) observeAll(ctx context.Context, start time.Time) ([]history.Effect, error) {
	var out []history.Effect
	for _, svc := range o.services {
		effs, err := o.fetch(ctx, svc, false)
		if err != nil {
			return nil, err
		}
		for _, e := range effs {
			e.Time = 0
			if e.At != 0 {
				e.At -= start.UnixNano()
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// unsettled counts the operations an observation shows not settled, and names the
// first: a request the network delivered late (a proxy that held it while its replica
// restarted) can create one after the system looked quiet.
func unsettled(effs []history.Effect) (n int, first string) {
	for _, e := range effs {
		if e.Kind == history.KindOperation && !history.Settled(e.State) {
			if n++; first == "" {
				first = e.ID + " " + e.State
			}
		}
	}
	return n, first
}
