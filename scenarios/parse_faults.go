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
			pp := p + ".params." + e.key
			d.pos[pp+"#key"] = posOf(e.keyNode)
			if param, isParam := kind.Params[e.key]; known && isParam {
				// Numbers must be YAML numbers, as the JSON Schema says.
				switch param.Type {
				case plan.ParamInt:
					if v, ok := d.integer(pp, e.val); ok {
						f.Params = setParam(f.Params, e.key, strconv.FormatInt(v, 10))
					}
					continue
				case plan.ParamRatio:
					if v, ok := d.number(pp, e.val); ok {
						f.Params = setParam(f.Params, e.key, plan.FormatRatio(v))
					}
					continue
				}
			}
			if v, ok := d.scalar(pp, e.val); ok {
				f.Params = setParam(f.Params, e.key, v)
			}
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

func setParam(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
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
				name, params, _ := d.named(index(p, i), it, "a fault kind, or kind: {parameters}")
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
