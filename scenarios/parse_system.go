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
	d.checkKeys("system", raw, es, "system", systemKeys, []string{"services"})
	for _, e := range es {
		p := child("system", e.key)
		switch e.key {
		case "broker":
			set(&s.System.Broker, d.str, p, e.val)
		case "services":
			d.services(s, e.val)
		}
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
		fs, ok := d.mapping(p, e.val, "a mapping (fixture: or image:, replicas:, database:)")
		if !ok {
			// Kept, and marked bad: the checks then know the service exists but not what
			// it is, and do not report faults on it as unknown targets.
			s.System.Services = append(s.System.Services, svc)
			continue
		}
		d.checkKeys(p, e.val, fs, "service "+e.key, serviceKeys, nil)
		for _, f := range fs {
			fp := child(p, f.key)
			switch f.key {
			case "fixture":
				svc.Fixture, _ = d.str(fp, f.val)
			case "image":
				svc.Image, _ = d.str(fp, f.val)
			case "observe":
				svc.Observe, _ = d.str(fp, f.val)
			case "replicas":
				set(&svc.Replicas, d.smallInt, fp, f.val)
			case "database":
				svc.Database, _ = d.str(fp, f.val)
			}
		}
		if svc.Image != "" && svc.Observe == "" {
			svc.Observe = DefaultObserve
		}
		s.System.Services = append(s.System.Services, svc)
	}
	slices.SortStableFunc(s.System.Services, func(a, b plan.Service) int { return strings.Compare(a.Name, b.Name) })
}
