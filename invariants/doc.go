// Package invariants checks a recorded run — its operation history, its fault records
// and the effects the services reported — and returns a three-valued verdict per
// invariant: pass, fail with witnesses (the operation ids, their history lines and the
// faults active at the time), or unknown when a checker could not decide (it ran out of
// time, or the run recorded nothing to judge). Unknown is never reported as pass.
//
// Checkers are registered by name, so a scenario names the invariants it wants and a
// user can add their own (Register). Every checker works on one Index built once per
// check, so checking a history of a million operations stays linear.
//
// A checker outside this package reads the Index through its exported, read-only API:
// the operations (Index.Ops, Index.Lookup), each view's applied effects and final
// states (Index.Views, View.Effects, View.State, View.OpState) and the faults active
// over a span (Index.ActiveFaults). It builds witnesses with Index.OpWitness or
// Index.EffectWitness and returns NewResult(violations, checked, witnesses, what) —
// unknown, never pass, when nothing was checked — or UnknownResult of
// Index.MissingViews when a view it needs was never observed, as the built-ins do.
// Register it from an init function and name it in a Spec.
package invariants
