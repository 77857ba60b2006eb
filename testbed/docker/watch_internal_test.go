package docker

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/mscli/mscli/testbed"
)

// What stands for the Docker engine's socket in these tests: the watch's logic is
// what they are about (the real engine, going away mid-run, is cmd/mscli's
// TestInfraDockerEngineGoesAway). answer is how long each ping waits for its answer
// (-1: never); the socket refuses once closed.
type fakeEngine struct {
	path string
	ln   net.Listener
	srv  *http.Server
}

func newFakeEngine(t *testing.T, answer time.Duration) *fakeEngine {
	t.Helper()
	dir, err := os.MkdirTemp("", "mscli-watch-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &fakeEngine{path: filepath.Join(dir, "docker.sock")}
	if f.ln, err = net.Listen("unix", f.path); err != nil {
		t.Fatal(err)
	}
	f.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if answer < 0 {
			<-r.Context().Done()
			return
		}
		select {
		case <-time.After(answer):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Api-Version", "1.41")
		w.WriteHeader(http.StatusOK)
	})}
	go f.srv.Serve(f.ln)
	t.Cleanup(f.close)
	return f
}

func (f *fakeEngine) close() { f.srv.Close(); os.Remove(f.path) }

// env is an Env of no container whose engine is f.
func (f *fakeEngine) env(t *testing.T) *Env {
	t.Helper()
	c, err := client.New(client.WithHost("unix://"+f.path), client.WithAPIVersion("1.41"))
	if err != nil {
		t.Fatal(err)
	}
	return &Env{eng: &engine{&testcontainers.DockerClient{Client: c}}, opts: testbed.Options{RunID: "watch-test"}.WithDefaults()}
}

func lostWithin(e *Env, d time.Duration) error {
	select {
	case err := <-e.Lost():
		return err
	case <-time.After(d):
		return nil
	}
}

// An engine that answers, if slowly (seconds: a busy engine on a loaded machine), is
// not lost: a false loss ends a sound run with exit 3.
func TestWatchSlowEngineIsNotLost(t *testing.T) {
	e := newFakeEngine(t, 2500*time.Millisecond).env(t)
	e.watchEngine()
	defer e.stopWatch()
	if err := lostWithin(e, 9*time.Second); err != nil {
		t.Fatalf("an engine answering every ping in 2.5s was lost: %v", err)
	}
}

// An engine whose socket refuses is lost after two refusals in a row, at once.
func TestWatchRefusingEngineIsLost(t *testing.T) {
	f := newFakeEngine(t, 0)
	e := f.env(t)
	e.watchEngine()
	defer e.stopWatch()
	if err := lostWithin(e, 2*time.Second); err != nil {
		t.Fatalf("an engine that answers was lost: %v", err)
	}
	f.close()
	err := lostWithin(e, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "the Docker engine stopped answering") {
		t.Fatalf("an engine that refuses: %v", err)
	}
}

// An engine that accepts but never answers is lost after watchSilence, and a watch
// stopped meanwhile reports nothing.
func TestWatchHungEngineIsLost(t *testing.T) {
	defer func(d time.Duration) { watchSilence = d }(watchSilence)
	watchSilence = 3 * time.Second
	e := newFakeEngine(t, -1).env(t)
	e.watchEngine()
	err := lostWithin(e, time.Minute)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("an engine that never answers: %v", err)
	}

	e = newFakeEngine(t, -1).env(t)
	e.watchEngine()
	time.Sleep(1500 * time.Millisecond) // a ping under way
	e.stopWatch()
	if err := lostWithin(e, 5*time.Second); err != nil {
		t.Fatalf("a stopped watch reported a loss: %v", err)
	}
}

func TestEngineHealth(t *testing.T) {
	now := time.Now()
	h := engineHealth{answered: now}
	slow := context.DeadlineExceeded
	refused := errors.New("connection refused")
	for i, c := range []struct {
		err  error
		at   time.Duration
		lost bool
	}{
		{slow, 10 * time.Second, false},
		{slow, 20 * time.Second, false},
		{nil, 21 * time.Second, false},
		{slow, 50 * time.Second, false}, // 29s since the last answer
		{refused, 51 * time.Second, false},
		{nil, 52 * time.Second, false}, // the refusals in a row start again
		{refused, 53 * time.Second, false},
		{slow, 54 * time.Second, false},
		{refused, 55 * time.Second, true},
	} {
		if got := h.lost(c.err, now.Add(c.at)); got != c.lost {
			t.Fatalf("step %d (%v at %s): lost %v", i, c.err, c.at, got)
		}
	}
	h = engineHealth{answered: now}
	if !h.lost(slow, now.Add(watchSilence)) {
		t.Error("no answer for watchSilence is no loss")
	}
	h = engineHealth{answered: now}
	if !h.lost(&toxiStopped{status: "exited"}, now) {
		t.Error("the toxiproxy container stopped is no loss")
	}
}

// Down after a ^C does not wait for an engine that is gone: it says the containers are
// left for mscli clean at once, not after a minute of asking.
func TestDownAfterInterruptDoesNotWait(t *testing.T) {
	f := newFakeEngine(t, 0)
	e := f.env(t)
	f.close()
	interrupted := make(chan struct{})
	close(interrupted)
	e.interrupt = interrupted
	began := time.Now()
	err := e.Down(context.Background())
	if err == nil || !strings.Contains(err.Error(), "mscli clean") {
		t.Fatalf("Down of an engine that is gone: %v", err)
	}
	if took := time.Since(began); took > 30*time.Second {
		t.Errorf("Down after a ^C waited %s for an engine that is gone", took.Round(time.Second))
	}
}

// A ^C during Down's wait for an engine that is gone ends the wait.
func TestDownWaitEndsOnInterrupt(t *testing.T) {
	f := newFakeEngine(t, 0)
	e := f.env(t)
	f.close()
	interrupt := make(chan struct{})
	e.interrupt = interrupt
	waiting := make(chan struct{})
	e.opts.Progress = func(ev testbed.Event) {
		if strings.Contains(ev.Msg, "removing the run's containers once it does") {
			close(waiting)
		}
	}
	done := make(chan error, 1)
	go func() { done <- e.Down(context.Background()) }()
	select {
	case <-waiting:
	case err := <-done:
		t.Fatalf("Down did not wait for the engine: %v", err)
	}
	close(interrupt)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "mscli clean") {
			t.Fatalf("Down: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a ^C did not end Down's wait for the engine")
	}
}
