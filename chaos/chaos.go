// Package chaos injects the faults of a plan into a running testbed: link faults through
// toxiproxy toxics, node faults (kill -9, pause, restart), data faults (snapshot, wipe and
// restore) and message faults (duplicate delivery on a JetStream stream).
//
// A fault is a one-method interface plus a registry by name, the way toxiproxy registers
// its toxics; extra capability comes through optional interfaces (Lasting here, DataNode
// on nodes). A testbed's links and nodes are package testbed's Link and Node; Env is
// what the faults need from a whole testbed, satisfied without importing chaos. The
// Scheduler applies a timeline on the run clock, writes a start and a stop record for
// every fault and always heals what it broke — at the end, on error and on ^C.
package chaos

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/mscli/mscli/scenarios"
	"github.com/mscli/mscli/testbed"
)

// Heal undoes a fault. It is called once, with a context that is still live even when
// the run was interrupted.
type Heal func(ctx context.Context) error

// Fault applies one kind of fault to a testbed. Apply returns once the fault is in
// place; the Heal it returns (nil for a fault with nothing to undo, such as a snapshot)
// is called when the fault's window ends. When Apply fails half-way it returns the
// error together with a Heal for what it did, so the scheduler can still undo it.
type Fault interface {
	Apply(ctx context.Context, env Env, f scenarios.Fault) (Heal, error)
}

// FaultFunc adapts a function to the Fault interface.
type FaultFunc func(ctx context.Context, env Env, f scenarios.Fault) (Heal, error)

// Apply calls fn.
func (fn FaultFunc) Apply(ctx context.Context, env Env, f scenarios.Fault) (Heal, error) {
	return fn(ctx, env, f)
}

// Lasting is implemented by faults whose window comes from a parameter instead of the
// fault's `for` (kill heals — restarts the node — after `restart-after`).
type Lasting interface {
	Lasts(f scenarios.Fault) (time.Duration, error)
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

// Link is one proxied network path, in toxiproxy's terms: toxics with a type, a stream
// ("upstream" is from→to, "downstream" to→from), a toxicity and attributes as in
// toxiproxy's JSON API; disabling the proxy closes its listener and every connection.
// Implementations must be comparable (pointers), since faults keep per-link state.
type Link = testbed.Link

// Node is one process of the system under test. Start waits until the node is ready
// and does nothing when it already runs; Stop is graceful and does nothing when the
// node is not running; Kill is kill -9; Pause and Resume freeze and thaw it (Resume of
// a node that is not paused does nothing).
type Node = testbed.Node

// DataNode is the optional interface of nodes whose data can be lost and restored.
type DataNode interface {
	// Snapshot copies the node's data aside under name.
	Snapshot(ctx context.Context, name string) error
	// Wipe loses the node's data; with restore != "" it puts back that snapshot.
	// Processes that use the data are stopped and started again around it.
	Wipe(ctx context.Context, restore string) error
}

var registry = struct {
	sync.RWMutex
	m map[string]Fault
}{m: map[string]Fault{}}

// Register makes a fault available by name. It panics when name is taken or f is nil,
// as database/sql.Register does: registrations happen in init and a clash is a bug.
func Register(name string, f Fault) {
	registry.Lock()
	defer registry.Unlock()
	if f == nil {
		panic("chaos: Register fault is nil")
	}
	if _, dup := registry.m[name]; dup {
		panic("chaos: Register called twice for fault " + name)
	}
	registry.m[name] = f
}

// Lookup returns the fault registered under name.
func Lookup(name string) (Fault, bool) {
	registry.RLock()
	defer registry.RUnlock()
	f, ok := registry.m[name]
	return f, ok
}

// Names lists the registered faults, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// param returns a fault parameter, or its default from scenarios.FaultKinds: plans may
// carry only what the scenario wrote.
func param(f scenarios.Fault, name string) string {
	if v, ok := f.Params[name]; ok {
		return v
	}
	return scenarios.FaultKinds[f.Kind].Params[name].Default
}

func durationParam(f scenarios.Fault, name string) (time.Duration, error) {
	v := param(f, name)
	if v == "" {
		return 0, fmt.Errorf("%s: parameter %q is required", f.Kind, name)
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: parameter %q: %w", f.Kind, name, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s: parameter %q: negative duration %s", f.Kind, name, v)
	}
	return d, nil
}
