package scenarios

import (
	"slices"
	"strings"

	"github.com/mscli/mscli/plan"

	"github.com/goccy/go-yaml/ast"
)

func (d *decoder) system(s *Scenario, raw ast.Node) {
	es, ok := d.mapping("system", raw, "a mapping (broker:, services:)")
	if !ok {
		return
	}
	required := []string{"services"}
	var compose ast.Node
	for _, e := range es {
		if e.key == "compose" {
			compose, required = e.val, nil // the compose file's services may be all
		}
	}
	d.checkKeys("system", raw, es, "system", systemKeys, required)
	for _, e := range es {
		p := child("system", e.key)
		switch e.key {
		case "broker":
			set(&s.System.Broker, d.str, p, e.val)
		case "services":
			d.services(s, e.val)
		}
	}
	if compose != nil {
		d.composeSystem(s, compose)
	}
}

func (d *decoder) services(s *Scenario, raw ast.Node) {
	es, ok := d.mapping("system.services", raw, "a mapping of service names to services")
	if !ok {
		return
	}
	for _, e := range es {
		p := child("system.services", e.key)
		d.pos[p+"#key"] = posOf(e.keyNode)
		svc := plan.Service{Name: e.key, Replicas: 1}
		fs, ok := d.mapping(p, e.val, "a mapping (fixture:, or image: and/or command:, …)")
		if !ok {
			// Kept, and marked bad: the checks then know the service exists but not what
			// it is, and do not report faults on it as unknown targets.
			s.System.Services = append(s.System.Services, svc)
			continue
		}
		d.checkKeys(p, e.val, fs, "service "+e.key, serviceKeys, nil)
		for _, f := range fs {
			fp := child(p, f.key)
			d.pos[fp+"#key"] = posOf(f.keyNode)
			switch f.key {
			case "fixture":
				svc.Fixture, _ = d.str(fp, f.val)
			case "image":
				svc.Image, _ = d.str(fp, f.val)
			case "command":
				svc.Command = d.command(fp, f.val)
			case "env":
				svc.Env = d.strMap(fp, f.val, "a mapping of variable names to values")
			case "secrets":
				svc.Secrets = d.strList(fp, f.val)
			case "port":
				set(&svc.Port, d.smallInt, fp, f.val)
			case "ready":
				d.probe(&svc.Ready, fp, f.val)
			case "depends-on":
				svc.DependsOn = d.strList(fp, f.val)
			case "observe":
				d.observe(&svc.Observe, fp, f.val)
			case "replicas":
				set(&svc.Replicas, d.smallInt, fp, f.val)
			case "database":
				svc.Database, _ = d.str(fp, f.val)
			case "bugs":
				svc.Bugs = d.bugs(fp, f.val)
			case "options":
				svc.Options = d.strMap(fp, f.val, "a mapping of the fixture's options to values")
			}
		}
		if svc.Fixture != "" && !svc.Observe.Observed() {
			// A fixture serves the effects contract on its own port.
			svc.Observe.HTTP = DefaultObserve
		}
		if len(svc.Command) > 0 {
			svc.Dir = d.dir
		}
		s.System.Services = append(s.System.Services, svc)
	}
	slices.SortStableFunc(s.System.Services, func(a, b plan.Service) int { return strings.Compare(a.Name, b.Name) })
}

// command reads a program and its arguments: a list, or one string split at white
// space ("./orders --verbose").
func (d *decoder) command(p string, raw ast.Node) []string {
	if n, ok := d.resolve(p, raw); ok {
		if _, isSeq := n.(*ast.SequenceNode); !isSeq {
			s, ok := d.str(p, raw)
			if !ok {
				return nil
			}
			return strings.Fields(s)
		}
	}
	return d.strList(p, raw)
}

// strList reads a list of strings.
func (d *decoder) strList(p string, raw ast.Node) []string {
	items, ok := d.sequence(p, raw, true)
	if !ok {
		return nil
	}
	out := []string{}
	for i, it := range items {
		if v, ok := d.str(index(p, i), it); ok {
			out = append(out, v)
		}
	}
	return out
}

// strMap reads a mapping of names to scalars (written as they are: env values).
func (d *decoder) strMap(p string, raw ast.Node, want string) map[string]string {
	if d.isNull(raw) {
		return nil
	}
	es, ok := d.mapping(p, raw, want)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for _, e := range es {
		ep := child(p, e.key)
		d.pos[ep+"#key"] = posOf(e.keyNode)
		if v, ok := d.scalar(ep, e.val); ok {
			out[e.key] = v
		}
	}
	return out
}

// probe reads ready: {http: /healthz} or {tcp: true}.
func (d *decoder) probe(r *plan.Probe, p string, raw ast.Node) {
	es, ok := d.mapping(p, raw, "a mapping (http: /path, or tcp: true)")
	if !ok {
		return
	}
	d.checkKeys(p, raw, es, "ready", probeKeys, nil)
	for _, e := range es {
		ep := child(p, e.key)
		switch e.key {
		case "http":
			r.HTTP, _ = d.str(ep, e.val)
		case "tcp":
			set(&r.TCP, d.boolean, ep, e.val)
		}
	}
}

// observe reads observe: /effects, {http: /effects} or {sql: {effects:, states:,
// operations:}}.
func (d *decoder) observe(o *plan.Observe, p string, raw ast.Node) {
	if n, ok := d.resolve(p, raw); ok {
		if _, isStr := n.(*ast.StringNode); isStr {
			o.HTTP, _ = d.str(p, raw)
			return
		}
	}
	es, ok := d.mapping(p, raw, "a path (/effects), or a mapping (http: or sql:)")
	if !ok {
		return
	}
	d.checkKeys(p, raw, es, "observe", observeKeys, nil)
	for _, e := range es {
		ep := child(p, e.key)
		switch e.key {
		case "http":
			o.HTTP, _ = d.str(ep, e.val)
		case "sql":
			qs, ok := d.mapping(ep, e.val, "a mapping of queries (effects:, states:, operations:)")
			if !ok {
				continue
			}
			d.checkKeys(ep, e.val, qs, "observe.sql", sqlKeys, nil)
			o.SQL = &plan.SQLObserve{}
			for _, q := range qs {
				qp := child(ep, q.key)
				v, _ := d.str(qp, q.val)
				switch q.key {
				case "url":
					o.SQL.URL = v
				case "effects":
					o.SQL.Effects = v
				case "states":
					o.SQL.States = v
				case "operations":
					o.SQL.Operations = v
				}
			}
		}
	}
}

// bugs reads a user's service's known bugs: name → {env:, breaks:, what:}.
func (d *decoder) bugs(p string, raw ast.Node) []plan.Bug {
	es, ok := d.mapping(p, raw, "a mapping of bug names to {env:, breaks:}")
	if !ok {
		return nil
	}
	var out []plan.Bug
	for _, e := range es {
		bp := child(p, e.key)
		d.pos[bp+"#key"] = posOf(e.keyNode)
		b := plan.Bug{Name: e.key}
		fs, ok := d.mapping(bp, e.val, "a mapping (env:, breaks:, what:)")
		if !ok {
			continue
		}
		d.checkKeys(bp, e.val, fs, "bug "+e.key, bugKeys, []string{"env", "breaks"})
		for _, f := range fs {
			fp := child(bp, f.key)
			switch f.key {
			case "env":
				b.Env = d.strMap(fp, f.val, "a mapping of variable names to values")
			case "breaks":
				b.Breaks, _ = d.str(fp, f.val)
			case "what":
				b.What, _ = d.str(fp, f.val)
			}
		}
		out = append(out, b)
	}
	return out
}
