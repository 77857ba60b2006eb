package scenarios

import (
	"strconv"
	"strings"

	"github.com/mscli/mscli/plan"

	"github.com/goccy/go-yaml/ast"
)

func (d *decoder) faults(s *Scenario, raw ast.Node) {
	items, ok := d.sequence("faults", raw, true)
	if !ok {
		return
	}
	for i, it := range items {
		// Every item gets a FaultSpec, broken or not, so that s.Faults[i] is written at
		// faults[i]: the checks find positions by index.
		s.Faults = append(s.Faults, d.fault(index("faults", i), it))
	}
}

func (d *decoder) fault(p string, raw ast.Node) FaultSpec {
	var f FaultSpec
	es, ok := d.mapping(p, raw, "a fault (a mapping with at:, fault: and a target)")
	if !ok {
		return f
	}
	for _, e := range es {
		if e.key == "fault" {
			f.Kind, _ = d.str(p+".fault", e.val)
		}
	}
	kind, known := plan.LookupFaultKind(f.Kind)
	if _, given := d.pos[p+".fault"]; !given {
		d.errorf(raw, p+".fault", "missing required key %q in fault (one of %s)", "fault", strings.Join(plan.FaultKindNames(), ", "))
	}
	var targetKey string
	for _, e := range es {
		fp := child(p, e.key)
		d.pos[fp+"#key"] = posOf(e.keyNode)
		switch e.key {
		case "fault":
		case "at":
			f.At, _ = d.duration(fp, e.val)
		case "for":
			f.For, _ = d.duration(fp, e.val)
		case "link", "node", "stream":
			tp := p + ".target"
			d.pos[tp+"#key"] = posOf(e.keyNode)
			if targetKey != "" {
				d.errorf(e.keyNode, tp, "a fault has one target: %s: and %s: are both given", targetKey, e.key)
				continue
			}
			targetKey = e.key
			f.Target, _ = d.str(tp, e.val)
			if known && e.key != string(kind.Target) {
				d.errorf(e.keyNode, tp, "fault %s acts on a %s: write %s: instead of %s:", f.Kind, kind.Target, kind.Target, e.key)
			}
		default:
			f.Params = d.param(p, e, kind.Params, f.Params)
		}
	}
	if _, given := d.pos[p+".at"]; !given {
		d.errorf(raw, p+".at", "missing required key %q in fault: when it starts, e.g. at: 3s", "at")
	}
	if known && targetKey == "" {
		d.errorf(raw, p+".target", "fault %s needs a target: %s: <%s name>", f.Kind, kind.Target, kind.Target)
	}
	return f
}

// param reads the entry e of the mapping at path p as a parameter of a kind whose
// declared parameters are spec, into params (made when nil). A number must be a YAML
// number, as the JSON Schema says; an undeclared key is kept as written, for the
// validation to name it.
func (d *decoder) param(p string, e entry, spec map[string]plan.Param, params map[string]string) map[string]string {
	pp := p + ".params." + e.key
	d.pos[pp+"#key"] = posOf(e.keyNode)
	var v string
	var ok bool
	switch spec[e.key].Type {
	case plan.ParamInt:
		var n int64
		if n, ok = d.integer(pp, e.val); ok {
			v = strconv.FormatInt(n, 10)
		}
	case plan.ParamRatio:
		var f float64
		if f, ok = d.number(pp, e.val); ok {
			v = plan.FormatRatio(f)
		}
	case plan.ParamObject:
		v, ok = d.object(pp, e.val)
	default:
		v, ok = d.scalar(pp, e.val)
	}
	if !ok {
		return params
	}
	if params == nil {
		params = map[string]string{}
	}
	params[e.key] = v
	return params
}

func (d *decoder) nemesis(s *Scenario, raw ast.Node) {
	if d.isNull(raw) {
		return
	}
	n := &Nemesis{Count: DefaultNemesisCount, Min: DefaultNemesisMin, Max: DefaultNemesisMax}
	s.Nemesis = n
	es, ok := d.mapping("nemesis", raw, "a mapping (faults:, count:, min:, max:, between:)")
	if !ok {
		return
	}
	d.checkKeys("nemesis", raw, es, "nemesis", nemesisKeys, []string{"faults"})
	for _, e := range es {
		p := child("nemesis", e.key)
		switch e.key {
		case "faults":
			items, ok := d.sequence(p, e.val, false)
			if !ok {
				continue
			}
			for i, it := range items {
				name, params, _ := d.named(index(p, i), it, "a fault kind, or kind: {parameters}", func(string) map[string]plan.Param { return nil })
				n.Faults = append(n.Faults, NemesisFault{Kind: name, Params: params})
			}
		case "count":
			set(&n.Count, d.smallInt, p, e.val)
		case "min":
			set(&n.Min, d.duration, p, e.val)
		case "max":
			set(&n.Max, d.duration, p, e.val)
		case "between":
			items, ok := d.sequence(p, e.val, false)
			if !ok {
				continue
			}
			if len(items) != 2 {
				d.errorf(e.val, p, "between is [start, end]: two durations, not %d", len(items))
				continue
			}
			lo, ok1 := d.duration(index(p, 0), items[0])
			hi, ok2 := d.duration(index(p, 1), items[1])
			if ok1 && ok2 {
				n.Between = [2]plan.Duration{lo, hi}
			} else {
				d.bad[p] = true
			}
		}
	}
}
