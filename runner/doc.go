// Package runner runs one scenario end to end: it brings the testbed up, drives the
// workload while the chaos scheduler applies the fault timeline on the same clock, heals
// everything, waits for the read models to converge, observes the effects, checks the
// invariants and writes the run directory. It is the only package that knows all the
// others, and it is usable from a user's own `go test` as well as from the CLI.
//
// A run directory holds plan.json, history.jsonl, faults.jsonl, effects.jsonl,
// result.json, junit.xml and logs/; Check re-judges a recorded run offline.
package runner
