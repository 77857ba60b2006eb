// Package chaos injects the faults of a plan into a running testbed: link faults through
// toxiproxy toxics, node faults (kill -9, pause, restart), data faults (snapshot, wipe and
// restore) and message faults (duplicate delivery on a JetStream stream).
//
// A fault kind is one file: its declaration (plan.FaultKind: target, parameters, the
// targets it acts on per testbed) and a one-method Fault, registered together by
// Register, the way toxiproxy registers its toxics; extra capability comes through
// optional interfaces (Lasting here, DataNode on nodes). Env is what the faults need
// from a testbed, declared here and satisfied without importing chaos; its nodes and
// links are package sut's handles, which the testbeds implement. The
// Scheduler applies a timeline on the run clock, writes a start and a stop record for
// every fault and always heals what it broke — at the end, on error and on ^C.
package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/mscli/mscli/internal/registry"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/sut"
)

// Heal undoes a fault. It is called once, with a context that is still live even when
// the run was interrupted.
type Heal func(ctx context.Context) error

// Fault applies one kind of fault to a testbed. Apply returns once the fault is in
// place; the Heal it returns (nil for a fault with nothing to undo, such as a snapshot)
// is called when the fault's window ends. When Apply fails half-way it returns the
// error together with a Heal for what it did, so the scheduler can still undo it.
type Fault interface {
	Apply(ctx context.Context, env Env, f plan.Fault) (Heal, error)
}

// FaultFunc adapts a function to the Fault interface.
type FaultFunc func(ctx context.Context, env Env, f plan.Fault) (Heal, error)

// Apply calls fn.
func (fn FaultFunc) Apply(ctx context.Context, env Env, f plan.Fault) (Heal, error) {
	return fn(ctx, env, f)
}

// Lasting is implemented by faults whose window comes from a parameter instead of the
// fault's `for` (kill heals — restarts the node — after `restart-after`).
type Lasting interface {
	Lasts(f plan.Fault) (time.Duration, error)
}

// Env is what the faults need from a testbed.
type Env interface {
	// Links resolves a link name to its proxies: "client->bank" is one proxy per bank
	// replica, "bank/1->broker" a single one.
	Links(target string) ([]Link, error)
	// Nodes resolves a node name ("broker", "bank/0", "bank-db"; a service name is
	// every replica of it).
	Nodes(target string) ([]Node, error)
	// BrokerURL is the broker's address for the harness itself, not through a proxy.
	BrokerURL() string
}

// Link is one proxied network path (sut.Link).
type Link = sut.Link

// Node is one process of the system under test (sut.Node).
type Node = sut.Node

// DataNode is the optional interface of nodes whose data can be lost and restored.
type DataNode interface {
	// Snapshot copies the node's data aside under name.
	Snapshot(ctx context.Context, name string) error
	// Wipe loses the node's data; with restore != "" it puts back that snapshot.
	// Processes that use the data are stopped and started again around it.
	Wipe(ctx context.Context, restore string) error
}

var faults = registry.New[Fault]("chaos: fault")

// Register makes a fault kind available: its declaration, which scenarios validate and
// plan against (plan.LookupFaultKind), and f, which applies it. It panics when the name
// is taken or f is nil, as database/sql.Register does: registrations happen in init
// and a clash is a bug.
func Register(kind plan.FaultKind, f Fault) {
	faults.RegisterWith(kind.Name, f, func() { plan.RegisterFaultKind(kind) })
}

// kindOf returns the declaration of a fault's kind.
func kindOf(f plan.Fault) plan.FaultKind {
	k, _ := plan.LookupFaultKind(f.Kind)
	return k
}

// Lookup returns the fault registered under name.
func Lookup(name string) (Fault, bool) { return faults.Lookup(name) }

// Apply applies one fault now, outside a Scheduler's timeline (a test, a tool): it
// looks its kind up and returns what heals it (nil for an instantaneous kind).
func Apply(ctx context.Context, env Env, f plan.Fault) (Heal, error) {
	fault, ok := Lookup(f.Kind)
	if !ok {
		return nil, fmt.Errorf("chaos: no fault kind %q (registered: %v)", f.Kind, faults.Names())
	}
	return fault.Apply(ctx, env, f)
}

// Names lists the registered faults, sorted.
func Names() []string { return faults.Names() }
