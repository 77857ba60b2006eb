package workload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/mscli/mscli/plan"
)

// httpErrs collects the problems of an http workload's parameters.
type httpErrs []error

func (e *httpErrs) at(param, path, format string, args ...any) {
	*e = append(*e, &plan.ParamError{Param: param, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// atKey reports a key that does not belong where it is written.
func (e *httpErrs) atKey(param, path, format string, args ...any) {
	*e = append(*e, &plan.ParamError{Param: param, Path: path, Key: true, Msg: fmt.Sprintf(format, args...)})
}

func (e *httpErrs) unknownKey(param, path, key, where string, known []string) {
	*e = append(*e, &plan.ParamError{Param: param, Path: path, Key: true, Known: known,
		Msg: fmt.Sprintf("unknown key %q in %s", key, where)})
}

// compileHTTP checks and compiles an http workload's parameters; the error joins a
// *plan.ParamError per problem.
func compileHTTP(w plan.Workload) (*httpSpec, error) {
	a := w.Args()
	var errs httpErrs
	s := &httpSpec{}
	keys, err1 := a.Int("keys")
	prefix := a.Value("key-prefix")
	var err2 error
	if !paramName(prefix) {
		err2 = &plan.ParamError{Param: "key-prefix", Msg: fmt.Sprintf("invalid key-prefix %q: use letters, digits, '-' and '_'", prefix)}
	}
	lo, hi, err3 := a.Range("amount")
	ops, err4 := a.Object("operations")
	status, err5 := a.Object("status")
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s.keys, s.prefix, s.amtLo, s.amtHi = int(keys), prefix, lo, hi
	s.compileOps(ops, &errs)
	s.compileStatus(status, &errs)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func (s *httpSpec) compileOps(raw json.RawMessage, errs *httpErrs) {
	const param = "operations"
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		errs.at(param, "", "expected a list of operations, got %s", jsonKind(raw))
		return
	}
	if len(items) == 0 {
		errs.at(param, "", "no operations: give at least one write")
		return
	}
	names := map[string]bool{}
	writes := 0
	for i, it := range items {
		p := fmt.Sprintf("[%d]", i)
		op, ok := compileOp(param, p, it, errs)
		if op != nil && op.name != "" {
			if names[op.name] {
				errs.at(param, p+".name", "operation %q is declared twice", op.name)
				continue
			}
			names[op.name] = true
		}
		if !ok {
			continue
		}
		s.ops = append(s.ops, op)
		s.total += op.weight
		if op.read && s.read == nil {
			s.read = op
		}
		if !op.read {
			writes++
		}
	}
	if writes == 0 && len(s.ops) == len(items) {
		errs.at(param, "", "no write operation: every operation is a read (read: true); give at least one write")
	}
}

// compileOp checks and compiles the operation at path p.
func compileOp(param, p string, raw json.RawMessage, errs *httpErrs) (*httpOp, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		errs.at(param, p, "expected an operation (a mapping with name: and path:), got %s", jsonKind(raw))
		return nil, false
	}
	n := len(*errs)
	op := &httpOp{weight: 1, idem: idemHeader}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(httpOpKeys, k) {
			errs.unknownKey(param, p+"."+k, k, "an operation", httpOpKeys)
		}
	}
	str := func(key string) (string, bool) {
		v, given := m[key]
		if !given {
			return "", false
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			errs.at(param, p+"."+key, "%s: expected a string, got %s", key, jsonKind(v))
			return "", false
		}
		return s, true
	}
	if v, given := m["read"]; given {
		if json.Unmarshal(v, &op.read) != nil {
			errs.at(param, p+".read", "read: expected true or false, got %s", jsonKind(v))
		}
	}
	name, given := str("name")
	switch {
	case !given && m["name"] == nil:
		errs.at(param, p, "missing required key %q in operation: its name, the f of its records", "name")
	case given && !paramName(name):
		errs.at(param, p+".name", "invalid operation name %q: use letters, digits, '-' and '_'", name)
	case given && !op.read && name == FRead:
		errs.at(param, p+".name", "a write cannot be named %q: the history records reads under that name", FRead)
	}
	op.name = name
	if v, given := m["weight"]; given {
		n, isInt := jsonInt(v)
		switch {
		case !isInt:
			errs.at(param, p+".weight", "weight: expected an integer, got %s", jsonKind(v))
		case n < 1 || n > 1_000_000:
			errs.at(param, p+".weight", "weight must be from 1 to 1000000, not %d", n)
		default:
			op.weight = int(n)
		}
	}
	method, given := str("method")
	switch {
	case !given && op.read:
		op.method = http.MethodGet
	case !given:
		op.method = http.MethodPost
	case op.read && method != http.MethodGet:
		errs.at(param, p+".method", "invalid method %q: a read is a GET", method)
	case !op.read && !slices.Contains(httpWriteVerbs, method):
		errs.at(param, p+".method", "invalid method %q for a write (one of %s)", method, strings.Join(httpWriteVerbs, ", "))
	default:
		op.method = method
	}
	// The templates: a write's see the key, the id and the amount; a read's the key.
	fields := []string{"Key", "ID", "Amount"}
	var sample any = httpData{Key: "key-0", ID: "op-000000", Amount: 1}
	if op.read {
		fields, sample = []string{"Key"}, httpReadData{Key: "key-0"}
	}
	var pathUses, bodyUses map[string]bool
	if src, given := str("path"); given {
		op.path, pathUses = compileTemplate(param, p+".path", "path", src, fields, sample, errs)
		if op.path != nil {
			if out, err := render(op.path, sample); err == nil {
				if u, perr := url.Parse(out); !strings.HasPrefix(out, "/") || perr != nil || u.Host != "" {
					errs.at(param, p+".path", "path must be a URL path starting with /, e.g. /orders/{{.ID}}: %q", src)
				}
			}
		}
	} else if m["path"] == nil {
		errs.at(param, p, "missing required key %q in operation: the URL path it requests, e.g. /orders", "path")
	}
	if op.read {
		for _, k := range []string{"body", "idempotency-key"} {
			if _, given := m[k]; given {
				errs.atKey(param, p+"."+k, "%s: does not apply to a read (read: true)", k)
			}
		}
		field := func(key string) []string {
			f, given := str(key)
			if !given {
				return nil
			}
			if !httpFieldRE.MatchString(f) {
				errs.at(param, p+"."+key, "invalid %s field %q: a JSON field of the response, names joined by dots for nested ones", key, f)
				return nil
			}
			return strings.Split(f, ".")
		}
		op.value, op.seq = field("value"), field("seq")
		if _, given := m["value"]; !given {
			errs.at(param, p, "missing required key %q in a read: the JSON field of the response holding the value (an integer)", "value")
		}
		return op, len(*errs) == n
	}
	for _, k := range []string{"value", "seq"} {
		if _, given := m[k]; given {
			errs.atKey(param, p+"."+k, "%s: applies to a read only (read: true)", k)
		}
	}
	if src, given := str("body"); given && src != "" {
		op.body, bodyUses = compileTemplate(param, p+".body", "body", src, fields, sample, errs)
	}
	if mode, given := str("idempotency-key"); given {
		if !slices.Contains(httpIdemModes, mode) {
			errs.at(param, p+".idempotency-key", "invalid idempotency-key %q (one of %s)", mode, strings.Join(httpIdemModes, ", "))
		} else {
			op.idem = mode
		}
	}
	if op.idem == idemPath && op.path != nil && !pathUses["ID"] {
		errs.at(param, p+".path", "idempotency-key: path needs the operation id in the path: {{.ID}}")
	}
	op.amount = pathUses["Amount"] || bodyUses["Amount"]
	return op, len(*errs) == n
}

func paramName(s string) bool {
	_, err := (plan.Param{Type: plan.ParamName}).Norm("name", s)
	return err == nil
}

// compileTemplate parses a template and checks the fields it uses against the data it
// will see; it returns the template (nil when it does not compile) and the fields used.
func compileTemplate(param, p, key, src string, fields []string, sample any, errs *httpErrs) (*template.Template, map[string]bool) {
	t, err := template.New(key).Option("missingkey=error").Parse(src)
	if err != nil {
		errs.at(param, p, "%s: invalid template: %s", key, strings.TrimPrefix(err.Error(), "template: "))
		return nil, nil
	}
	used := map[string]bool{}
	if t.Tree != nil {
		walkFields(t.Tree.Root, used)
	}
	var bad []string
	for f := range used {
		if !slices.Contains(fields, f) {
			bad = append(bad, f)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		known := make([]string, len(fields))
		for i, f := range fields {
			known[i] = "{{." + f + "}}"
		}
		errs.at(param, p, "%s: unknown field .%s in template (it may use %s)", key, bad[0], strings.Join(known, ", "))
		return nil, nil
	}
	if _, err := render(t, sample); err != nil {
		errs.at(param, p, "%s: %s", key, strings.TrimPrefix(err.Error(), "workload http: template: "))
		return nil, nil
	}
	return t, used
}

// walkFields records the fields of the data a template refers to ({{.Key}}, {{$.ID}}).
func walkFields(n parse.Node, used map[string]bool) {
	switch v := n.(type) {
	case *parse.ListNode:
		if v != nil {
			for _, c := range v.Nodes {
				walkFields(c, used)
			}
		}
	case *parse.ActionNode:
		walkFields(v.Pipe, used)
	case *parse.PipeNode:
		if v != nil {
			for _, c := range v.Cmds {
				walkFields(c, used)
			}
		}
	case *parse.CommandNode:
		for _, a := range v.Args {
			walkFields(a, used)
		}
	case *parse.FieldNode:
		used[v.Ident[0]] = true
	case *parse.VariableNode:
		if len(v.Ident) > 1 && v.Ident[0] == "$" {
			used[v.Ident[1]] = true
		}
	case *parse.ChainNode:
		walkFields(v.Node, used)
	case *parse.IfNode:
		walkBranch(&v.BranchNode, used)
	case *parse.RangeNode:
		walkBranch(&v.BranchNode, used)
	case *parse.WithNode:
		walkBranch(&v.BranchNode, used)
	case *parse.TemplateNode:
		walkFields(v.Pipe, used)
	}
}

func walkBranch(b *parse.BranchNode, used map[string]bool) {
	walkFields(b.Pipe, used)
	walkFields(b.List, used)
	if b.ElseList != nil {
		walkFields(b.ElseList, used)
	}
}

// jsonInt reads a JSON integer (not a string holding one).
func jsonInt(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil
}

// jsonKind names a JSON value's type for a message.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "a mapping"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// The JSON Schema of the parameters, for the scenario format's schema.
func httpOperationsSchema() map[string]any {
	type obj = map[string]any
	isRead := obj{"properties": obj{"read": obj{"const": true}}, "required": []string{"read"}}
	op := obj{
		"type":     "object",
		"required": []string{"name", "path"},
		"properties": obj{
			"name":            obj{"type": "string", "pattern": plan.ParamNamePattern, "description": "the operation's f in the history (reads are recorded as f: read)"},
			"weight":          obj{"type": "integer", "minimum": 1, "maximum": 1000000, "default": 1, "description": "its share of the operations"},
			"read":            obj{"type": "boolean", "default": false, "description": "a read: a GET whose value is recorded"},
			"method":          obj{"enum": append([]string{http.MethodGet}, httpWriteVerbs...), "description": "POST by default; a read is a GET"},
			"path":            obj{"type": "string", "pattern": "^/", "description": "URL path, a Go template over {{.Key}}, {{.ID}}, {{.Amount}}"},
			"body":            obj{"type": "string", "description": "request body (JSON), a Go template over {{.Key}}, {{.ID}}, {{.Amount}}"},
			"idempotency-key": obj{"enum": httpIdemModes, "default": idemHeader, "description": "how the operation id travels: the Idempotency-Key header, the path ({{.ID}}), or not at all"},
			"value":           obj{"type": "string", "minLength": 1, "description": "a read's JSON field holding the value (an integer); dots for nested fields"},
			"seq":             obj{"type": "string", "minLength": 1, "description": "a read's JSON field holding the version"},
		},
		"additionalProperties": false,
		"if":                   isRead,
		"then": obj{
			"required":   []string{"value"},
			"properties": obj{"method": obj{"const": http.MethodGet}},
			"not":        obj{"anyOf": []obj{{"required": []string{"body"}}, {"required": []string{"idempotency-key"}}}},
		},
		"else": obj{
			"properties": obj{"method": obj{"enum": httpWriteVerbs}, "name": obj{"not": obj{"const": FRead}}},
			"not":        obj{"anyOf": []obj{{"required": []string{"value"}}, {"required": []string{"seq"}}}},
		},
	}
	return obj{"type": "array", "minItems": 1, "items": op, "contains": obj{"not": isRead}}
}

func httpStatusSchema() map[string]any {
	type obj = map[string]any
	const one = `\s*[1-5][0-9]{2}(\s*-\s*[1-5][0-9]{2})?\s*`
	item := []obj{
		{"type": "integer", "minimum": 100, "maximum": 599},
		{"type": "string", "pattern": "^" + one + "(," + one + ")*$"},
	}
	codes := obj{"anyOf": append(item, obj{"type": "array", "items": obj{"anyOf": item}})}
	return obj{
		"type": "object",
		"properties": obj{
			"ok":      withDoc(codes, "codes of an applied operation (default 200-299)"),
			"fail":    withDoc(codes, "codes of an operation definitely not applied (default 400-499; 503 is fail unless named)"),
			"unknown": withDoc(codes, "codes of an operation that may have applied (default 500-599)"),
		},
		"additionalProperties": false,
	}
}

func withDoc(s map[string]any, doc string) map[string]any {
	out := map[string]any{"description": doc}
	for k, v := range s {
		out[k] = v
	}
	return out
}
