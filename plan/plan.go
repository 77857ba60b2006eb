// Package plan holds what a run executes: the topology, the workload, the faults on the
// run clock and the invariants, each with typed parameters and one duration rule, and
// the declarations of the fault kinds. It is a leaf: package scenarios turns YAML into a
// Plan, and chaos, workload and the testbeds read one without knowing the YAML.
package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Duration is a time.Duration written as a Go duration string ("250ms", "3s") in YAML,
// JSON and plans.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Plan is what a run executes: the scenario resolved and drawn from a seed. The same
// scenario file and seed always give a byte-identical plan (see Plan.JSON); timing in a
// real network still varies, so the plan, not the outcome, is what is reproducible.
type Plan struct {
	Scenario   string      `json:"scenario"`
	Summary    string      `json:"summary,omitempty"`
	Seed       int64       `json:"seed"`
	Duration   Duration    `json:"duration"`
	Topology   Topology    `json:"topology"`
	Workload   Workload    `json:"workload"`
	Faults     []Fault     `json:"faults"` // ordered by At, then by their order in the file
	Invariants []Invariant `json:"invariants"`
	// Catches maps a known bug of the fixtures to the invariant that must catch it (the
	// scenario's catches:), so a run against a buggy fixture knows what to expect.
	Catches map[string]string `json:"catches,omitempty"`
	// Thresholds are the bounds on the run's metrics the scenario sets (threshold.go),
	// judged after the invariants, each like one.
	Thresholds []Threshold `json:"thresholds,omitempty"`
}

// Topology is the system under test: a broker, services with their replicas and
// databases, and the links between them.
type Topology struct {
	Broker   string    `json:"broker"` // "nats"
	Services []Service `json:"services"`
	Links    []Link    `json:"links"`
}

// Service is one service of the system under test: a built-in fixture, or a user's
// own program — an image (the docker testbed) or a command (the local testbed) — with
// what it needs to be started, reached and observed (service.go).
type Service struct {
	Name    string `json:"name"`
	Fixture string `json:"fixture,omitempty"` // a built-in fixture ("bank"), or
	Image   string `json:"image,omitempty"`   // a user's image (docker testbed), and/or
	// Command is a user's program and its arguments (local testbed); templates allowed
	// (Vars). A relative program path resolves against Dir.
	Command []string `json:"command,omitempty"`
	// Dir is the directory a command runs in and resolves against: the scenario
	// file's.
	Dir string `json:"dir,omitempty"`
	// Env is added to the environment the testbed gives a user's service (Vars);
	// templates allowed.
	Env map[string]string `json:"env,omitempty"`
	// Secrets name environment variables whose values the service is given from
	// mscli's own environment when the run starts. Only the names are in the plan:
	// the values never are, and every output of the run redacts them
	// (internal/redact).
	Secrets []string `json:"secrets,omitempty"`
	// Port is the TCP port a user's service listens on in its container; on the local
	// testbed every replica gets a free one instead, given as $PORT or {{.Port}}. 0: it
	// serves nothing the workload or a probe reaches.
	Port int `json:"port,omitempty"`
	// Ready says when a started replica is ready.
	Ready Probe `json:"ready,omitzero"`
	// DependsOn are the nodes the service reaches: "broker", other services. Each is a
	// link through a proxy, and its address reaches the service through Vars.
	DependsOn []string `json:"depends_on,omitempty"`
	// Observe says where the service's effects are read after the run.
	Observe  Observe `json:"observe,omitzero"`
	Replicas int     `json:"replicas"` // ≥ 1
	// Options are a fixture's options (Fixture.Options), every one given its value.
	Options  map[string]string `json:"options,omitempty"`
	Database string            `json:"database,omitempty"` // "postgres", "sqlite" or "" (testbed default)
	// Bugs are a user's service's known bugs: the environment that switches each on,
	// and the invariant that must catch it (a fixture declares its own).
	Bugs []Bug `json:"bugs,omitempty"`
	// Ports are every TCP port the service listens on in its container, Port the
	// first (a compose service's ports: targets and expose:, and the ports its
	// dependents name it with); empty when Port is its only one.
	Ports []int `json:"ports,omitempty"`
	// Hostnames: the service reaches its dependencies by their own names and ports
	// ("db:5432"), as a compose service does, and its env is literal (no templates).
	// A testbed must then make each such name lead, for this service only, through
	// the link to that dependency (the docker testbed; the local testbed cannot).
	Hostnames bool `json:"hostnames,omitempty"`
	// Container is how the docker testbed builds and runs the service's image beyond
	// the image's own defaults; nil: as the image says.
	Container *Container `json:"container,omitempty"`
}

// Node names: the broker is "broker", a service replica "<service>/<i>", a service's
// database "<service>-db".
const BrokerNode = "broker"

// ReplicaNode names replica i of a service.
func ReplicaNode(service string, i int) string { return fmt.Sprintf("%s/%d", service, i) }

// DatabaseNode names a service's database.
func DatabaseNode(service string) string { return service + "-db" }

// ServiceOf maps a replica node ("bank/0") to its service; other names map to
// themselves.
func ServiceOf(node string) string {
	if i := strings.LastIndexByte(node, '/'); i >= 0 {
		return node[:i]
	}
	return node
}

// Covers reports whether a link end named sel (a node or a whole service) covers node.
func Covers(sel, node string) bool { return sel == node || sel == ServiceOf(node) }

// ClientNode is the "from" end of the workload's links.
const ClientNode = "client"

// Link is a network path that crosses a proxy: "client->bank", "bank->broker",
// "bank->bank-db". A link between services covers every replica; a fault may also
// target one replica's link, "bank/1->broker".
type Link struct {
	Name string `json:"name"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Fault is one planned fault on the run clock.
type Fault struct {
	At     Duration          `json:"at"`
	For    Duration          `json:"for,omitempty"` // 0: instantaneous (kill) or until the end
	Kind   string            `json:"fault"`
	Target string            `json:"target"` // a link, node or stream name, per Kind
	Params map[string]string `json:"params,omitempty"`
	// Source is "scenario" for a fault written in the file, "nemesis" for a drawn one.
	Source string `json:"source"`
}

// End is when the fault is healed on the run clock.
func (f Fault) End() Duration { return f.At + f.For }

// Workload is what the clients do.
type Workload struct {
	Kind string `json:"kind"` // a registered workload kind: "bank"
	// Service is the service the workload drives; "" means the one whose fixture the
	// kind drives.
	Service string `json:"service,omitempty"`
	Clients int    `json:"clients"`
	Rate    int    `json:"rate"` // operations per second over all clients
	// Params are the kind's own parameters (WorkloadKind.Params: the bank's accounts,
	// opening and mix), canonical; the planner writes every default in. Read them
	// through Args.
	Params map[string]string `json:"params,omitempty"`
	Retry  Retry             `json:"retry"`
	// Timeout bounds one request.
	Timeout Duration `json:"timeout"`
	// Seed draws the operation sequence; it is the plan's seed.
	Seed int64 `json:"seed"`
}

// Retry is the client's retry policy (seed 002's retry loop): exponential back-off with
// full jitter, capped at Max, Attempts in all.
type Retry struct {
	Attempts int      `json:"attempts"`
	Backoff  Duration `json:"backoff"`
	Max      Duration `json:"max"`
}

// Invariant is an invariant to check, with its parameters ("within" for converges).
type Invariant struct {
	Name   string            `json:"name"`
	Params map[string]string `json:"params,omitempty"`
}

// JSON is the plan as indented JSON: what `mscli plan` prints and result.json embeds.
// encoding/json writes map keys sorted, so equal plans give equal bytes. HTML escaping
// is off so that links read "client->bank", not "client-\u003ebank".
func (p *Plan) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
