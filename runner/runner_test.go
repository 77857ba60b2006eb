package runner

import (
	"slices"
	"testing"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
)

// Every invariant a scenario may name has a checker, and every checker can be named.
func TestKnownInvariantsHaveCheckers(t *testing.T) {
	known := slices.Clone(plan.InvariantKindNames())
	slices.Sort(known)
	if got := invariants.Names(); !slices.Equal(got, known) {
		t.Fatalf("checkers %v, scenario format knows %v", got, known)
	}
}

func TestWorst(t *testing.T) {
	for _, c := range []struct {
		in   []ExitCode
		want ExitCode
	}{
		{nil, ExitOK},
		{[]ExitCode{ExitOK, ExitInconclusive}, ExitInconclusive},
		{[]ExitCode{ExitCouldNotRun, ExitInconclusive, ExitOK}, ExitCouldNotRun},
		{[]ExitCode{ExitCouldNotRun, ExitViolated}, ExitViolated},
		{[]ExitCode{ExitViolated, ExitInvalidInput}, ExitInvalidInput},
		{[]ExitCode{ExitInvalidInput, ExitInterrupted, ExitViolated}, ExitInterrupted},
		{[]ExitCode{ExitOK, 77}, 77},
	} {
		if got := Worst(c.in...); got != c.want {
			t.Errorf("Worst(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}
