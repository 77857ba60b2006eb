package scenarios

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mscli/mscli/plan"
)

// This file answers, from each kind's Acts, whether a fault can act on its target: on
// any testbed (Validate), on the testbed a run uses (CheckTestbed), on every testbed
// (what the nemesis draws).

// invariantParams returns the parameters a registered invariant takes.
func invariantParams(name string) map[string]plan.Param {
	k, _ := plan.LookupInvariantKind(name)
	return k.Params
}

// kindOf returns the declaration of a registered fault kind (the zero FaultKind for an
// unknown name, which validation reports).
func kindOf(name string) plan.FaultKind {
	k, _ := plan.LookupFaultKind(name)
	return k
}

// roleNoun names a role for messages.
var roleNoun = map[plan.TargetRole]string{
	plan.RoleBroker:       "the broker",
	plan.RoleReplica:      "a service replica",
	plan.RolePostgres:     "a PostgreSQL database node",
	plan.RoleSQLite:       "an SQLite database node",
	plan.RoleDatabase:     "your service's PostgreSQL database node",
	plan.RoleLink:         "a link to a service or the broker",
	plan.RoleDatabaseLink: "a link to a PostgreSQL database",
	plan.RoleStream:       "a stream",
}

// targetNoun names one target with its role: "the replica bank/0".
func (t targets) targetNoun(k plan.TargetKind, name string) string {
	switch t.role[k][name] {
	case plan.RoleBroker:
		return "the broker"
	case plan.RoleReplica:
		if _, isService := t.services[name]; isService {
			return "the service " + name + " (one of its replicas)"
		}
		return "the replica " + name
	case plan.RolePostgres, plan.RoleDatabase:
		return "the PostgreSQL database " + name
	case plan.RoleSQLite:
		return "the SQLite database " + name
	case plan.RoleDatabaseLink:
		return "the database link " + name
	}
	return fmt.Sprintf("the %s %s", k, name)
}

// roleHint explains why no testbed can act on a target of this role, when there is
// more to say than the kind's list.
func (t targets) roleHint(k plan.TargetKind, name string) string {
	switch t.role[k][name] {
	case plan.RoleReplica:
		db := plan.DatabaseNode(plan.ServiceOf(name))
		if _, ok := t.role[plan.TargetNode][db]; ok {
			return fmt.Sprintf("a replica keeps no data of its own; %s's is %s", plan.ServiceOf(name), db)
		}
		return "a replica keeps no data of its own"
	case plan.RoleSQLite:
		return fmt.Sprintf("%s is the SQLite file the %s replicas share, with no process of its own (with database: postgres it is a container on the docker testbed)", name, strings.TrimSuffix(name, "-db"))
	}
	return ""
}

// onlyOn writes "local testbed only", or "" for a reach every testbed has.
func onlyOn(re plan.Reach) string {
	if len(re.On) == len(plan.Testbeds) {
		return ""
	}
	return strings.Join(re.On, " and ") + " testbed only"
}

// actsOn says what a kind acts on, in the terms of this system: each role it reaches
// that the system has targets of (every role it reaches when the system has none),
// with their names and the testbeds that can, e.g. "an SQLite database node (bank-db;
// local testbed only) or the broker (local testbed only)".
func (t targets) actsOn(k plan.FaultKind) string {
	var parts []string
	for _, all := range []bool{false, true} {
		for _, re := range k.Acts {
			var names []string
			for _, name := range t.valid[k.Target] {
				if _, isService := t.services[name]; t.role[k.Target][name] == re.Role && !isService {
					names = append(names, name)
				}
			}
			if len(names) == 0 && !all {
				continue
			}
			var notes []string
			if len(names) > 0 && re.Role != plan.RoleBroker {
				notes = append(notes, oneOf(names))
			}
			if o := onlyOn(re); o != "" {
				notes = append(notes, o)
			}
			part := roleNoun[re.Role]
			if len(notes) > 0 {
				part += " (" + strings.Join(notes, "; ") + ")"
			}
			parts = append(parts, part)
		}
		if len(parts) > 0 {
			break
		}
	}
	return orList(parts)
}

// orList joins "a", "b" and "c" as "a, b or c".
func orList(parts []string) string { return joinList(parts, "or") }

func joinList(parts []string, conj string) string {
	switch len(parts) {
	case 0:
		return "nothing"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " " + conj + " " + parts[len(parts)-1]
}

// unsupported says why no testbed can apply kind k to a valid target, or "".
func (t targets) unsupported(k plan.FaultKind, target string) string {
	if k.ActsAnywhere(t.role[k.Target][target]) {
		return ""
	}
	msg := fmt.Sprintf("fault %s acts on %s, not on %s", k.Name, t.actsOn(k), t.targetNoun(k.Target, target))
	if hint := t.roleHint(k.Target, target); hint != "" {
		msg += ": " + hint
	}
	return msg
}

// unsupportedOn says why testbed tb cannot apply kind k to a valid target, or "". A
// target no testbed can take is Validate's to report.
func (t targets) unsupportedOn(k plan.FaultKind, target, tb string) string {
	role := t.role[k.Target][target]
	re, ok := k.Reach(role)
	if !ok || len(re.On) == 0 || slices.Contains(re.On, tb) {
		return ""
	}
	return fmt.Sprintf("fault %s cannot act on %s on the %s testbed: %s; the %s testbed can (--testbed %s)",
		k.Name, t.targetNoun(k.Target, target), tb, re.Why, strings.Join(re.On, " or "), re.On[0])
}

// nemesisUnsupported says why the nemesis cannot draw kind k in this system: it draws
// only targets every testbed can act on, so that a seed's plan is the same on each.
func (t targets) nemesisUnsupported(k plan.FaultKind) string {
	var everywhere []string
	postgres := false
	for _, re := range k.Acts {
		if onlyOn(re) == "" {
			everywhere = append(everywhere, roleNoun[re.Role])
			postgres = postgres || re.Role == plan.RolePostgres || re.Role == plan.RoleDatabase
		}
	}
	msg := fmt.Sprintf("the nemesis cannot draw %s: it draws only targets every testbed can apply it to, for %s %s, and the system has none",
		k.Name, k.Name, orList(everywhere))
	if postgres {
		msg += " (give a service database: postgres)"
	}
	// The targets some testbed takes, grouped by where.
	where := map[string][]string{}
	for _, name := range t.valid[k.Target] {
		if _, isService := t.services[name]; isService {
			continue
		}
		if re, ok := k.Reach(t.role[k.Target][name]); ok && len(re.On) > 0 {
			o := onlyOn(re)
			where[o] = append(where[o], t.targetNoun(k.Target, name))
		}
	}
	for _, o := range sortedKeys(where) {
		verb := "takes"
		if len(where[o]) > 1 {
			verb = "take"
		}
		msg += fmt.Sprintf("; %s %s it on the %s: write such a fault under faults:", joinList(where[o], "and"), verb, o)
	}
	return msg
}

// CheckTestbed reports the scenario's faults that testbed tb ("local", "docker") cannot
// apply, at their positions, so that a run refuses them before anything starts rather
// than recording them as failed to apply. The nemesis draws only what every testbed can
// apply. A testbed the fault kinds declare nothing about (not in Testbeds) is not
// checked. Call it on a valid scenario; it returns an ErrorList or nil.
func (s *Scenario) CheckTestbed(tb string) error {
	if !slices.Contains(plan.Testbeds, tb) {
		return nil
	}
	v := &validator{s: s}
	for _, svc := range s.System.Services {
		if key, msg := serviceUnsupportedOn(svc, tb); msg != "" {
			v.report("system.services."+svc.Name+"."+key, true, "%s", msg)
		}
	}
	t := s.targets()
	for i, f := range s.Faults {
		kind, ok := plan.LookupFaultKind(f.Kind)
		if !ok {
			continue
		}
		if msg := t.unsupportedOn(kind, f.Target, tb); msg != "" {
			v.report(index("faults", i)+".target", false, "%s", msg)
		}
	}
	return v.errs.err()
}

// CheckPlanTestbed reports the plan's faults that testbed tb cannot apply, as
// Scenario.CheckTestbed does for a scenario (without positions: a plan has none).
func CheckPlanTestbed(p *plan.Plan, tb string) error {
	if !slices.Contains(plan.Testbeds, tb) {
		return nil
	}
	t := targetsOf(p.Topology)
	var errs ErrorList
	for _, svc := range p.Topology.Services {
		if _, msg := serviceUnsupportedOn(svc, tb); msg != "" {
			errs = append(errs, &Error{File: p.Scenario, Path: "plan.topology.services." + svc.Name, Msg: msg})
		}
	}
	for i, f := range p.Faults {
		kind, ok := plan.LookupFaultKind(f.Kind)
		if !ok {
			continue
		}
		msg := t.unsupportedOn(kind, f.Target, tb)
		if msg == "" {
			msg = t.unsupported(kind, f.Target)
		}
		if msg != "" {
			errs = append(errs, &Error{File: p.Scenario, Path: fmt.Sprintf("plan.faults[%d]", i), Msg: fmt.Sprintf("%s at %s: %s", f.Source, f.At, msg)})
		}
	}
	return errs.err()
}

// actsDoc says in a line what the kind acts on, grouped by testbed: "a PostgreSQL
// database node on every testbed; an SQLite database node or the broker on the local
// testbed only". The JSON Schema describes each kind's target with it.
func actsDoc(k plan.FaultKind) string {
	var groups []string
	var order []string
	by := map[string][]string{}
	for _, re := range k.Acts {
		where := "on every testbed"
		if o := onlyOn(re); o != "" {
			where = "on the " + o
		}
		if _, seen := by[where]; !seen {
			order = append(order, where)
		}
		by[where] = append(by[where], roleNoun[re.Role])
	}
	for _, where := range order {
		groups = append(groups, orList(by[where])+" "+where)
	}
	return strings.Join(groups, "; ")
}

// serviceUnsupportedOn says why testbed tb cannot start a service of the user's own, and
// the key to point at: the local testbed runs command:, the docker testbed image:.
func serviceUnsupportedOn(svc plan.Service, tb string) (key, msg string) {
	switch {
	case !svc.User():
	case tb == plan.TestbedLocal && svc.Hostnames:
		// Compose services: see parse_compose.go.
		return "image", fmt.Sprintf("service %s comes from a compose file, whose services reach each other by their own names: the local testbed cannot lead those names through links (its processes share one name resolution): use --testbed docker", svc.Name)
	case tb == plan.TestbedLocal && len(svc.Command) == 0:
		return "image", fmt.Sprintf("service %s runs from an image, which the local testbed cannot start: add command: (your program) to run it here, or use --testbed docker", svc.Name)
	case tb == plan.TestbedLocal && svc.Observe.SQL != nil && svc.Observe.SQL.URL != "":
		return "observe", fmt.Sprintf("service %s is observed through observe.sql.url, a node's port reached from the host, which the local testbed does not do: use --testbed docker, or database: postgres and leave url out", svc.Name)
	case tb == plan.TestbedDocker && svc.Image == "":
		return "command", fmt.Sprintf("service %s is a command, which the docker testbed cannot start: add image: (your image) to run it there, or use --testbed local", svc.Name)
	}
	return "", ""
}

// ServicesRunOn says whether testbed tb can start every service of a topology, and if
// not, why (the first it cannot).
func ServicesRunOn(top plan.Topology, tb string) error {
	for _, svc := range top.Services {
		if _, msg := serviceUnsupportedOn(svc, tb); msg != "" {
			return errors.New(msg)
		}
	}
	return nil
}
