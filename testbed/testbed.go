// Package testbed holds what every testbed shares: the options of a run's system under
// test, the node and link handles the chaos package consumes (package sut's, so that
// testbeds never import chaos), an in-process toxiproxy server
// whose proxies carry every link, free ports, and readiness polling whose timeout error
// names the node and shows the end of its log.
//
// The testbeds themselves live below — testbed/local runs every node as a child process
// on 127.0.0.1, testbed/docker as a container — and each registers its declaration
// (Testbed: how to bring a plan up, whether it is available here, what clean removes)
// in its own init; --testbed, auto's choice (Auto) and `mscli clean` go through the
// registry.
package testbed

import (
	"fmt"
	"net"
	"time"

	"github.com/mscli/mscli/internal/redact"
	"github.com/mscli/mscli/sut"
)

// Defaults for Options.
const (
	DefaultStartTimeout = 30 * time.Second
	DefaultStopGrace    = 5 * time.Second
)

// Options says how to bring up one run's system under test.
type Options struct {
	// RunID marks every process (and, on docker, resource) of the run, so a cleaner
	// can find leftovers.
	RunID string
	// Dir is the run directory: data/ and logs/ go under it.
	Dir string
	// Binary is the mscli binary whose hidden `fixture` commands are the nodes; ""
	// means the running executable.
	Binary string
	// Bugs are known bugs to switch on in the fixtures (--inject-bug).
	Bugs []string
	// Progress, if set, receives every step as an Event: a node's change of state
	// ("bank/0 ready (pid 28917) in 26ms" is Node "bank/0", State NodeReady), a step
	// of finding the images, or a plain step of the testbed.
	Progress func(Event)
	// StartTimeout bounds the start of one node until it is ready; 0 means
	// DefaultStartTimeout.
	StartTimeout time.Duration
	// StopGrace is how long a node has to exit after SIGTERM before SIGKILL; 0 means
	// DefaultStopGrace.
	StopGrace time.Duration
	// Secrets are the values a service's secrets: name (plan.Service.Secrets): each
	// such service is started with them in its environment, and every node's log is
	// written through them (redacted), as is any of its lines an error or event
	// quotes. nil: none.
	Secrets *redact.Secrets
}

// WithDefaults fills the zero durations.
func (o Options) WithDefaults() Options {
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.StopGrace <= 0 {
		o.StopGrace = DefaultStopGrace
	}
	return o
}

// Progressf reports a plain step of the testbed, if anyone listens.
func (o Options) Progressf(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(Event{Msg: fmt.Sprintf(format, args...)})
	}
}

// Imagesf reports a step of finding or building the testbed's images, if anyone
// listens.
func (o Options) Imagesf(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(Event{Images: true, Msg: fmt.Sprintf(format, args...)})
	}
}

// Node reports that node is now in state, with the line that says so, if anyone
// listens.
func (o Options) Node(node string, state NodeState, format string, args ...any) {
	if o.Progress != nil {
		o.Progress(Event{Node: node, State: state, Msg: fmt.Sprintf(format, args...)})
	}
}

// NodeFailed reports that node failed to reach a state: err, and the line that says
// so, if anyone listens.
func (o Options) NodeFailed(node string, err error, format string, args ...any) {
	if o.Progress != nil {
		o.Progress(Event{Node: node, State: NodeFailed, Err: err.Error(), Msg: fmt.Sprintf(format, args...)})
	}
}

// Link is one proxied network path (sut.Link).
type Link = sut.Link

// Node is one process of the system under test (sut.Node).
type Node = sut.Node

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment ago. Another
// process may take it before the caller listens on it; nodes that must be told their
// address before they start have no better option.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}
