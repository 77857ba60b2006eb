package runner

import (
	"strings"

	"github.com/mscli/mscli/plan"
)

// CheckBugs refuses --inject-bug names that no service of the plan declares.
func CheckBugs(pl *plan.Plan, bugs []string) error {
	known := map[string]bool{}
	var all []string
	for _, s := range pl.Topology.Services {
		for _, b := range s.KnownBugs() {
			if !known[b.Name] {
				known[b.Name] = true
				all = append(all, b.Name)
			}
		}
	}
	for _, b := range bugs {
		if !known[b] {
			return InvalidInput("--inject-bug %q: no service of scenario %s knows that bug; known: %s",
				b, pl.Scenario, strings.Join(all, ", "))
		}
	}
	return nil
}
