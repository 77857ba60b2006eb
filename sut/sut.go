// Package sut declares the handles of a running system under test: its processes
// (Node) and the proxied network paths between them (Link). A testbed implements them;
// the faults in chaos and the runner act through them. Declared once here, a leaf, so
// that neither chaos nor the testbeds import the other (chaos.Node and testbed.Node
// are these types).
package sut

import "context"

// Link is one proxied network path, in toxiproxy's terms: toxics with a type, a stream
// ("upstream" is from→to, "downstream" to→from), a toxicity and attributes as in
// toxiproxy's JSON API; disabling the proxy closes its listener and every connection.
// Implementations must be comparable (pointers), since faults keep per-link state.
type Link interface {
	Name() string
	AddToxic(ctx context.Context, name, typ, stream string, toxicity float32, attrs map[string]any) error
	RemoveToxic(ctx context.Context, name string) error
	SetEnabled(ctx context.Context, enabled bool) error
}

// Node is one process of the system under test. Start waits until the node is ready
// and does nothing when it already runs; Stop is graceful and does nothing when the
// node is not running; Kill is kill -9; Pause and Resume freeze and thaw it (Resume of
// a node that is not paused does nothing).
type Node interface {
	Name() string
	Kill(ctx context.Context) error
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
}
