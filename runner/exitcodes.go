package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/scenarios"
)

// ExitCode is what the mscli process returns. It is the CI gate's contract: one table,
// used by every command (DESIGN §8).
type ExitCode int

// The exit codes.
const (
	ExitOK           ExitCode = 0   // all invariants hold, every planned fault applied and healed
	ExitViolated     ExitCode = 1   // an invariant was violated
	ExitInconclusive ExitCode = 2   // a checker returned unknown, or a planned fault failed to apply or heal
	ExitCouldNotRun  ExitCode = 3   // testbed or infrastructure error
	ExitInvalidInput ExitCode = 4   // invalid scenario or flags
	ExitInterrupted  ExitCode = 130 // ^C
)

// ExitCodes describes each code, for help text and docs.
var ExitCodes = []struct {
	Code    ExitCode
	Meaning string
}{
	{ExitOK, "all invariants hold, with every planned fault applied and healed"},
	{ExitViolated, "an invariant was violated"},
	{ExitInconclusive, "inconclusive: a checker returned unknown, or a planned fault failed to apply or heal"},
	{ExitCouldNotRun, "could not run: testbed or infrastructure error"},
	{ExitInvalidInput, "invalid input: scenario or flags"},
	{ExitInterrupted, "interrupted (^C)"},
}

// Error carries an exit code with an error.
type Error struct {
	Code ExitCode
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// InvalidInput marks an error as bad input (exit 4).
func InvalidInput(format string, args ...any) error {
	return &Error{Code: ExitInvalidInput, Err: fmt.Errorf(format, args...)}
}

// CouldNotRun marks an error as an infrastructure failure (exit 3).
func CouldNotRun(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: ExitCouldNotRun, Err: err}
}

// CodeOf maps an error to its exit code: nil is 0, a scenario's errors are invalid
// input, a cancelled context is an interrupt, anything else could not run.
func CodeOf(err error) ExitCode {
	if err == nil {
		return ExitOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var el scenarios.ErrorList
	if errors.As(err, &el) {
		return ExitInvalidInput
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	return ExitCouldNotRun
}

// CodeOfVerdict maps a run's verdict (reports.Verdict: fail > unknown > pass, a failed
// planned fault being unknown) to its exit code.
func CodeOfVerdict(v invariants.Verdict) ExitCode {
	return invariants.ByVerdict(v, ExitOK, ExitViolated, ExitInconclusive)
}

// Precedence orders the exit codes from worst to best, for a suite of runs, whose exit
// code is its worst run's: an interrupt, then input that could not be run at all, then a
// violated invariant (a finding outranks the lack of one), then a run that could not
// complete, then an inconclusive one, then a pass.
var Precedence = []ExitCode{ExitInterrupted, ExitInvalidInput, ExitViolated, ExitCouldNotRun, ExitInconclusive, ExitOK}

// Worst is the worst of codes by Precedence (ExitOK for none); a code outside the table
// counts as could not run.
func Worst(codes ...ExitCode) ExitCode {
	rank := func(c ExitCode) int {
		for i, p := range Precedence {
			if c == p {
				return i
			}
		}
		return slices.Index(Precedence, ExitCouldNotRun)
	}
	worst := ExitOK
	for _, c := range codes {
		if rank(c) < rank(worst) {
			worst = c
		}
	}
	return worst
}
