package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/mscli/mscli/plan"
)

// WithFaults rewrites a scenario file so that its faults are exactly the given ones
// and it has no nemesis: the faults: entry is replaced by the given faults, each at its
// absolute start with its concrete target (a replica, a link, a stream) and every
// parameter, and the nemesis: entry is removed. Everything else — keys, values,
// comments, blank lines — is left byte for byte as it was. The given faults must come
// from a plan of this file (a subset, windows maybe shortened): planning the result
// with the plan's seed gives those faults, in their order, and the same workload,
// since the workload's operations are drawn from the seed alone. comment, when not
// empty, is written as comment lines at the head of the new faults: list.
//
// The file must be a block mapping at the top (as every scenario is written); a file
// whose top level is one flow mapping ({name: …, …}) is refused.
func WithFaults(src []byte, faults []plan.Fault, comment string) ([]byte, error) {
	t, err := topLevelOf(src)
	if err != nil {
		return nil, err
	}
	lines, entries, col, spanOf := t.lines, t.entries, t.col, t.spanOf
	var faultsAt, nemesisAt *lineSpan
	for i, e := range entries {
		switch keyOf(e) {
		case "faults":
			s := spanOf(i)
			faultsAt = &s
		case "nemesis":
			s := spanOf(i)
			nemesisAt = &s
		}
	}
	text, err := faultsYAML(faults, strings.Repeat(" ", col-1), comment)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	emit := func(from, to int) {
		for _, l := range lines[from:to] {
			out.WriteString(l)
		}
	}
	at := 0
	var cuts []lineSpan
	var insert *lineSpan // where the new faults go
	switch {
	case faultsAt != nil:
		insert = faultsAt
		cuts = append(cuts, *faultsAt)
	case nemesisAt != nil:
		insert = nemesisAt
	}
	if nemesisAt != nil {
		cuts = append(cuts, *nemesisAt)
	}
	slices.SortFunc(cuts, func(a, b lineSpan) int { return a.from - b.from })
	for _, c := range cuts {
		emit(at, c.from)
		if insert != nil && c == *insert {
			out.WriteString(text)
		}
		at = c.to
	}
	emit(at, len(lines))
	if insert == nil {
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteByte('\n')
		}
		out.WriteString(text)
	}
	return out.Bytes(), nil
}

// lineSpan is a range of lines: 0-based indexes, to exclusive.
type lineSpan struct{ from, to int }

// topLevel is a scenario file's top-level entries, as lines.
type topLevel struct {
	lines   []string
	entries []*ast.MappingValueNode
	starts  []int // the line index of each entry's key
	col     int   // the column of the top-level keys
}

// topLevelOf reads the top level of a scenario file, a block mapping.
func topLevelOf(src []byte) (*topLevel, error) {
	file, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, fmt.Errorf("rewrite scenario: %w", err)
	}
	var body ast.Node
	for _, doc := range file.Docs {
		if doc != nil && doc.Body != nil {
			body = doc.Body
			break
		}
	}
	t := &topLevel{lines: splitLines(src), col: 1}
	switch v := body.(type) {
	case *ast.MappingNode:
		if v.IsFlowStyle {
			return nil, errors.New("rewrite scenario: its top level is a flow mapping ({…}); write it as a block mapping")
		}
		t.entries = v.Values
	case *ast.MappingValueNode:
		t.entries = []*ast.MappingValueNode{v}
	default:
		return nil, errors.New("rewrite scenario: the file is not a mapping")
	}
	t.starts = make([]int, len(t.entries))
	for i, e := range t.entries {
		tk := e.Key.GetToken()
		if tk == nil || tk.Position == nil {
			return nil, errors.New("rewrite scenario: a top-level key without a position")
		}
		t.starts[i] = tk.Position.Line - 1
		t.col = tk.Position.Column
	}
	return t, nil
}

// spanOf is the lines of entry i: from its key's line to the next key's, less the
// blank lines and the top-level comments just before that key (they belong to it) and
// a document marker.
func (t *topLevel) spanOf(i int) lineSpan {
	to := len(t.lines)
	if i+1 < len(t.entries) {
		to = t.starts[i+1]
	}
	for to > t.starts[i]+1 && trailer(t.lines[to-1], t.col) {
		to--
	}
	return lineSpan{t.starts[i], to}
}

// WithDir rewrites a scenario file so that it reads the same from any folder: it sets
// the top-level dir: — the folder its relative paths (a service's command,
// system.compose) resolve against and its commands run in — to dir, an absolute
// folder, replacing the dir: it has or adding one after name: and summary:.
// Everything else is left byte for byte as it was. comment, when not empty, is
// written as comment lines above it.
func WithDir(src []byte, dir, comment string) ([]byte, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("rewrite scenario: dir %s is not absolute", dir)
	}
	t, err := topLevelOf(src)
	if err != nil {
		return nil, err
	}
	indent := strings.Repeat(" ", t.col-1)
	var text strings.Builder
	if comment != "" {
		for _, l := range strings.Split(comment, "\n") {
			text.WriteString(strings.TrimRight(indent+"# "+l, " ") + "\n")
		}
	}
	text.WriteString(indent + "dir: " + yamlString(filepath.Clean(dir)) + "\n")
	cut := lineSpan{-1, -1}
	at := len(t.lines)
	for i, e := range t.entries {
		switch k := keyOf(e); {
		case k == "dir":
			cut = t.spanOf(i)
		case at == len(t.lines) && k != "name" && k != "summary":
			// After the entry before it, above that key's own comments.
			at = t.starts[i]
			if i > 0 {
				at = t.spanOf(i - 1).to
			}
		}
	}
	if cut.from >= 0 {
		at = cut.from
	}
	var out strings.Builder
	for i, l := range t.lines {
		if i == at {
			out.WriteString(text.String())
		}
		if i >= cut.from && i < cut.to {
			continue
		}
		out.WriteString(l)
	}
	if at == len(t.lines) {
		if out.Len() > 0 && !strings.HasSuffix(out.String(), "\n") {
			out.WriteByte('\n')
		}
		out.WriteString(text.String())
	}
	return []byte(out.String()), nil
}

// splitLines splits src after each newline, keeping them, so that joining the lines
// gives src back.
func splitLines(src []byte) []string {
	var out []string
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			out = append(out, string(src))
			break
		}
		out = append(out, string(src[:i+1]))
		src = src[i+1:]
	}
	return out
}

// trailer says whether a line after an entry's value belongs to what follows it: a
// blank line, a comment no deeper than the top-level keys (column col), or a document
// marker.
func trailer(line string, col int) bool {
	trimmed := strings.TrimLeft(line, " \t")
	switch {
	case strings.TrimSpace(line) == "":
		return true
	case strings.HasPrefix(trimmed, "#"):
		return len(line)-len(trimmed) < col
	case strings.HasPrefix(line, "---"), strings.HasPrefix(line, "..."):
		return true
	}
	return false
}

func keyOf(e *ast.MappingValueNode) string {
	if e == nil || e.Key == nil {
		return ""
	}
	if tk := e.Key.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// faultsYAML writes the faults: entry, one flow mapping per fault.
func faultsYAML(faults []plan.Fault, indent, comment string) (string, error) {
	var b strings.Builder
	if len(faults) == 0 && comment == "" {
		return indent + "faults: []\n", nil
	}
	b.WriteString(indent + "faults:")
	if len(faults) == 0 {
		b.WriteString(" []")
	}
	b.WriteString("\n")
	if comment != "" {
		for _, l := range strings.Split(comment, "\n") {
			b.WriteString(strings.TrimRight(indent+"  # "+l, " ") + "\n")
		}
	}
	for _, f := range faults {
		line, err := faultYAML(f)
		if err != nil {
			return "", err
		}
		b.WriteString(indent + "  - " + line + "\n")
	}
	return b.String(), nil
}

// faultYAML writes one fault as a flow mapping: at, for, fault, its target under its
// kind's target key, then its parameters by name.
func faultYAML(f plan.Fault) (string, error) {
	kind, ok := plan.LookupFaultKind(f.Kind)
	if !ok {
		return "", fmt.Errorf("rewrite scenario: unknown fault %q", f.Kind)
	}
	parts := []string{"at: " + f.At.String()}
	if f.For > 0 {
		parts = append(parts, "for: "+f.For.String())
	}
	parts = append(parts, "fault: "+yamlString(f.Kind), string(kind.Target)+": "+yamlString(f.Target))
	for _, name := range sortedKeys(f.Params) {
		if slices.Contains(faultKeys, name) {
			return "", fmt.Errorf("rewrite scenario: fault %s has a parameter named %q, a fault key", f.Kind, name)
		}
		v := f.Params[name]
		switch kind.Params[name].Type {
		case plan.ParamInt, plan.ParamRatio, plan.ParamObject:
			// Canonical numbers and JSON (plan.Param.Norm) are YAML flow values as
			// they are, read back as the number or structure they were.
			if v == "" {
				v = `""`
			}
		default:
			v = yamlString(v)
		}
		parts = append(parts, yamlString(name)+": "+v)
	}
	return "{" + strings.Join(parts, ", ") + "}", nil
}

// plainSafe is a string YAML reads back as that string when written without quotes
// in a flow mapping, unless it reads as another type (yamlString checks that).
var plainSafe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./>+-]*$`)

// yamlString writes s as a YAML string: plain when that reads back as the same
// string, else double-quoted (JSON's quoting is YAML's).
func yamlString(s string) string {
	if plainSafe.MatchString(s) && !otherType(s) {
		return s
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// otherType says whether a plain scalar s would read as something other than a
// string: a number, a boolean or null, in YAML 1.1's spellings too.
func otherType(s string) bool {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~":
		return true
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return true
	}
	if _, err := strconv.ParseInt(s, 0, 64); err == nil {
		return true
	}
	// 1_000 and the like: anything made of digits, signs and separators only.
	return strings.Trim(s, "0123456789_.+-eE") == ""
}

// Requires says, for each of a plan's faults, which others (by index) a scenario must
// keep with it to be valid: a wipe that restores a snapshot needs the latest snapshot
// of that name on its node before it. A subset of a plan's faults closed under it is
// one WithFaults can write.
func Requires(faults []plan.Fault) [][]int {
	out := make([][]int, len(faults))
	snapName := func(f plan.Fault) string {
		if n := f.Params["name"]; n != "" {
			return n
		}
		return kindOf("snapshot").Params["name"].Default
	}
	for i, w := range faults {
		restore := w.Params["restore"]
		if w.Kind != "wipe" || restore == "" {
			continue
		}
		best := -1
		for j, f := range faults {
			if f.Kind == "snapshot" && f.Target == w.Target && f.At < w.At && snapName(f) == restore &&
				(best < 0 || f.At >= faults[best].At) {
				best = j
			}
		}
		if best >= 0 {
			out[i] = []int{best}
		}
	}
	return out
}

// Close adds to a subset of faults (indexes, sorted) every fault it requires
// (Requires), and returns it sorted.
func Close(subset []int, requires [][]int) []int {
	in := map[int]bool{}
	var add func(i int)
	add = func(i int) {
		if in[i] {
			return
		}
		in[i] = true
		for _, j := range requires[i] {
			add(j)
		}
	}
	for _, i := range subset {
		add(i)
	}
	out := make([]int, 0, len(in))
	for i := range in {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}
