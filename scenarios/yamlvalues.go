package scenarios

import (
	"math"

	"github.com/mscli/mscli/plan"

	"github.com/goccy/go-yaml/ast"
)

func (d *decoder) str(path string, raw ast.Node) (string, bool) {
	d.mark(path, raw)
	n, ok := d.resolve(path, raw)
	if !ok {
		return "", false
	}
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value != nil {
			return v.Value.Value, true
		}
	}
	d.typeError(path, raw, n, "a string")
	return "", false
}

// scalar reads any scalar as the text written, for fault and invariant parameters,
// whose types the checks know by parameter.
func (d *decoder) scalar(path string, raw ast.Node) (string, bool) {
	d.mark(path, raw)
	n, ok := d.resolve(path, raw)
	if !ok {
		return "", false
	}
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value != nil {
			return v.Value.Value, true
		}
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return v.GetToken().Value, true
	}
	d.typeError(path, raw, n, "a value")
	return "", false
}

func (d *decoder) duration(path string, raw ast.Node) (plan.Duration, bool) {
	d.mark(path, raw)
	n, ok := d.resolve(path, raw)
	if !ok {
		return 0, false
	}
	switch v := n.(type) {
	case *ast.StringNode:
		dur, msg := parseDuration(v.Value)
		if msg != "" {
			d.errorf(raw, path, "%s", msg)
			return 0, false
		}
		return dur, true
	case *ast.IntegerNode, *ast.FloatNode:
		// A bare number has no unit; YAML reads it as a number, not a string.
		t := v.GetToken().Value
		d.errorf(raw, path, "invalid duration %q: give a unit, e.g. %ss or %sms", t, t, t)
		return 0, false
	}
	d.typeError(path, raw, n, "a duration (e.g. 500ms, 3s)")
	return 0, false
}

// parseDuration reads a duration by plan's one rule; the message is "" when it is valid.
func parseDuration(s string) (plan.Duration, string) {
	d, err := plan.ParseDuration(s)
	if err != nil {
		return 0, err.Error()
	}
	return d, ""
}

func (d *decoder) integer(path string, raw ast.Node) (int64, bool) {
	d.mark(path, raw)
	n, ok := d.resolve(path, raw)
	if !ok {
		return 0, false
	}
	if v, isInt := n.(*ast.IntegerNode); isInt {
		switch x := v.Value.(type) {
		case int64:
			return x, true
		case uint64:
			if x <= math.MaxInt64 {
				return int64(x), true
			}
		}
		d.errorf(raw, path, "integer %s is too large", v.GetToken().Value)
		return 0, false
	}
	d.typeError(path, raw, n, "an integer")
	return 0, false
}

// smallInt reads an integer that must fit an int on every platform.
func (d *decoder) smallInt(path string, raw ast.Node) (int, bool) {
	v, ok := d.integer(path, raw)
	if !ok {
		return 0, false
	}
	if v > math.MaxInt32 || v < math.MinInt32 {
		d.errorf(raw, path, "integer %d is too large", v)
		return 0, false
	}
	return int(v), true
}

func (d *decoder) number(path string, raw ast.Node) (float64, bool) {
	d.mark(path, raw)
	n, ok := d.resolve(path, raw)
	if !ok {
		return 0, false
	}
	switch v := n.(type) {
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			return float64(x), true
		case uint64:
			return float64(x), true
		}
	case *ast.FloatNode:
		return v.Value, true
	}
	d.typeError(path, raw, n, "a number")
	return 0, false
}

// sequence reads a list; a missing value (key with nothing after it) is an empty list
// when nullOK.
func (d *decoder) sequence(path string, raw ast.Node, nullOK bool) ([]ast.Node, bool) {
	d.mark(path, raw)
	n, ok := d.resolve(path, raw)
	if !ok {
		return nil, false
	}
	switch v := n.(type) {
	case *ast.SequenceNode:
		return v.Values, true
	case nil, *ast.NullNode:
		if nullOK {
			return nil, true
		}
	}
	d.typeError(path, raw, n, "a list")
	return nil, false
}

// isNull says whether a value is missing (key: with nothing after it, or null).
// It does not follow aliases, so that it never reports anything itself.
func (d *decoder) isNull(raw ast.Node) bool {
	_, null := raw.(*ast.NullNode)
	return raw == nil || null
}

// set stores what parse makes of node at path in dst, if it makes anything of it (a
// bad value is reported by parse and leaves dst as it was).
func set[T any](dst *T, parse func(path string, node ast.Node) (T, bool), path string, node ast.Node) {
	if v, ok := parse(path, node); ok {
		*dst = v
	}
}

// boolean reads true or false.
func (d *decoder) boolean(path string, raw ast.Node) (bool, bool) {
	d.mark(path, raw)
	n, ok := d.resolve(path, raw)
	if !ok {
		return false, false
	}
	if v, isBool := n.(*ast.BoolNode); isBool {
		return v.Value, true
	}
	d.typeError(path, raw, n, "true or false")
	return false, false
}
