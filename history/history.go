// Package history holds the records every part of mscli exchanges: operations the
// workload invoked and their outcomes, faults the scheduler started and healed, and
// effects the system under test says it applied. It is the contract between the
// workload, the chaos scheduler, the checkers and users' own services, so it is a leaf
// package with a JSON Lines codec and nothing else.
//
// Field names are the contract: more fields may be added, none renamed.
package history

import (
	"encoding/json"
	"fmt"
	"time"
)

// OpType is the kind of an operation record.
type OpType string

// The four operation record types, Jepsen-style. Every operation has one Invoke and at
// most one completion (Ok, Fail or Info).
const (
	// Invoke is written before a client sends the operation.
	Invoke OpType = "invoke"
	// Ok means the system acknowledged the operation: from then on it owes exactly one
	// effect or a recorded rejection.
	Ok OpType = "ok"
	// Fail means the operation definitely did not and will not take effect.
	Fail OpType = "fail"
	// Info means the outcome is unknown (timeout, reset): it may or may not take effect.
	Info OpType = "info"
)

// Op is one line of history.jsonl.
type Op struct {
	Index   int64           `json:"i"`
	Time    int64           `json:"t"` // nanoseconds since the run's start
	Process int             `json:"proc"`
	Type    OpType          `json:"type"`
	F       string          `json:"f"`
	Key     string          `json:"key,omitempty"`
	ID      string          `json:"id,omitempty"`
	Value   json.RawMessage `json:"value,omitempty"`
	// Error is the error of the last attempt of a fail or info completion.
	Error string `json:"error,omitempty"`
	// Attempts is how many requests the client sent for this completion (retries + 1).
	Attempts int `json:"attempts,omitempty"`
	// Errors holds every distinct error the attempts met (seed 002's retry loop keeps them).
	Errors []string `json:"errors,omitempty"`
	// Status is the HTTP status of the last attempt's answer, on a completion of a
	// workload that records it (the gateway's); 0 when no answer came.
	Status int `json:"status,omitempty"`
	// Source says who answered a request sent to a gateway, as its Answer header
	// told: the dependency behind it, a fallback, or an open circuit breaker.
	Source string `json:"source,omitempty"`
}

// Sources of an answer (Op.Source): the gateway forwarded the request and relays
// the dependency's answer, answered it from a fallback (a cached read), or refused it
// at once because the dependency's circuit breaker is open.
const (
	SourceUpstream = "upstream"
	SourceFallback = "fallback"
	SourceBreaker  = "breaker"
)

// AnswerHeader is the response header a gateway names the Source of its answer in.
const AnswerHeader = "Mscli-Answer"

// FRead is the `f` of a read through the service's public API: the key it read and,
// on an ok completion, the Observed value. A read asks for no effect; it has no id.
const FRead = "read"

// Observed is the value of an ok read: the key's value and its version (the count of
// events that made it), or neither when the key does not exist.
type Observed struct {
	Value *int64 `json:"value,omitempty"`
	Seq   int64  `json:"seq,omitempty"`
}

// ObservedOf decodes the value of a read's completion.
func ObservedOf(o *Op) (Observed, error) {
	var v Observed
	if len(o.Value) == 0 {
		return v, nil
	}
	err := json.Unmarshal(o.Value, &v)
	return v, err
}

// Phase tells whether a fault record starts or heals a fault.
type Phase string

// Fault phases.
const (
	Start Phase = "start"
	Stop  Phase = "stop"
)

// Fault is one line of faults.jsonl: a fault started or healed.
type Fault struct {
	Time   int64             `json:"t"`
	Phase  Phase             `json:"phase"`
	Fault  string            `json:"fault"`
	Target string            `json:"target"`
	Params map[string]string `json:"params,omitempty"`
	// N is the fault's position in the plan's timeline (0-based): the start and stop
	// records of one planned fault share it, so two overlapping faults of one kind on
	// one target still pair up.
	N int `json:"n"`
	// Error is set when applying or healing the fault failed. A start record with an
	// error is a fault that never took effect.
	Error string `json:"error,omitempty"`
}

// Views of an effect.
const (
	WriteView = "write"
	ReadView  = "read"
)

// Effect kinds with a special meaning; any other kind (debit, credit, …) is an applied
// operation's effect.
const (
	KindState     = "state"
	KindOperation = "operation"
	// KindDeadLetter is a message the service parked on its dead-letter stream, and
	// KindDeadLetterFile one it parked in its dead-letter file (the stream could not
	// take it), whether it is still there or was moved to the stream since: ID names
	// the operation, Reason and Deliveries say why and when.
	KindDeadLetter     = "dead-letter"
	KindDeadLetterFile = "dead-letter-file"
	// KindRedrive is a parked message the service moved back for processing (a
	// re-drive): from then on it must be processed once.
	KindRedrive = "redrive"
	// KindCalls counts the requests a service received, read from its own side: Amount
	// requests arrived in the interval that starts At (one record per interval with
	// any, the service's choice of width, at most a second). What bounded-load reads.
	KindCalls = "calls"
	// KindBreaker is a circuit breaker's change of state at At: Key names the
	// dependency it guards, State is BreakerClosed, BreakerOpen or BreakerHalfOpen.
	KindBreaker = "breaker"
)

// Circuit breaker states (KindBreaker).
const (
	BreakerClosed   = "closed"
	BreakerOpen     = "open"
	BreakerHalfOpen = "half-open"
)

// Applies reports whether an effect of this kind is an applied operation's effect:
// not a state, an operation's state, a dead letter, a re-drive, a count of calls or a
// breaker's change of state.
func Applies(kind string) bool {
	switch kind {
	case KindState, KindOperation, KindDeadLetter, KindDeadLetterFile, KindRedrive, KindCalls, KindBreaker:
		return false
	}
	return true
}

// Operation states reported in KindOperation effects; anything else is pending.
const (
	// StateApplied: the operation took effect exactly once.
	StateApplied = "applied"
	// StateRejected: the service accepted the operation and then refused it by a rule
	// (insufficient funds); it has no effect.
	StateRejected = "rejected"
	// StateAborted: the service never accepted the operation (it answered the client
	// that it did not) and guarantees it will not take effect.
	StateAborted = "aborted"
	// StateDeadLettered: the service gave up on the operation after repeated failures
	// and parked it for a person (a dead-letter queue). It will not change by itself,
	// but it is no outcome: an acknowledged operation left here is lost to the client.
	StateDeadLettered = "dead_lettered"
)

// Terminal reports whether an operation state is final.
func Terminal(state string) bool {
	return state == StateApplied || state == StateRejected || state == StateAborted
}

// Settled reports whether an operation state will not change without a person: a
// final state, or dead-lettered. A run waits for every operation to settle.
func Settled(state string) bool { return Terminal(state) || state == StateDeadLettered }

// Effect is one line of effects.jsonl: something a service says it applied.
//
// An applied operation in the write model: Kind (debit, credit…), Key, ID, Amount, Seq.
// An applied event in a read model: View "read", Key, ID, Amount, Seq, Pos.
// A final value: Kind "state", Key, Value, and Seq where the service counts the events
// that made the value (its version). An operation's final state: Kind "operation", ID,
// State.
//
// Its JSON Schema is effect.schema.json (EffectSchema); docs/effects.md is the contract
// as a service's author meets it.
type Effect struct {
	Service string `json:"service"`
	View    string `json:"view"`
	Kind    string `json:"kind,omitempty"`
	Key     string `json:"key,omitempty"`
	ID      string `json:"id,omitempty"`
	Amount  int64  `json:"amount,omitempty"`
	Seq     int64  `json:"seq,omitempty"`
	Pos     int64  `json:"pos,omitempty"`
	Value   *int64 `json:"value,omitempty"`
	State   string `json:"state,omitempty"`
	// Time is set on read-model snapshots taken while converging (ns since run start).
	Time int64 `json:"t,omitempty"`
	// At is when the effect was applied. A service reports it as Unix nanoseconds of
	// its own clock; the runner maps it onto the run clock (ns since run start) as it
	// records the effect, so a witness can show the faults active when it happened.
	At int64 `json:"at,omitempty"`
	// Saga names the saga (the business transaction across services: an order) an
	// effect is a step of, or the compensation of a step of. Step names the step
	// ("reserve", "charge"); Undo marks the effect as that step's compensation. A
	// service of a saga reports each step and each compensation it applied so; the
	// saga's end is the operation record (kind operation) whose id is the saga.
	Saga string `json:"saga,omitempty"`
	Step string `json:"step,omitempty"`
	Undo bool   `json:"undo,omitempty"`
	// Deliveries is how many times the broker had delivered the message that carried
	// the operation when the service applied it, or dead-lettered it (its first
	// delivery is 1). Replica names the replica that did, "<service>/<n>" as faults
	// name nodes. Reason says why a dead letter was parked.
	Deliveries int    `json:"deliveries,omitempty"`
	Replica    string `json:"replica,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// SameState reports whether two state effects hold the same value at the same version.
// The version matters: a read model a few events behind can hold the write model's
// balance by chance (+12, +32, −44).
func SameState(a, b *Effect) bool {
	return a != nil && b != nil && a.Value != nil && b.Value != nil && *a.Value == *b.Value && a.Seq == b.Seq
}

// StateString describes a state effect's value for a message: "196", "196 at seq 63"
// or "missing".
func StateString(e *Effect) string {
	switch {
	case e == nil || e.Value == nil:
		return "missing"
	case e.Seq != 0:
		return fmt.Sprintf("%d at seq %d", *e.Value, e.Seq)
	default:
		return fmt.Sprint(*e.Value)
	}
}

// Since converts a time since the run's start into a record time.
func Since(start time.Time) int64 { return int64(time.Since(start)) }
