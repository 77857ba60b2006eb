// Package timing holds the two waits of a run: a sleep that a context cuts short, and a
// function called on a ticker until it is stopped. It imports nothing of the module.
package timing

import (
	"context"
	"time"
)

// Sleep waits for d and reports whether it did; false if ctx ended first. With d ≤ 0
// it returns at once whether ctx is still live.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Every calls fn with the tick's time every d, from a goroutine of its own, until the
// returned stop is called; stop returns once fn is no longer running, and is called
// once. d must be positive.
func Every(d time.Duration, fn func(now time.Time)) (stop func()) {
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case now := <-t.C:
				fn(now)
			}
		}
	}()
	return func() { close(quit); <-finished }
}
