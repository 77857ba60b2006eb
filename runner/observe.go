package runner

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/reports"
)

// observer reads services' effects endpoints directly (not through the proxies), trying
// each replica of a service until one answers: any replica reports the whole service.
type observer struct {
	client *http.Client
	// urls maps a service to its replicas' effects URLs.
	urls     map[string][]string
	services []string // sorted, so records come out in a stable order
	// progress, if set, hears what a long wait is waiting for.
	progress func(format string, args ...any)
}

func newObserver(urls map[string][]string) *observer {
	o := &observer{client: &http.Client{Timeout: 5 * time.Second}, urls: urls}
	for s := range urls {
		o.services = append(o.services, s)
	}
	sort.Strings(o.services)
	return o
}

// fetch returns one service's effects, optionally filtered by query ("kind=state").
func (o *observer) fetch(ctx context.Context, service, query string) ([]history.Effect, error) {
	var errs []string
	for _, u := range o.urls[service] {
		if query != "" {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + query
		}
		effs, err := o.get(ctx, u)
		if err == nil {
			return effs, nil
		}
		errs = append(errs, err.Error())
	}
	return nil, fmt.Errorf("observe %s: no replica answered: %s", service, strings.Join(errs, "; "))
}

func (o *observer) get(ctx context.Context, url string) ([]history.Effect, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(b)))
	}
	return history.Read[history.Effect](resp.Body)
}

// converge polls every service's state until each read view equals its write view and
// every operation the service knows has settled (history.Settled), or until the
// deadline. Every poll is recorded as a snapshot (state effects with a time),
// so the converges checker can judge the time to converge from the records alone.
func (o *observer) converge(ctx context.Context, start time.Time, heal time.Time, deadline time.Duration, every time.Duration, rec *history.Writer) (*reports.Converge, error) {
	c := &reports.Converge{}
	stop := time.Now().Add(deadline)
	var lastErr error
	nextNote := time.Now().Add(2 * time.Second)
	for {
		agree := true
		var waiting []string // what this poll found unfinished, for the progress note
		for _, svc := range o.services {
			effs, err := o.fetch(ctx, svc, "kind=state&kind=operation")
			if err != nil {
				lastErr, agree = err, false
				waiting = append(waiting, err.Error())
				continue
			}
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
		effs, err := o.fetch(ctx, svc, "")
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
