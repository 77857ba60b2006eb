package scenarios

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/mscli/mscli/plan"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite schema.json and the golden files under testdata/")

// The schema is generated from the same tables the loader uses (FaultKinds,
// plan.InvariantKindNames(), …), so that it cannot drift from them: TestSchemaUpToDate fails when
// schema.json differs from what these functions build, and
//
//	go test ./scenarios -run TestSchemaUpToDate -update
//
// rewrites it.

const durationPattern = `^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`

type obj = map[string]any

func paramSchema(p plan.Param) obj {
	var s obj
	switch p.Type {
	case plan.ParamDuration:
		s = obj{"$ref": "#/$defs/duration"}
		if p.Default != "" {
			s["default"] = p.Default
		}
	case plan.ParamInt:
		s = obj{"type": "integer", "minimum": max(p.Min, 0)}
		if p.Default != "" {
			s["default"], _ = strconv.ParseInt(p.Default, 10, 64)
		}
	case plan.ParamRatio:
		s = obj{"type": "number", "minimum": 0, "maximum": 1}
		if p.Default != "" {
			s["default"], _ = strconv.ParseFloat(p.Default, 64)
		}
	case plan.ParamEnum:
		s = obj{"enum": p.Enum}
		if p.Default != "" {
			s["default"] = p.Default
		}
	case plan.ParamName:
		s = obj{"type": "string", "pattern": plan.ParamNamePattern}
		if p.Default != "" {
			s["default"] = p.Default
		}
	case plan.ParamRange:
		s = obj{"anyOf": []obj{
			{"type": "integer", "minimum": max(p.Min, 0)},
			{"type": "string", "pattern": `^\s*[0-9]+\s*(-\s*[0-9]+\s*)?$`},
		}}
		if p.Default != "" {
			s["default"] = p.Default
		}
	case plan.ParamObject:
		// The kind's own schema of the value; the loader converts it to JSON as it is.
		s = maps.Clone(p.Schema)
		if s == nil {
			s = obj{}
		}
	}
	if p.Doc != "" {
		s["description"] = p.Doc
	}
	return s
}

func paramsSchema(spec map[string]plan.Param) obj {
	props := obj{}
	for name, p := range spec {
		props[name] = paramSchema(p)
	}
	return props
}

// requiredParams are the parameters without a default the file must give.
func requiredParams(spec map[string]plan.Param) []string {
	var out []string
	for _, name := range sortedKeys(spec) {
		if spec[name].Default == "" && !spec[name].Optional {
			out = append(out, name)
		}
	}
	return out
}

// namedItem is the schema of "name" or "{name: {params}}".
func namedItem(names []string, params func(string) map[string]plan.Param) obj {
	props := obj{}
	for _, n := range names {
		props[n] = obj{
			"type":                 []string{"object", "null"},
			"properties":           paramsSchema(params(n)),
			"additionalProperties": false,
		}
	}
	return obj{"anyOf": []obj{
		{"enum": names},
		{"type": "object", "minProperties": 1, "maxProperties": 1, "properties": props, "additionalProperties": false},
	}}
}

func buildSchema() obj {
	kinds := plan.FaultKindNames()
	var perKind []obj
	for _, k := range kinds {
		fk := kindOf(k)
		required := append([]string{string(fk.Target)}, requiredParams(fk.Params)...)
		var forbidden []obj
		for _, t := range targetKeys {
			if t != string(fk.Target) {
				forbidden = append(forbidden, obj{"required": []string{t}})
			}
		}
		if fk.Window {
			required = append(required, "for")
		} else {
			forbidden = append(forbidden, obj{"required": []string{"for"}})
		}
		props := paramsSchema(fk.Params)
		props[string(fk.Target)] = obj{"description": k + " acts on " + actsDoc(fk)}
		perKind = append(perKind, obj{
			"if": obj{"properties": obj{"fault": obj{"const": k}}, "required": []string{"fault"}},
			"then": obj{
				"properties": props,
				"required":   required,
				"not":        obj{"anyOf": forbidden},
			},
		})
	}
	fault := obj{
		"type":     "object",
		"required": []string{"at", "fault"},
		"properties": obj{
			"at":     obj{"$ref": "#/$defs/duration", "description": "when the fault starts, on the run clock"},
			"for":    obj{"$ref": "#/$defs/duration", "description": "how long it lasts (window kinds only)"},
			"fault":  obj{"enum": kinds},
			"link":   obj{"type": "string", "description": "a link: client->svc, svc->broker, svc->svc-db, or one replica's: svc/0->broker"},
			"node":   obj{"type": "string", "description": "a node: broker, svc/0, svc-db, or svc (one replica drawn from the seed)"},
			"stream": obj{"type": "string", "description": "a fixture service's stream: svc.commands, svc.events"},
		},
		"allOf":                 perKind,
		"unevaluatedProperties": false,
	}
	strMap := obj{"type": "object", "additionalProperties": obj{"type": []string{"string", "number", "boolean"}}}
	user := obj{"anyOf": []obj{{"required": []string{"image"}}, {"required": []string{"command"}}}}
	service := obj{
		"type": "object",
		"properties": obj{
			"fixture": obj{"enum": plan.FixtureNames(), "description": "a built-in sample service"},
			"image":   obj{"type": "string", "minLength": 1, "description": "your own service's container image (docker testbed)"},
			"command": obj{"description": "your own service's program and arguments (local testbed); templates allowed",
				"oneOf": []obj{{"type": "string", "minLength": 1}, {"type": "array", "items": obj{"type": "string"}, "minItems": 1}}},
			"env": obj{"$ref": "#/$defs/env", "description": "environment of your own service; templates allowed"},
			"secrets": obj{"type": "array", "items": obj{"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}, "uniqueItems": true,
				"description": "variables of mscli's environment your service is given, their values redacted from every output"},
			"port":       obj{"type": "integer", "minimum": 1, "maximum": 65535, "description": "the port your service listens on"},
			"ready":      obj{"type": "object", "properties": obj{"http": obj{"type": "string", "pattern": "^/"}, "tcp": obj{"type": "boolean"}}, "additionalProperties": false},
			"depends-on": obj{"type": "array", "items": obj{"type": "string"}, "description": "nodes the service reaches, each through a link: broker, other services"},
			"observe": obj{"description": "where your service's effects are read: an HTTP path, or SQL queries on its database",
				"oneOf": []obj{
					{"type": "string", "pattern": "^/"},
					{"type": "object", "properties": obj{"http": obj{"type": "string", "pattern": "^/"},
						"sql": obj{"type": "object", "properties": obj{"url": obj{"type": "string", "pattern": "^postgres(ql)?://", "description": "the database as your services name it (postgres://user:password@db:5432/name); default the service's own"},
							"effects": obj{"type": "string"}, "states": obj{"type": "string"}, "operations": obj{"type": "string"}}, "additionalProperties": false}},
						"additionalProperties": false},
				}},
			"replicas": obj{"type": "integer", "minimum": 1, "default": 1},
			"database": obj{"enum": KnownDatabases},
			"options":  obj{"type": "object", "additionalProperties": obj{"type": []string{"string", "number", "boolean"}}, "description": "a fixture's options (mscli list fixtures shows them)"},
			"bugs": obj{"type": "object", "description": "your service's known bugs: the env that switches each on, and the invariant that catches it",
				"additionalProperties": obj{"type": "object", "required": []string{"env", "breaks"}, "additionalProperties": false,
					"properties": obj{"env": obj{"$ref": "#/$defs/env"}, "breaks": obj{"enum": plan.InvariantKindNames()}, "what": obj{"type": "string"}}}},
		},
		"oneOf": []obj{
			{"required": []string{"fixture"}, "not": user},
			{"allOf": []obj{user}, "not": obj{"required": []string{"fixture"}}},
		},
		"additionalProperties": false,
	}
	// What system.services may add to a service of the compose file.
	overlay := obj{"type": "object", "additionalProperties": false, "properties": obj{}}
	for _, k := range overlayKeys {
		overlay["properties"].(obj)[k] = service["properties"].(obj)[k]
	}
	dw := DefaultWorkload()
	var perWorkload []obj
	for _, k := range plan.WorkloadKindNames() {
		wk, _ := plan.LookupWorkloadKind(k)
		when := obj{"properties": obj{"kind": obj{"const": k}}}
		if k != dw.Kind {
			when["required"] = []string{"kind"}
		}
		then := obj{"properties": paramsSchema(wk.Params)}
		if req := requiredParams(wk.Params); len(req) > 0 {
			then["required"] = req
		}
		perWorkload = append(perWorkload, obj{"if": when, "then": then})
	}
	workload := obj{
		"type":  "object",
		"allOf": perWorkload,
		"properties": obj{
			"kind":    obj{"enum": plan.WorkloadKindNames(), "default": dw.Kind},
			"service": obj{"type": "string", "description": "the service the workload drives; default the one whose fixture its kind drives, else your only service with a port"},
			"clients": obj{"type": "integer", "minimum": 1, "default": dw.Clients},
			"rate":    obj{"type": "integer", "minimum": 1, "default": dw.Rate, "description": "operations per second over all clients"},
			"timeout": obj{"$ref": "#/$defs/duration", "default": dw.Timeout.String()},
			"retry": obj{
				"type": "object",
				"properties": obj{
					"attempts": obj{"type": "integer", "minimum": 1, "default": dw.Retry.Attempts},
					"backoff":  obj{"$ref": "#/$defs/duration", "default": dw.Retry.Backoff.String()},
					"max":      obj{"$ref": "#/$defs/duration", "default": dw.Retry.Max.String()},
				},
				"additionalProperties": false,
			},
		},
		"unevaluatedProperties": false,
	}
	nemesis := obj{
		"type":     "object",
		"required": []string{"faults"},
		"properties": obj{
			"faults": obj{"type": "array", "minItems": 1, "items": namedItem(kinds, func(k string) map[string]plan.Param { return kindOf(k).Params })},
			"count":  obj{"type": "integer", "minimum": 1, "maximum": 1000, "default": DefaultNemesisCount},
			"min":    obj{"$ref": "#/$defs/duration", "default": DefaultNemesisMin.String()},
			"max":    obj{"$ref": "#/$defs/duration", "default": DefaultNemesisMax.String()},
			"between": obj{"type": "array", "minItems": 2, "maxItems": 2, "items": obj{"$ref": "#/$defs/duration"},
				"description": "[start, end] of the window the faults start in; default the whole run"},
		},
		"additionalProperties": false,
	}
	return obj{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         "https://github.com/mscli/mscli/scenarios/schema.json",
		"title":       "mscli scenario",
		"description": "A failure scenario for mscli; see docs/scenarios.md.",
		"type":        "object",
		"required":    []string{"name", "duration", "system", "invariants"},
		"properties": obj{
			"name":    obj{"type": "string", "pattern": scenarioNameRE.String()},
			"summary": obj{"type": "string"},
			"dir": obj{"type": "string", "minLength": 1,
				"description": "the folder this file's relative paths (a service's command, system.compose) resolve against and its commands run in, absolute or relative to this file's; default this file's folder"},
			"duration": obj{"$ref": "#/$defs/duration"},
			"system": obj{
				"type": "object",
				"properties": obj{
					"broker":  obj{"enum": KnownBrokers, "default": KnownBrokers[0]},
					"compose": obj{"type": "string", "minLength": 1, "description": "a docker-compose file, relative to this one: each of its services is a service of the system"},
					"services": obj{
						"type": "object",
						"propertyNames": obj{
							"pattern": serviceNameRE.String(),
							"not":     obj{"anyOf": []obj{{"enum": []string{plan.ClientNode, plan.BrokerNode}}, {"pattern": "-db$"}}},
						},
					},
				},
				// With a compose file, a service may be one of its own or what the scenario
				// adds to one of the file's; without, every service is the scenario's, and
				// there is at least one.
				"if": obj{"required": []string{"compose"}},
				"then": obj{"properties": obj{"services": obj{
					"additionalProperties": obj{"anyOf": []obj{{"$ref": "#/$defs/service"}, {"$ref": "#/$defs/compose-service"}}}}}},
				"else": obj{"required": []string{"services"}, "properties": obj{"services": obj{
					"minProperties": 1, "additionalProperties": obj{"$ref": "#/$defs/service"}}}},
				"additionalProperties": false,
			},
			"workload": obj{"$ref": "#/$defs/workload"},
			"faults":   obj{"type": "array", "items": obj{"$ref": "#/$defs/fault"}},
			"nemesis":  obj{"$ref": "#/$defs/nemesis"},
			"invariants": obj{"type": "array", "minItems": 1,
				"items": namedItem(plan.InvariantKindNames(), func(n string) map[string]plan.Param { return invariantParams(n) })},
			"catches": obj{
				"type":                 "object",
				"propertyNames":        obj{"pattern": bugNameRE.String()},
				"additionalProperties": obj{"enum": plan.InvariantKindNames()},
			},
			"thresholds": thresholdsSchema(),
		},
		"patternProperties":    obj{"^" + extensionPrefix: obj{"description": "ignored: a place for anchors the file reuses"}},
		"additionalProperties": false,
		"$defs": obj{
			"duration":        obj{"type": "string", "pattern": durationPattern, "description": "a Go duration: 500ms, 3s, 1m30s"},
			"env":             strMap,
			"service":         service,
			"compose-service": overlay,
			"workload":        workload,
			"fault":           fault,
			"nemesis":         nemesis,
		},
	}
}

func TestSchemaUpToDate(t *testing.T) {
	want, err := json.MarshalIndent(buildSchema(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *update {
		if err := os.WriteFile("schema.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(Schema(), want) {
		t.Fatal("schema.json is out of date with the format's tables: go test ./scenarios -run TestSchemaUpToDate -update")
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func yamlInstance(t *testing.T, data []byte) any {
	t.Helper()
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Every catalog scenario and every valid file under testdata/ is valid under the schema;
// what the loader rejects for reasons the schema can express, the schema rejects too.
func TestSchemaValidatesScenarios(t *testing.T) {
	sch := compileSchema(t)
	var files []string
	paths, _ := fs.Glob(catalogFS, "catalog/*.yaml")
	for _, p := range paths {
		files = append(files, p)
	}
	good, _ := filepath.Glob("testdata/good-*.yaml")
	files = append(files, good...)
	if len(paths) == 0 {
		t.Fatal("no catalog scenarios")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			data, err = catalogFS.ReadFile(f)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(f, data); err != nil {
			t.Errorf("%s: loader: %v", f, err)
		}
		if err := sch.Validate(yamlInstance(t, data)); err != nil {
			t.Errorf("%s: schema: %v", f, err)
		}
	}

	// Problems the schema can see (as opposed to unknown targets or faults that end
	// too late, which need the topology and the clock).
	bad := map[string]string{
		"misspelt key":        "name: x\ndurration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable]\n",
		"wrong type":          "name: x\nduration: fast\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable]\n",
		"param of other kind": "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable]\nfaults: [{at: 1s, for: 1s, fault: partition, link: client->bank, ratio: 0.5}]\n",
		"window without for":  "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable]\nfaults: [{at: 1s, fault: partition, link: client->bank}]\n",
		"wrong target key":    "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable]\nfaults: [{at: 1s, fault: kill, link: client->bank}]\n",
		"missing required":    "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable]\nfaults: [{at: 1s, for: 1s, fault: latency, link: client->bank}]\n",
		"unknown invariant":   "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durabel]\n",
		"fixture and image":   "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank, image: x}}}\ninvariants: [durable]\n",
		"reserved service":    "name: x\nduration: 20s\nsystem: {services: {bank-db: {fixture: bank}}}\ninvariants: [durable]\n",
		"invariant param":     "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [{converges: {whithin: 5s}}]\n",
	}
	for _, name := range sortedKeys(bad) {
		data := []byte(bad[name])
		if sch.Validate(yamlInstance(t, data)) == nil {
			t.Errorf("%s: schema accepts it", name)
		}
		if _, err := Parse(name+".yaml", data); err == nil {
			t.Errorf("%s: loader accepts it", name)
		}
	}
	if !slices.Contains(files, "catalog/bank-idempotency.yaml") {
		t.Error("catalog/bank-idempotency.yaml missing")
	}
}
