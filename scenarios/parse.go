package scenarios

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Load reads and checks a scenario file. A file that cannot be read gives the OS error;
// a file with problems gives an ErrorList holding all of them.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	return Parse(path, data)
}

// Parse checks a scenario held in memory; filename is what errors name. On any problem
// it returns a nil Scenario and an ErrorList of every problem found, sorted by position.
//
// The file is read through the YAML library's syntax tree rather than decoded into
// structs, because the tree keeps the line and column of every key and value: that is
// what lets each message point at the exact spot, and lets checking go on after the
// first problem.
func Parse(filename string, data []byte) (s *Scenario, err error) {
	defer func() {
		// Any input must give an answer, never a crash of the command line; a panic here
		// (in this package or in the YAML library) is a bug, reported as one.
		if r := recover(); r != nil {
			s = nil
			err = ErrorList{{File: filename, Line: 1, Col: 1, Msg: fmt.Sprintf("internal error reading the scenario (please report it): %v", r)}}
		}
	}()
	d := &decoder{file: filename, pos: map[string]position{}, bad: map[string]bool{}, anchors: map[string][]anchorDef{}}
	file, perr := parser.ParseBytes(data, 0)
	if perr != nil {
		d.syntaxError(perr)
		return nil, d.errs.err()
	}
	var body ast.Node
	if file != nil {
		for _, doc := range file.Docs {
			if doc == nil || doc.Body == nil {
				continue
			}
			if body != nil {
				d.errorf(doc.Body, "", "a scenario file holds one YAML document; this is a second one")
				break
			}
			body = doc.Body
			d.collectAnchors(body, 0)
		}
	}
	if body == nil {
		d.errorAt(position{1, 1}, "", "empty scenario: expected a mapping with name, duration, system and invariants")
		return nil, d.errs.err()
	}
	s = d.scenario(body)
	// Check the rest even after decoding problems: a file with a misspelt key and an
	// unknown link reports both at once. What failed to decode is marked bad, and the
	// checks that depend on it are skipped.
	d.errs = append(d.errs, s.validate()...)
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return s, nil
}

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

func (d *decoder) duration(path string, raw ast.Node) (Duration, bool) {
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

// parseDuration reads a Go duration; the message is "" when it is valid.
func parseDuration(s string) (Duration, string) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Sprintf("invalid duration %q (write e.g. 500ms, 3s, 1m30s)", s)
	}
	if v < 0 {
		return 0, fmt.Sprintf("invalid duration %q: must not be negative", s)
	}
	return Duration(v), ""
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

// extensionPrefix marks top-level keys the format ignores, a place for anchors that
// the rest of the file reuses (x-slow: &slow {latency: 500ms}), as in Compose files.
const extensionPrefix = "x-"

var (
	rootKeys     = []string{"name", "summary", "duration", "system", "workload", "faults", "nemesis", "invariants", "catches"}
	systemKeys   = []string{"broker", "services"}
	serviceKeys  = []string{"fixture", "image", "observe", "replicas", "database"}
	workloadKeys = []string{"kind", "clients", "rate", "accounts", "opening", "mix", "timeout", "retry"}
	retryKeys    = []string{"attempts", "backoff", "max"}
	nemesisKeys  = []string{"faults", "count", "min", "max", "between"}
	// faultKeys are a fault item's own keys; the rest are its kind's parameters.
	faultKeys  = []string{"at", "for", "fault", "link", "node", "stream"}
	targetKeys = []string{"link", "node", "stream"}
)

func (d *decoder) scenario(body ast.Node) *Scenario {
	s := &Scenario{File: d.file, System: System{Broker: KnownBrokers[0]}, Workload: DefaultWorkload(), pos: d.pos, bad: d.bad}
	es, ok := d.mapping("", body, "a mapping (name:, duration:, system:, invariants: …)")
	if !ok {
		// Nothing else can be checked, and nothing else should be reported.
		for _, k := range rootKeys {
			d.bad[k] = true
		}
		return s
	}
	d.checkKeys("", body, es, "the scenario", rootKeys, []string{"name", "duration", "system", "invariants"})
	for _, e := range es {
		p := e.key
		switch e.key {
		case "name":
			s.Name, _ = d.str(p, e.val)
		case "summary":
			s.Summary, _ = d.str(p, e.val)
		case "duration":
			s.Duration, _ = d.duration(p, e.val)
		case "system":
			d.system(s, e.val)
		case "workload":
			d.workload(s, e.val)
		case "faults":
			d.faults(s, e.val)
		case "nemesis":
			d.nemesis(s, e.val)
		case "invariants":
			d.invariants(s, e.val)
		case "catches":
			d.catches(s, e.val)
		}
	}
	return s
}

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
		svc := Service{Name: e.key, Replicas: 1}
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
	slices.SortStableFunc(s.System.Services, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
}

// set stores what parse makes of node at path in dst, if it makes anything of it (a
// bad value is reported by parse and leaves dst as it was).
func set[T any](dst *T, parse func(path string, node ast.Node) (T, bool), path string, node ast.Node) {
	if v, ok := parse(path, node); ok {
		*dst = v
	}
}

func (d *decoder) workload(s *Scenario, raw ast.Node) {
	es, ok := d.mapping("workload", raw, "a mapping (kind:, clients:, rate:, …)")
	if !ok {
		return
	}
	d.checkKeys("workload", raw, es, "workload", workloadKeys, nil)
	w := &s.Workload
	for _, e := range es {
		p := child("workload", e.key)
		switch e.key {
		case "kind":
			set(&w.Kind, d.str, p, e.val)
		case "clients":
			set(&w.Clients, d.smallInt, p, e.val)
		case "rate":
			set(&w.Rate, d.smallInt, p, e.val)
		case "accounts":
			set(&w.Accounts, d.smallInt, p, e.val)
		case "opening":
			set(&w.Opening, d.integer, p, e.val)
		case "mix":
			set(&w.Mix, d.number, p, e.val)
		case "timeout":
			set(&w.Timeout, d.duration, p, e.val)
		case "retry":
			d.retry(&w.Retry, e.val)
		}
	}
}

func (d *decoder) retry(r *Retry, raw ast.Node) {
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
	kind, known := FaultKinds[f.Kind]
	if _, given := d.pos[p+".fault"]; !given {
		d.errorf(raw, p+".fault", "missing required key %q in fault (one of %s)", "fault", strings.Join(sortedKeys(FaultKinds), ", "))
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
				case ParamInt:
					if v, ok := d.integer(pp, e.val); ok {
						f.Params = setParam(f.Params, e.key, strconv.FormatInt(v, 10))
					}
					continue
				case ParamRatio:
					if v, ok := d.number(pp, e.val); ok {
						f.Params = setParam(f.Params, e.key, formatRatio(v))
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
				n.Between = [2]Duration{lo, hi}
			} else {
				d.bad[p] = true
			}
		}
	}
}

// named reads a list item that is either a bare name ("latency") or a one-key mapping
// from a name to its parameters ("{converges: {within: 5s}}"), the shape shared by the
// invariants and the nemesis' fault kinds. Parameter positions go under path.params.
func (d *decoder) named(p string, raw ast.Node, want string) (string, map[string]string, bool) {
	d.mark(p, raw)
	n, ok := d.resolve(p, raw)
	if !ok {
		return "", nil, false
	}
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, nil, true
	case *ast.MappingNode, *ast.MappingValueNode:
		es, _ := d.mapping(p, raw, want)
		if len(es) != 1 {
			d.errorf(raw, p, "expected %s with one name, got %d keys", want, len(es))
			return "", nil, false
		}
		name := es[0].key
		d.pos[p+".name"] = posOf(es[0].keyNode)
		if d.isNull(es[0].val) {
			return name, nil, true
		}
		ps, ok := d.mapping(p+".params", es[0].val, "a mapping of parameters")
		if !ok {
			return name, nil, false
		}
		var params map[string]string
		for _, e := range ps {
			pp := p + ".params." + e.key
			d.pos[pp+"#key"] = posOf(e.keyNode)
			if v, ok := d.scalar(pp, e.val); ok {
				params = setParam(params, e.key, v)
			}
		}
		return name, params, true
	}
	d.typeError(p, raw, n, want)
	return "", nil, false
}

func (d *decoder) invariants(s *Scenario, raw ast.Node) {
	items, ok := d.sequence("invariants", raw, false)
	if !ok {
		return
	}
	s.Invariants = []Invariant{}
	for i, it := range items {
		name, params, _ := d.named(index("invariants", i), it, "an invariant, or invariant: {parameters}")
		s.Invariants = append(s.Invariants, Invariant{Name: name, Params: params})
	}
}

func (d *decoder) catches(s *Scenario, raw ast.Node) {
	if d.isNull(raw) {
		return
	}
	es, ok := d.mapping("catches", raw, "a mapping of bug names to invariants")
	if !ok {
		return
	}
	s.Catches = map[string]string{}
	for _, e := range es {
		p := child("catches", e.key)
		d.pos[p+"#key"] = posOf(e.keyNode)
		if v, ok := d.str(p, e.val); ok {
			s.Catches[e.key] = v
		}
	}
}
