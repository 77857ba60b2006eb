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
