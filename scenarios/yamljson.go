package scenarios

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/goccy/go-yaml/ast"

	"github.com/mscli/mscli/plan"
)

// Bounds on a structured parameter's value: aliases can make a small file stand for a
// huge or endless value, which must be refused rather than expanded.
const (
	maxObjectDepth = 32
	maxObjectNodes = 10000
)

// object reads a structured parameter (plan.ParamObject): any YAML value — a mapping, a
// list, a scalar — as canonical JSON (plan.CanonicalJSON). Every item's position is
// recorded under path ("workload.params.operations[1].path", and "#key" for its key),
// so that the kind's check reports a problem at the item (plan.ParamError).
func (d *decoder) object(path string, raw ast.Node) (string, bool) {
	budget := maxObjectNodes
	v, ok := d.jsonValue(path, raw, 0, &budget)
	if !ok {
		// Reported at the item; the parameter is not missing, for all that.
		d.bad[path] = true
		return "", false
	}
	s, err := plan.CanonicalJSON(v)
	if err != nil {
		d.errorf(raw, path, "%v", err)
		return "", false
	}
	return s, true
}

func (d *decoder) jsonValue(path string, raw ast.Node, depth int, budget *int) (any, bool) {
	if *budget <= 0 || depth > maxObjectDepth {
		if *budget >= 0 { // reported once
			d.errorf(raw, path, "value too large or too deeply nested (at most %d levels, %d items)", maxObjectDepth, maxObjectNodes)
			*budget = -1
		}
		return nil, false
	}
	*budget--
	d.mark(path, raw)
	n, ok := d.resolve(path, raw)
	if !ok {
		return nil, false
	}
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return nil, true
	case *ast.MappingNode, *ast.MappingValueNode:
		es, ok := d.mapping(path, raw, "a mapping")
		if !ok {
			return nil, false
		}
		out := make(map[string]any, len(es))
		for _, e := range es {
			ep := child(path, e.key)
			d.pos[ep+"#key"] = posOf(e.keyNode)
			val, vok := d.jsonValue(ep, e.val, depth+1, budget)
			ok = ok && vok
			out[e.key] = val
		}
		return out, ok
	case *ast.SequenceNode:
		out := make([]any, 0, len(v.Values))
		for i, it := range v.Values {
			val, vok := d.jsonValue(index(path, i), it, depth+1, budget)
			ok = ok && vok
			out = append(out, val)
		}
		return out, ok
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value != nil {
			return v.Value.Value, true
		}
		return "", true
	case *ast.BoolNode:
		return v.Value, true
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			return json.Number(strconv.FormatInt(x, 10)), true
		case uint64:
			return json.Number(strconv.FormatUint(x, 10)), true
		}
	case *ast.FloatNode:
		if !math.IsInf(v.Value, 0) && !math.IsNaN(v.Value) {
			return json.Number(strconv.FormatFloat(v.Value, 'g', -1, 64)), true
		}
	}
	d.typeError(path, raw, n, "a value JSON can hold (a mapping, a list, a string, a number, true or false)")
	return nil, false
}
