package docker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// The engine's watch while a run uses the testbed: every watchEvery it is asked to
// answer within watchTimeout. It loses the testbed (Lost) when its socket refuses
// watchMisses times in a row (an engine that stopped), when it has not answered for
// watchSilence (one that hangs), or at once when mscli's toxiproxy container is found
// stopped (an engine that restarted stops its containers). An answer that is merely
// slow is no loss: a busy engine on a loaded machine can take seconds to answer.
const (
	watchEvery   = time.Second
	watchTimeout = 10 * time.Second
	watchMisses  = 2
	// downRetry is how often Down asks an engine that does not answer again, to
	// remove the run's containers once it does; downAsk bounds each ask.
	downRetry = time.Second
	downAsk   = 10 * time.Second
)

// watchSilence is how long an engine that accepts but does not answer is waited for
// (a variable: a test shortens it).
var watchSilence = 30 * time.Second

// watch is the engine's watch of one testbed.
type watch struct {
	once sync.Once
	lost chan error // buffered: the one loss
	stop chan struct{}
}

// Lost delivers, at most once, why the testbed was lost while it ran: the Docker
// engine stopped answering, or its containers were stopped under it (runner.Watched).
func (e *Env) Lost() <-chan error {
	e.watch.once.Do(e.watch.init)
	return e.watch.lost
}

func (w *watch) init() {
	w.lost = make(chan error, 1)
	w.stop = make(chan struct{})
}

// engineHealth is what the watch has seen of the engine: the refusals in a row, and
// when it last answered.
type engineHealth struct {
	refused  int
	answered time.Time
}

// lost takes the outcome of one check at now and reports whether the testbed is lost.
func (h *engineHealth) lost(err error, now time.Time) bool {
	var stopped *toxiStopped
	switch {
	case err == nil:
		h.refused, h.answered = 0, now
		return false
	case errors.As(err, &stopped):
		return true
	case errors.Is(err, context.DeadlineExceeded): // slow, or hung: only a long silence
		return now.Sub(h.answered) >= watchSilence
	default: // refused, reset: the engine is not there
		h.refused++
		return h.refused >= watchMisses
	}
}

// watchEngine starts the engine's watch; Down stops it.
func (e *Env) watchEngine() {
	e.watch.once.Do(e.watch.init)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-e.watch.stop; cancel() }()
	go func() {
		tick := time.NewTicker(watchEvery)
		defer tick.Stop()
		h := engineHealth{answered: time.Now()}
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			err := e.check(ctx)
			if ctx.Err() != nil {
				return // stopped (Down) while it asked: no loss
			}
			if h.lost(err, time.Now()) {
				e.watch.lost <- err
				return
			}
		}
	}()
}

// toxiStopped is the watch's finding that mscli's toxiproxy container no longer runs.
type toxiStopped struct{ status string }

func (t *toxiStopped) Error() string {
	return fmt.Sprintf("docker: the toxiproxy container of the run is %s: every link is gone (did the Docker engine restart?)", t.status)
}

// check asks the engine to answer within watchTimeout, and whether the toxiproxy
// container still runs.
func (e *Env) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, watchTimeout)
	defer cancel()
	if err := e.ping(ctx); err != nil {
		return err
	}
	if e.toxi == nil || e.toxi.c == nil {
		return nil
	}
	st, err := e.toxi.c.State(ctx)
	if err != nil {
		return fmt.Errorf("docker: the Docker engine stopped answering: %w", err)
	}
	if !st.Running {
		return &toxiStopped{status: string(st.Status)}
	}
	return nil
}

// ping asks the engine to answer within ctx.
func (e *Env) ping(ctx context.Context) error {
	if _, err := e.eng.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("docker: the Docker engine stopped answering: %w", err)
	}
	return nil
}

// pingWithin asks the engine to answer within d (and ctx).
func (e *Env) pingWithin(ctx context.Context, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return e.ping(ctx)
}

// stopWatch ends the engine's watch.
func (e *Env) stopWatch() {
	e.watch.once.Do(e.watch.init)
	select {
	case <-e.watch.stop:
	default:
		close(e.watch.stop)
	}
}

// removeAll saves the nodes' logs and removes every resource of the run. An engine
// that does not answer is asked again every downRetry until it does or ctx ends (a
// restarting engine comes back: the run's containers are then removed, not left for
// `mscli clean`) — unless the run was interrupted (the context Up was given is done,
// by a ^C before Down or during its wait): whoever pressed ^C does not wait for an
// engine that is gone.
func (e *Env) removeAll(ctx context.Context) error {
	said := false
	for {
		err := e.pingWithin(ctx, downAsk)
		if err == nil {
			e.saveLogs(ctx)
			if _, err = e.eng.removeRun(ctx, e.opts.RunID); err == nil {
				return nil
			}
			if e.pingWithin(ctx, downAsk) == nil {
				return err // the engine answers: a failure of its own
			}
		}
		left := fmt.Errorf("%w; the run's containers are left behind: 'mscli clean' removes them once the engine answers", err)
		if isDone(e.interrupt) {
			return left
		}
		if !said {
			said = true
			e.opts.Progressf("the Docker engine does not answer: removing the run's containers once it does (^C stops waiting)")
		}
		select {
		case <-ctx.Done():
			return left
		case <-e.interrupt:
			return left
		case <-time.After(downRetry):
		}
	}
}

// isDone reports whether ch is closed (a nil ch never is).
func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
