package plan

import (
	"slices"

	"github.com/mscli/mscli/internal/registry"
)

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
	RoleSQLite TargetRole = "sqlite"
	// RoleDatabase is "<svc>-db" of a service of the user's own with database: postgres:
	// a PostgreSQL server on every testbed (a process on the local one, a container on
	// docker).
	RoleDatabase     TargetRole = "database"
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
	// ParamRange is a whole number or a range of them, "lo-hi" (an amount drawn from it).
	ParamRange ParamType = "range"
	// ParamObject is a structured value (a mapping or a list), carried as canonical JSON
	// (ParamObject.Norm); the kind decodes and checks it itself.
	ParamObject ParamType = "object"
)

// Param declares one parameter of a plug-in kind: a fault kind's, an invariant's, a
// workload kind's.
type Param struct {
	Type     ParamType
	Enum     []string // for ParamEnum
	Default  string   // "" means required, unless Optional
	Optional bool
	Min      int64 // for ParamInt and ParamRange: the least value (0 or more)
	Doc      string
	// Schema is the JSON Schema of a ParamObject's value, which the scenario format's
	// schema embeds; nil accepts any value.
	Schema map[string]any
}

// FaultKind declares a kind of fault: its target, its parameters and where it can act.
// Package chaos registers each kind together with what applies and heals it
// (chaos.Register), in one file per kind; scenarios validates and plans against the
// declarations registered here.
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

// reach returns what the kind declares for targets of role r.
func (k FaultKind) reach(r TargetRole) (Reach, bool) {
	for _, re := range k.Acts {
		if re.Role == r {
			return re, true
		}
	}
	return Reach{}, false
}

// Reach returns what the kind declares for targets of role r, if anything.
func (k FaultKind) Reach(r TargetRole) (Reach, bool) { return k.reach(r) }

// ActsOn says whether testbed tb can apply the kind to a target of role r.
func (k FaultKind) ActsOn(r TargetRole, tb string) bool {
	re, ok := k.reach(r)
	return ok && slices.Contains(re.On, tb)
}

// ActsAnywhere says whether some testbed can apply the kind to a target of role r.
func (k FaultKind) ActsAnywhere(r TargetRole) bool {
	re, ok := k.reach(r)
	return ok && len(re.On) > 0
}

// ActsEverywhere says whether every testbed can apply the kind to a target of role r.
func (k FaultKind) ActsEverywhere(r TargetRole) bool {
	for _, tb := range Testbeds {
		if !k.ActsOn(r, tb) {
			return false
		}
	}
	return true
}

var kinds = registry.New[FaultKind]("plan: fault kind")

// RegisterFaultKind declares a fault kind. chaos.Register calls it with the kind's
// implementation: register a fault kind there, not here. It panics when the name is
// taken or the declaration is incomplete, as registrations happen in init.
func RegisterFaultKind(k FaultKind) {
	if k.Name == "" || k.Target == "" {
		panic("plan: RegisterFaultKind: a kind needs a name and a target kind")
	}
	k.Params = declared("fault kind "+k.Name, k.Params)
	kinds.Register(k.Name, k)
}

// LookupFaultKind returns the declaration of a registered fault kind.
func LookupFaultKind(name string) (FaultKind, bool) { return kinds.Lookup(name) }

// FaultKindNames lists the registered fault kinds, sorted.
func FaultKindNames() []string { return kinds.Names() }
