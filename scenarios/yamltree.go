package scenarios

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// position is a 1-based line and column in a scenario file.
type position struct{ line, col int }

// anchorDef is an anchor (&name) and the node it names; an alias refers to the latest
// anchor of its name before it, as YAML says.
type anchorDef struct {
	offset int
	node   ast.Node
}

// decoder turns a YAML syntax tree into a Scenario, collecting every problem.
type decoder struct {
	file    string
	dir     string // the file's directory (or its dir:), absolute: a service's command runs there
	shown   string // dir: as errors name it ("" without one)
	errs    ErrorList
	pos     map[string]position // see Scenario.pos
	bad     map[string]bool     // see Scenario.bad
	anchors map[string][]anchorDef
}

// maxNesting bounds how deep anchors, aliases and merge keys may chain; it only stops
// pathological input (an alias cycle) from looping.
const maxNesting = 64

func (d *decoder) errorAt(p position, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: p.line, Col: p.col, Path: path, Msg: fmt.Sprintf(format, args...)})
	if path != "" {
		// The root path is never marked: that would silence every later check.
		d.bad[path] = true
	}
}

func (d *decoder) errorf(n ast.Node, path, format string, args ...any) {
	d.errorAt(posOf(n), path, format, args...)
}

// syntaxError reports the YAML library's error at the token it names.
func (d *decoder) syntaxError(err error) {
	p, msg := position{1, 1}, err.Error()
	var ye yaml.Error
	if errors.As(err, &ye) {
		msg = ye.GetMessage()
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			p = position{max(1, tk.Position.Line), max(1, tk.Position.Column)}
		}
	}
	d.errorAt(p, "", "YAML syntax: %s", msg)
}

// mark records where the value at path is written.
func (d *decoder) mark(path string, n ast.Node) { d.pos[path] = posOf(n) }

// posOf is where a node starts. A block mapping's own token is its first ':', so its
// first key stands for it.
func posOf(n ast.Node) position {
	if n == nil {
		return position{1, 1}
	}
	switch v := n.(type) {
	case *ast.MappingNode:
		if !v.IsFlowStyle && len(v.Values) > 0 && v.Values[0] != nil && v.Values[0].Key != nil {
			return posOf(v.Values[0].Key)
		}
	case *ast.MappingValueNode:
		if v.Key != nil {
			return posOf(v.Key)
		}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return position{1, 1}
	}
	return position{max(1, tk.Position.Line), max(1, tk.Position.Column)}
}

// collectAnchors finds every anchor of the document, so that an alias resolves whatever
// order the decoder visits the file in.
func (d *decoder) collectAnchors(n ast.Node, depth int) {
	if n == nil || depth > 1000 {
		return
	}
	switch v := n.(type) {
	case *ast.AnchorNode:
		if v.Name != nil && v.Start != nil && v.Start.Position != nil {
			name := v.Name.GetToken().Value
			d.anchors[name] = append(d.anchors[name], anchorDef{offset: v.Start.Position.Offset, node: v.Value})
		}
		d.collectAnchors(v.Value, depth+1)
	case *ast.MappingNode:
		for _, mv := range v.Values {
			d.collectAnchors(mv, depth+1)
		}
	case *ast.MappingValueNode:
		if v.Key != nil {
			d.collectAnchors(v.Key, depth+1)
		}
		d.collectAnchors(v.Value, depth+1)
	case *ast.SequenceNode:
		for _, it := range v.Values {
			d.collectAnchors(it, depth+1)
		}
	case *ast.TagNode:
		d.collectAnchors(v.Value, depth+1)
	case *ast.MappingKeyNode:
		d.collectAnchors(v.Value, depth+1)
	}
}

// resolve looks through anchors, aliases, tags and explicit keys to the node that holds
// the value. It returns ok=false after reporting an alias it cannot resolve; a nil node
// with ok=true is a missing value.
func (d *decoder) resolve(path string, n ast.Node) (ast.Node, bool) {
	for range maxNesting {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.MappingKeyNode:
			n = v.Value
		case *ast.AliasNode:
			var name string
			if v.Value != nil && v.Value.GetToken() != nil {
				name = v.Value.GetToken().Value
			}
			off := 0
			if v.Start != nil && v.Start.Position != nil {
				off = v.Start.Position.Offset
			}
			var target ast.Node
			found := false
			for _, a := range d.anchors[name] {
				if a.offset < off {
					target, found = a.node, true
				}
			}
			if !found {
				d.errorf(v, path, "unknown alias *%s: no anchor &%s before it", name, name)
				return nil, false
			}
			n = target
		default:
			return n, true
		}
	}
	d.errorf(n, path, "anchors and aliases nest too deep")
	return nil, false
}

// entry is one key of a mapping.
type entry struct {
	key     string
	keyNode ast.Node
	val     ast.Node
}

func child(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// mapping reads a mapping's entries, merge keys (<<) included.
func (d *decoder) mapping(path string, raw ast.Node, want string) ([]entry, bool) {
	d.mark(path, raw)
	n, ok := d.resolve(path, raw)
	if !ok {
		return nil, false
	}
	switch m := n.(type) {
	case *ast.MappingNode:
		return d.entries(path, m.Values, 0), true
	case *ast.MappingValueNode:
		return d.entries(path, []*ast.MappingValueNode{m}, 0), true
	}
	d.typeError(path, raw, n, want)
	return nil, false
}

// entries lists a mapping's keys in file order; keys brought in by a merge key come
// after, unless the mapping sets them itself (YAML's merge rule: explicit keys win).
func (d *decoder) entries(path string, values []*ast.MappingValueNode, depth int) []entry {
	var own, merged []entry
	for _, mv := range values {
		if mv == nil || mv.Key == nil {
			continue
		}
		if mv.Key.IsMergeKey() {
			if depth >= maxNesting {
				d.errorf(mv.Key, path, "merge keys nest too deep")
				continue
			}
			merged = append(merged, d.mergeSources(path, mv.Value, depth)...)
			continue
		}
		k, ok := d.keyText(path, mv.Key)
		if !ok {
			continue
		}
		own = append(own, entry{key: k, keyNode: mv.Key, val: mv.Value})
	}
	seen := map[string]bool{}
	for _, e := range own {
		seen[e.key] = true
	}
	for _, e := range merged {
		if !seen[e.key] {
			seen[e.key] = true
			own = append(own, e)
		}
	}
	return own
}

func (d *decoder) mergeSources(path string, raw ast.Node, depth int) []entry {
	n, ok := d.resolve(path, raw)
	if !ok {
		return nil
	}
	switch v := n.(type) {
	case *ast.MappingNode:
		return d.entries(path, v.Values, depth+1)
	case *ast.MappingValueNode:
		return d.entries(path, []*ast.MappingValueNode{v}, depth+1)
	case *ast.SequenceNode:
		var out []entry
		for _, it := range v.Values {
			m, ok := d.resolve(path, it)
			if !ok {
				continue
			}
			mm, isMap := m.(*ast.MappingNode)
			if !isMap {
				d.errorf(it, path, "<< merges mappings, not %s", describe(m))
				continue
			}
			out = append(out, d.entries(path, mm.Values, depth+1)...)
		}
		return out
	}
	d.errorf(raw, path, "<< merges a mapping or a list of mappings, not %s", describe(n))
	return nil
}

func (d *decoder) keyText(path string, raw ast.Node) (string, bool) {
	n, ok := d.resolve(path, raw)
	if !ok {
		return "", false
	}
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return v.GetToken().Value, true
	}
	d.errorf(raw, path, "a key must be a plain string, not %s", describe(n))
	return "", false
}

// checkKeys reports keys that are not allowed here (suggesting the one probably meant)
// and required keys that are missing. A missing key that an unknown key looks like a
// misspelling of is not reported again.
func (d *decoder) checkKeys(path string, at ast.Node, es []entry, what string, allowed, required []string) {
	given := map[string]bool{}
	meant := map[string]bool{}
	for _, e := range es {
		given[e.key] = true
		d.pos[child(path, e.key)+"#key"] = posOf(e.keyNode)
		if path == "" && strings.HasPrefix(e.key, extensionPrefix) {
			continue
		}
		if !slices.Contains(allowed, e.key) {
			s := suggest(e.key, allowed)
			meant[s] = true
			if s != "" {
				d.errorf(e.keyNode, child(path, e.key), "unknown key %q in %s; did you mean %q?", e.key, what, s)
			} else {
				d.errorf(e.keyNode, child(path, e.key), "unknown key %q in %s (known: %s)", e.key, what, strings.Join(allowed, ", "))
			}
		}
	}
	for _, r := range required {
		if !given[r] {
			if !meant[r] {
				d.errorf(at, child(path, r), "missing required key %q in %s", r, what)
			}
			d.bad[child(path, r)] = true
		}
	}
}

// describe names a node's type and value for a message: `string "fast"`, `a mapping`.
func describe(n ast.Node) string {
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return "null"
	case *ast.StringNode:
		return fmt.Sprintf("string %q", v.Value)
	case *ast.LiteralNode:
		return "a block string"
	case *ast.IntegerNode:
		return "integer " + v.GetToken().Value
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "number " + v.GetToken().Value
	case *ast.BoolNode:
		return "boolean " + v.GetToken().Value
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	return n.Type().String()
}

func (d *decoder) typeError(path string, raw, n ast.Node, want string) {
	// The key leads the message, so that it reads on its own in a CI log.
	prefix := ""
	if key := path[strings.LastIndex(path, ".")+1:]; key != "" {
		prefix = key + ": "
	}
	if _, isNull := n.(*ast.NullNode); n == nil || isNull {
		d.errorf(raw, path, "%smissing value: expected %s", prefix, want)
		return
	}
	d.errorf(raw, path, "%sexpected %s, got %s", prefix, want, describe(n))
}
