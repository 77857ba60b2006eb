package scenarios

// TargetKind says what a fault acts on.
type TargetKind string

// Target kinds.
const (
	TargetLink   TargetKind = "link"   // a link name: "client->bank", "bank/1->broker"
	TargetNode   TargetKind = "node"   // a node name: "broker", "bank/0", "bank-db"; a service name means one replica drawn from the seed
	TargetStream TargetKind = "stream" // a stream's subject prefix: "bank.commands"
)

// ParamType is the type of a fault parameter.
type ParamType string

// Parameter types.
const (
	ParamDuration ParamType = "duration"
	ParamInt      ParamType = "int"
	ParamRatio    ParamType = "ratio" // a number in [0,1]
	ParamEnum     ParamType = "enum"
	ParamName     ParamType = "name" // an identifier: letters, digits, '-', '_'
)

// Param describes one fault parameter.
type Param struct {
	Type     ParamType
	Enum     []string // for ParamEnum
	Default  string   // "" means required, unless Optional
	Optional bool
	Doc      string
}

// FaultKind describes a fault the scenario format knows. The chaos package implements
// each one; a test there checks that every kind listed here has an implementation.
type FaultKind struct {
	Name   string
	Target TargetKind
	// Window is true when the fault lasts (`for` is required); false for an instantaneous
	// action (kill, restart, snapshot, duplicate).
	Window bool
	Params map[string]Param
	Doc    string
}

var direction = Param{Type: ParamEnum, Enum: []string{"both", "upstream", "downstream"}, Default: "both",
	Doc: "which way the fault acts: upstream is from→to, downstream to→from"}

// FaultKinds is every fault the format knows, by name.
var FaultKinds = map[string]FaultKind{
	"latency": {Name: "latency", Target: TargetLink, Window: true, Doc: "delay every chunk of data",
		Params: map[string]Param{
			"latency":   {Type: ParamDuration, Doc: "added delay"},
			"jitter":    {Type: ParamDuration, Default: "0s", Doc: "± random extra delay"},
			"direction": direction,
		}},
	"bandwidth": {Name: "bandwidth", Target: TargetLink, Window: true, Doc: "limit throughput",
		Params: map[string]Param{
			"rate":      {Type: ParamInt, Doc: "KB/s"},
			"direction": direction,
		}},
	"timeout": {Name: "timeout", Target: TargetLink, Window: true, Doc: "stop all data and close the connection after a delay (0: never close)",
		Params: map[string]Param{
			"timeout":   {Type: ParamDuration, Default: "0s", Doc: "close after this long; 0 holds the data forever"},
			"direction": direction,
		}},
	"reset": {Name: "reset", Target: TargetLink, Window: true, Doc: "reset connections (TCP RST) after a delay",
		Params: map[string]Param{
			"timeout":   {Type: ParamDuration, Default: "0s", Doc: "reset after this long"},
			"direction": direction,
		}},
	"slow-close": {Name: "slow-close", Target: TargetLink, Window: true, Doc: "delay the close of connections",
		Params: map[string]Param{
			"delay":     {Type: ParamDuration, Doc: "how long the close is delayed"},
			"direction": direction,
		}},
	"partition": {Name: "partition", Target: TargetLink, Window: true, Doc: "cut the link: refuse new connections and drop existing ones (both ways), or black-hole one direction",
		Params: map[string]Param{
			"direction": direction,
		}},
	"kill": {Name: "kill", Target: TargetNode, Window: false, Doc: "kill -9 a node; restart it after restart-after (0: never, until healed at the end)",
		Params: map[string]Param{
			"restart-after": {Type: ParamDuration, Default: "0s", Doc: "restart the node this long after the kill"},
		}},
	"pause": {Name: "pause", Target: TargetNode, Window: true, Doc: "freeze a node (SIGSTOP / docker pause) and resume it",
		Params: map[string]Param{}},
	"restart": {Name: "restart", Target: TargetNode, Window: false, Doc: "stop a node gracefully and start it again",
		Params: map[string]Param{}},
	"snapshot": {Name: "snapshot", Target: TargetNode, Window: false, Doc: "copy a node's data aside under a name, for a later restore",
		Params: map[string]Param{
			"name": {Type: ParamName, Default: "backup", Doc: "snapshot name"},
		}},
	"wipe": {Name: "wipe", Target: TargetNode, Window: false, Doc: "lose a node's data; restore the named snapshot if given, else start empty",
		Params: map[string]Param{
			"restore": {Type: ParamName, Optional: true, Doc: "name of a snapshot taken earlier in the run"},
		}},
	"duplicate": {Name: "duplicate", Target: TargetStream, Window: false, Doc: "republish a share of a stream's messages without their dedup id",
		Params: map[string]Param{
			"ratio": {Type: ParamRatio, Default: "0.1", Doc: "share of the stream's messages republished"},
		}},
}
