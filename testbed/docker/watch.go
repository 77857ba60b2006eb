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
// answer within watchTimeout; watchMisses missed answers in a row, or mscli's toxiproxy
// container found stopped (an engine that restarted stops its containers), lose the
// testbed (Lost).
const (
	watchEvery   = time.Second
	watchTimeout = 2 * time.Second
	watchMisses  = 2
	// downRetry is how often Down asks an engine that does not answer again, to
	// remove the run's containers once it does.
	downRetry = time.Second
)

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

// watchEngine starts the engine's watch; Down stops it.
func (e *Env) watchEngine() {
	e.watch.once.Do(e.watch.init)
	go func() {
		tick := time.NewTicker(watchEvery)
		defer tick.Stop()
		misses := 0
		for {
			select {
			case <-e.watch.stop:
				return
			case <-tick.C:
			}
			err := e.check()
			if err == nil {
				misses = 0
				continue
			}
			var stopped *toxiStopped
			if misses++; misses < watchMisses && !errors.As(err, &stopped) {
				continue
			}
			e.watch.lost <- err
			return
		}
	}()
}

// toxiStopped is the watch's finding that mscli's toxiproxy container no longer runs.
type toxiStopped struct{ status string }

func (t *toxiStopped) Error() string {
	return fmt.Sprintf("docker: the toxiproxy container of the run is %s: every link is gone (did the Docker engine restart?)", t.status)
}

// check asks the engine to answer, and whether the toxiproxy container still runs.
func (e *Env) check() error {
	ctx, cancel := context.WithTimeout(context.Background(), watchTimeout)
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
// `mscli clean`).
func (e *Env) removeAll(ctx context.Context) error {
	said := false
	for {
		err := e.ping(ctx)
		if err == nil {
			e.saveLogs(ctx)
			if _, err = e.eng.removeRun(ctx, e.opts.RunID); err == nil {
				return nil
			}
			if e.ping(ctx) == nil {
				return err // the engine answers: a failure of its own
			}
		}
		if !said {
			said = true
			e.opts.Progressf("the Docker engine does not answer: removing the run's containers once it does")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; the run's containers are left behind: 'mscli clean' removes them once the engine answers", err)
		case <-time.After(downRetry):
		}
	}
}
