package scenarios

import (
	"github.com/goccy/go-yaml/ast"

	"github.com/mscli/mscli/plan"
)

func (d *decoder) workload(s *Scenario, raw ast.Node) {
	es, ok := d.mapping("workload", raw, "a mapping (kind:, clients:, rate:, …)")
	if !ok {
		return
	}
	w := &s.Workload
	for _, e := range es {
		if e.key == "kind" {
			set(&w.Kind, d.str, child("workload", e.key), e.val)
		}
	}
	// The keys every workload has; any other is a parameter of its kind, which the
	// validation checks against the kind's declaration.
	kind, _ := plan.LookupWorkloadKind(w.Kind)
	for _, e := range es {
		p := child("workload", e.key)
		d.pos[p+"#key"] = posOf(e.keyNode)
		switch e.key {
		case "kind":
		case "service":
			set(&w.Service, d.str, p, e.val)
		case "clients":
			set(&w.Clients, d.smallInt, p, e.val)
		case "rate":
			set(&w.Rate, d.smallInt, p, e.val)
		case "timeout":
			set(&w.Timeout, d.duration, p, e.val)
		case "retry":
			d.retry(&w.Retry, e.val)
		default:
			w.Params = d.param("workload", e, kind.Params, w.Params)
		}
	}
}

func (d *decoder) retry(r *plan.Retry, raw ast.Node) {
	es, ok := d.mapping("workload.retry", raw, "a mapping (attempts:, backoff:, max:)")
	if !ok {
		return
	}
	d.checkKeys("workload.retry", raw, es, "retry", retryKeys, nil)
	for _, e := range es {
		p := child("workload.retry", e.key)
		switch e.key {
		case "attempts":
			set(&r.Attempts, d.smallInt, p, e.val)
		case "backoff":
			set(&r.Backoff, d.duration, p, e.val)
		case "max":
			set(&r.Max, d.duration, p, e.val)
		}
	}
}
