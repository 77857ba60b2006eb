package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mscli/mscli/plan"

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
	if filename != "" {
		if abs, err := filepath.Abs(filepath.Dir(filename)); err == nil {
			d.dir = abs
		}
	}
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
	s.Source = data
	// Check the rest even after decoding problems: a file with a misspelt key and an
	// unknown link reports both at once. What failed to decode is marked bad, and the
	// checks that depend on it are skipped.
	d.errs = append(d.errs, s.validate()...)
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// extensionPrefix marks top-level keys the format ignores, a place for anchors that
// the rest of the file reuses (x-slow: &slow {latency: 500ms}), as in Compose files.
const extensionPrefix = "x-"

var (
	rootKeys    = []string{"name", "summary", "dir", "duration", "system", "workload", "faults", "nemesis", "invariants", "catches", "thresholds"}
	systemKeys  = []string{"broker", "compose", "services"}
	serviceKeys = []string{"fixture", "image", "command", "env", "secrets", "port", "ready", "depends-on", "observe", "replicas", "database", "bugs", "options"}
	probeKeys   = []string{"http", "tcp"}
	observeKeys = []string{"http", "sql"}
	sqlKeys     = []string{"url", "effects", "states", "operations"}
	bugKeys     = []string{"env", "breaks", "what"}
	// workloadKeys are every workload's keys; a workload kind declares its own beside
	// them (plan.WorkloadKind.Params).
	workloadKeys = []string{"kind", "service", "clients", "rate", "timeout", "retry"}
	retryKeys    = []string{"attempts", "backoff", "max"}
	nemesisKeys  = []string{"faults", "count", "min", "max", "between"}
	// faultKeys are a fault item's own keys; the rest are its kind's parameters.
	faultKeys  = []string{"at", "for", "fault", "link", "node", "stream"}
	targetKeys = []string{"link", "node", "stream"}
)

func (d *decoder) scenario(body ast.Node) *Scenario {
	s := &Scenario{File: d.file, Dir: d.dir, System: System{Broker: KnownBrokers[0]}, Workload: DefaultWorkload(), pos: d.pos, bad: d.bad}
	es, ok := d.mapping("", body, "a mapping (name:, duration:, system:, invariants: …)")
	if !ok {
		// Nothing else can be checked, and nothing else should be reported.
		for _, k := range rootKeys {
			d.bad[k] = true
		}
		return s
	}
	d.checkKeys("", body, es, "the scenario", rootKeys, []string{"name", "duration", "system", "invariants"})
	// dir: first: what system: names resolves against it, wherever it is written.
	for _, e := range es {
		if e.key == "dir" {
			d.baseDir(s, e.val)
		}
	}
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
		case "thresholds":
			d.thresholds(s, e.val)
		}
	}
	return s
}

// baseDir reads dir:, the folder the file's relative paths resolve against and its
// commands run in, instead of the file's own: absolute, or relative to the file's
// folder. It must be a folder that exists.
func (d *decoder) baseDir(s *Scenario, raw ast.Node) {
	const p = "dir"
	v, ok := d.str(p, raw)
	if !ok {
		return
	}
	if strings.TrimSpace(v) == "" {
		d.errorf(raw, p, "dir: empty: give a folder, absolute or relative to this file's")
		return
	}
	shown, abs := v, v
	if !filepath.IsAbs(v) {
		shown = filepath.Join(d.folder(), v)
		base := d.dir
		if base == "" {
			base, _ = filepath.Abs(".")
		}
		abs = filepath.Join(base, v)
	}
	switch fi, err := os.Stat(abs); {
	case err != nil:
		d.errorf(raw, p, "dir %s: no such folder (the folder this file's relative paths resolve against)", shown)
		return
	case !fi.IsDir():
		d.errorf(raw, p, "dir %s: not a folder", shown)
		return
	}
	d.dir, d.shown = filepath.Clean(abs), shown
	s.Dir = d.dir
}

// folder is the folder relative paths resolve against as errors name it: dir:, or
// the file's own.
func (d *decoder) folder() string {
	if d.shown != "" {
		return d.shown
	}
	return filepath.Dir(d.file)
}

// named reads a list item that is either a bare name ("latency") or a one-key mapping
// from a name to its parameters ("{converges: {within: 5s}}"), the shape shared by the
// invariants and the nemesis' fault kinds. Parameter positions go under path.params.
func (d *decoder) named(p string, raw ast.Node, want string, specOf func(name string) map[string]plan.Param) (string, map[string]string, bool) {
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
		spec := specOf(name)
		for _, e := range ps {
			params = d.param(p, e, spec, params)
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
	s.Invariants = []plan.Invariant{}
	for i, it := range items {
		name, params, _ := d.named(index("invariants", i), it, "an invariant, or invariant: {parameters}", invariantParams)
		s.Invariants = append(s.Invariants, plan.Invariant{Name: name, Params: params})
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
