package scenarios

// TargetKind says what a fault acts on.
type TargetKind string

// Target kinds.
const (
	TargetLink   TargetKind = "link"   // a link name: "client->bank", "bank/1->broker"
	TargetNode   TargetKind = "node"   // a node name: "broker", "bank/0", "bank-db"; a service name means one replica drawn from the seed
	TargetStream TargetKind = "stream" // a stream's subject prefix: "bank.commands"
)

// TargetRole is what a target is in the system under test: finer than its TargetKind,
// it decides whether a fault kind can act on the target, and on which testbed.
type TargetRole string

// Target roles.
const (
	RoleBroker  TargetRole = "broker"  // the broker node
	RoleReplica TargetRole = "replica" // a service replica, "bank/0"; a service name stands for one
	// RolePostgres is "<svc>-db" of a service with database: postgres: a PostgreSQL
	// container on the docker testbed, the replicas' SQLite file on the local one.
	RolePostgres TargetRole = "postgres"
	// RoleSQLite is "<svc>-db" of a fixture service without database: postgres: the SQLite
	// file its replicas share, on every testbed.
	RoleSQLite       TargetRole = "sqlite"
	RoleLink         TargetRole = "link"          // client->svc, svc->broker, or one replica's
	RoleDatabaseLink TargetRole = "database-link" // svc->svc-db (database: postgres), or one replica's
	RoleStream       TargetRole = "stream"        // a fixture service's stream
)

// Testbed names, as --testbed spells them: where a fault kind says it acts.
const (
	TestbedLocal  = "local"
	TestbedDocker = "docker"
)

// Testbeds are the testbeds the fault kinds declare what they act on.
var Testbeds = []string{TestbedLocal, TestbedDocker}

var allTestbeds = Testbeds

// Reach is one role of target a fault kind acts on, and the testbeds that can apply it
// there.
type Reach struct {
	Role TargetRole
	On   []string // testbed names, a subset of Testbeds
	// Why says why the testbeds not in On cannot, for the message that refuses the
	// fault there; "" when every testbed can.
	Why string
}

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
	// Acts lists the roles of target the kind can act on and the testbeds that can apply
	// it to each; a role not listed is one no testbed can. Validate refuses a fault on a
	// target no testbed can take, CheckTestbed one the chosen testbed cannot, and the
	// nemesis draws only targets every testbed can take.
	Acts []Reach
}

var direction = Param{Type: ParamEnum, Enum: []string{"both", "upstream", "downstream"}, Default: "both",
	Doc: "which way the fault acts: upstream is from→to, downstream to→from"}

// What the testbeds can do, as testbed/local and testbed/docker implement it. The kinds
// below share these lists; each says in its comment which one it takes.
var (
	// Link kinds act on a toxiproxy proxy. On the local testbed a service's database is
	// an SQLite file inside its processes, even for database: postgres, so no proxy
	// stands before it.
	linkTargets = []Reach{
		{Role: RoleLink, On: allTestbeds},
		{Role: RoleDatabaseLink, On: []string{TestbedDocker},
			Why: "on the local testbed the database is an SQLite file inside the service's processes, with no network path to it"},
	}
	// Process kinds act on a process (local) or a container (docker). A database is a
	// container on docker only; an SQLite database is a file on every testbed.
	processTargets = []Reach{
		{Role: RoleBroker, On: allTestbeds},
		{Role: RoleReplica, On: allTestbeds},
		{Role: RolePostgres, On: []string{TestbedDocker},
			Why: "on the local testbed the database is an SQLite file inside the service's processes, with no process of its own"},
	}
	// Data kinds act on a node's data: a PostgreSQL volume (docker) or the SQLite file
	// that stands in for it (local); the broker's JetStream directory and a service's
	// SQLite file on the local testbed only. A replica keeps no data of its own.
	dataTargets = []Reach{
		{Role: RolePostgres, On: allTestbeds},
		{Role: RoleSQLite, On: []string{TestbedLocal},
			Why: "on the docker testbed an SQLite database is a volume the service's containers share, not a node"},
		{Role: RoleBroker, On: []string{TestbedLocal},
			Why: "the docker testbed keeps no snapshots of the broker's data: only a PostgreSQL database's"},
	}
)

// FaultKinds is every fault the format knows, by name.
var FaultKinds = map[string]FaultKind{
	// A toxiproxy latency toxic on the link's proxies: linkTargets.
	"latency": {Name: "latency", Target: TargetLink, Window: true, Doc: "delay every chunk of data",
		Params: map[string]Param{
			"latency":   {Type: ParamDuration, Doc: "added delay"},
			"jitter":    {Type: ParamDuration, Default: "0s", Doc: "± random extra delay"},
			"direction": direction,
		}, Acts: linkTargets},
	// A toxiproxy bandwidth toxic: linkTargets.
	"bandwidth": {Name: "bandwidth", Target: TargetLink, Window: true, Doc: "limit throughput",
		Params: map[string]Param{
			"rate":      {Type: ParamInt, Doc: "KB/s"},
			"direction": direction,
		}, Acts: linkTargets},
	// A toxiproxy timeout toxic: linkTargets.
	"timeout": {Name: "timeout", Target: TargetLink, Window: true, Doc: "stop all data and close the connection after a delay (0: never close)",
		Params: map[string]Param{
			"timeout":   {Type: ParamDuration, Default: "0s", Doc: "close after this long; 0 holds the data forever"},
			"direction": direction,
		}, Acts: linkTargets},
	// A toxiproxy reset_peer toxic: linkTargets.
	"reset": {Name: "reset", Target: TargetLink, Window: true, Doc: "reset connections (TCP RST) after a delay",
		Params: map[string]Param{
			"timeout":   {Type: ParamDuration, Default: "0s", Doc: "reset after this long"},
			"direction": direction,
		}, Acts: linkTargets},
	// A toxiproxy slow_close toxic: linkTargets.
	"slow-close": {Name: "slow-close", Target: TargetLink, Window: true, Doc: "delay the close of connections",
		Params: map[string]Param{
			"delay":     {Type: ParamDuration, Doc: "how long the close is delayed"},
			"direction": direction,
		}, Acts: linkTargets},
	// The proxies disabled, or a toxic that holds one direction: linkTargets.
	"partition": {Name: "partition", Target: TargetLink, Window: true, Doc: "cut the link: refuse new connections and drop existing ones (both ways), or black-hole one direction",
		Params: map[string]Param{
			"direction": direction,
		}, Acts: linkTargets},
	// kill -9 of a process, docker kill of a container: processTargets.
	"kill": {Name: "kill", Target: TargetNode, Window: false, Doc: "kill -9 a node; restart it after restart-after (0: never, until healed at the end)",
		Params: map[string]Param{
			"restart-after": {Type: ParamDuration, Default: "0s", Doc: "restart the node this long after the kill"},
		}, Acts: processTargets},
	// SIGSTOP of a process group, docker pause of a container: processTargets.
	"pause": {Name: "pause", Target: TargetNode, Window: true, Doc: "freeze a node (SIGSTOP / docker pause) and resume it",
		Params: map[string]Param{}, Acts: processTargets},
	// SIGTERM and start again, docker stop and start: processTargets.
	"restart": {Name: "restart", Target: TargetNode, Window: false, Doc: "stop a node gracefully and start it again",
		Params: map[string]Param{}, Acts: processTargets},
	// A copy of the node's data (chaos.DataNode): dataTargets.
	"snapshot": {Name: "snapshot", Target: TargetNode, Window: false, Doc: "copy a node's data aside under a name, for a later restore",
		Params: map[string]Param{
			"name": {Type: ParamName, Default: "backup", Doc: "snapshot name"},
		}, Acts: dataTargets},
	// The node's data deleted, or replaced by a snapshot (chaos.DataNode): dataTargets.
	"wipe": {Name: "wipe", Target: TargetNode, Window: false, Doc: "lose a node's data; restore the named snapshot if given, else start empty",
		Params: map[string]Param{
			"restore": {Type: ParamName, Optional: true, Doc: "name of a snapshot taken earlier in the run"},
		}, Acts: dataTargets},
	// A republish through the broker's NATS URL, the same on every testbed.
	"duplicate": {Name: "duplicate", Target: TargetStream, Window: false, Doc: "republish a share of a stream's messages without their dedup id",
		Params: map[string]Param{
			"ratio": {Type: ParamRatio, Default: "0.1", Doc: "share of the stream's messages republished"},
		}, Acts: []Reach{{Role: RoleStream, On: allTestbeds}}},
}
