// Package scenarios is mscli's scenario format: a YAML file that names a system under
// test, a workload, a timeline of faults (written by hand, drawn by a nemesis from a seed,
// or both) and the invariants that must hold.
//
// The flow is Load/Parse → Scenario → Scenario.Plan(seed) → Plan. Loading checks the
// whole file and reports every problem at once, each as "file:line:col: message" (an
// ErrorList), because a scenario is written by hand and a fix-one-rerun loop is slow.
// Planning resolves everything a run needs — the topology with all its links, the
// workload, every fault with its target and all its parameters, the invariants — and is
// deterministic: the same file and seed give a byte-identical Plan.JSON. Timing in a real
// network still varies, so the plan, not the outcome of a run, is what a seed reproduces.
//
// The package knows only the format: it imports nothing else of mscli, so the runner,
// the command line and users' own go tests can all use it.
//
// Built-in scenarios live in catalog/*.yaml and are embedded (Catalog, Find); the JSON
// Schema of the format is schema.json (Schema); docs/scenarios.md documents the format.
package scenarios
