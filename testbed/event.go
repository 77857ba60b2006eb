package testbed

// Event is one step of bringing a system up, changing it or bringing it down, as a
// testbed reports it: what it is about is in the fields, and Msg is the same step as
// one line for people. Nobody needs to read Msg to know a node's state.
type Event struct {
	// Images marks a step of finding or building the images the testbed runs (the
	// docker testbed), before any node starts.
	Images bool
	// Node names the node the event is about (broker, bank/0, bank-db), "" for a step
	// of the whole testbed.
	Node string
	// State is the node's state after the step.
	State NodeState
	// Msg is the step as one line: "bank/0 ready (pid 28917) in 26ms".
	Msg string
	// Err is what went wrong, with State NodeFailed.
	Err string
}

// NodeState is a node's state after a testbed event.
type NodeState string

// The states a testbed reports its nodes in.
const (
	NodeStarting NodeState = "starting" // its process or container is starting
	NodeReady    NodeState = "ready"    // it answers its readiness probe
	NodeStopping NodeState = "stopping" // it is being stopped (to be started again)
	NodeFailed   NodeState = "failed"   // it did not reach the state it was asked for: Err
	NodeWiped    NodeState = "wiped"    // its data was deleted
	NodeRestored NodeState = "restored" // its data was deleted and a snapshot copied in
	NodeSnapshot NodeState = "snapshot" // a snapshot of its data was taken
)

// Busy reports whether the state is on the way to another one (a dashboard shows a
// spinner).
func (s NodeState) Busy() bool { return s == NodeStarting || s == NodeStopping }
