package runner

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// Watched is a System whose infrastructure can fail under a running system (the
// docker testbed's engine): Lost delivers, at most once, why the testbed can no
// longer be trusted. The runner then stops the run where it is, and the run could
// not run (exit 3) with that cause, as it would had the testbed failed to start.
type Watched interface {
	Lost() <-chan error
}

// errLost marks a run context cancelled by the testbed's loss (watchLost), so that it
// is told from an interrupt.
type errLost struct{ err error }

func (e *errLost) Error() string { return e.err.Error() }
func (e *errLost) Unwrap() error { return e.err }

// watchLost returns a context cancelled with the testbed's loss when sys reports one,
// and the function that stops watching (and cancels that context); it may be called
// more than once.
func watchLost(ctx context.Context, sys System) (context.Context, func()) {
	w, ok := sys.(Watched)
	if !ok {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		select {
		case err := <-w.Lost():
			if err != nil {
				cancel(&errLost{err})
			}
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() { once.Do(func() { close(done); cancel(nil) }) }
}

// stopped is the error of a run whose context ended: the testbed's loss (could not
// run), or the interrupt or deadline it was.
func stopped(ctx context.Context) error {
	var lost *errLost
	if errors.As(context.Cause(ctx), &lost) {
		return CouldNotRun(lost.err)
	}
	return ctx.Err()
}

// markCutShort records in the result that the run did not complete: its error, a
// verdict that is never a pass, and why its records are partial (Incomplete), which
// `mscli check` repeats.
func markCutShort(res *reports.Run, err error) {
	res.Error = err.Error()
	if res.Verdict == invariants.Pass || res.Verdict == "" {
		res.Verdict = invariants.Unknown // checks of what was recorded before it stopped
	}
	if res.Incomplete == "" {
		res.Incomplete = cutShort(res.Error)
	}
}

// cutShort is Incomplete for a run that stopped with the error msg: its first line.
func cutShort(msg string) string {
	first, _, _ := strings.Cut(msg, "\n")
	return "the run was cut short and its records are partial; it could not complete: " + first
}
