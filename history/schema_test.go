package history_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/mscli/mscli/history"
)

func compileEffectSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(history.EffectSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("effect.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("effect.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// validateLines validates every line of JSON Lines against the schema.
func validateLines(t *testing.T, sch *jsonschema.Schema, name string, data []byte) int {
	t.Helper()
	n := 0
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		n++
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
		if err != nil {
			t.Fatalf("%s:%d: %v", name, i+1, err)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("%s:%d: %s\n%v", name, i+1, line, err)
		}
	}
	return n
}

// Every kind of record the codec writes validates against the schema.
func TestEffectSchemaValidatesWhatTheCodecWrites(t *testing.T) {
	sch := compileEffectSchema(t)
	zero, v := int64(0), int64(940)
	recs := []history.Effect{
		{Service: "bank", View: history.WriteView, Kind: "debit", Key: "acct-1", ID: "w-1", Amount: -60, Seq: 3, At: 1_700_000_000_000_000_000},
		{Service: "bank", View: history.ReadView, Kind: "debit", Key: "acct-1", ID: "w-1", Amount: -60, Seq: 3, Pos: 3, At: 12_000_000},
		{Service: "bank", View: history.WriteView, Kind: "deposit", Key: "acct-2", ID: "d-0"}, // amount 0: left out
		{Service: "bank", View: history.WriteView, Kind: history.KindState, Key: "acct-1", Value: &v, Seq: 3},
		{Service: "bank", View: history.ReadView, Kind: history.KindState, Key: "acct-3", Value: &zero},
		{Service: "bank", View: history.ReadView, Kind: history.KindState, Key: "acct-4"}, // missing
		{Service: "bank", View: history.ReadView, Kind: history.KindState, Key: "acct-1", Value: &v, Seq: 3, Time: 9_000_000_000},
		{Service: "bank", View: history.WriteView, Kind: history.KindOperation, ID: "w-1", State: history.StateApplied},
		{Service: "bank", View: history.WriteView, Kind: history.KindOperation, ID: "w-2", State: "command_sent"},
	}
	var buf bytes.Buffer
	w := history.NewWriter(&buf)
	for _, e := range recs {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := validateLines(t, sch, "written", buf.Bytes()); n != len(recs) {
		t.Fatalf("%d lines, want %d", n, len(recs))
	}

	// And so does every record of the recorded runs the checkers are tested on, as the
	// codec writes it back.
	paths, _ := filepath.Glob("../invariants/testdata/runs/*/effects.jsonl.gz")
	if len(paths) == 0 {
		t.Skip("no recorded runs")
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		effs, err := history.Read[history.Effect](zr)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		buf.Reset()
		w := history.NewWriter(&buf)
		for _, e := range effs {
			if err := w.Write(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		validateLines(t, sch, p, buf.Bytes())
	}
}

// What the schema refuses: a record it cannot be judged by, or a misspelt field.
func TestEffectSchemaRejects(t *testing.T) {
	sch := compileEffectSchema(t)
	for _, line := range []string{
		`{"view":"write","kind":"debit","key":"a","id":"w-1","amount":-5}`,                    // no service
		`{"service":"bank","kind":"debit","key":"a","id":"w-1","amount":-5}`,                  // no view
		`{"service":"bank","view":"write","key":"a","id":"w-1","amount":-5}`,                  // no kind
		`{"service":"bank","view":"write","kind":"debit","key":"a","id":"w-1","ammount":-5}`,  // misspelt
		`{"service":"bank","view":"write","kind":"debit","key":"a","amount":-5}`,              // an effect without its operation
		`{"service":"bank","view":"write","kind":"debit","id":"w-1","amount":-5}`,             // … or its key
		`{"service":"bank","view":"write","kind":"debit","key":"a","id":"w-1","amount":-5.5}`, // not an integer
		`{"service":"bank","view":"write","kind":"state","value":940}`,                        // a value of no key
		`{"service":"bank","view":"write","kind":"state","key":"a","value":"940"}`,            // a string value
		`{"service":"bank","view":"write","kind":"operation","id":"w-1"}`,                     // no state
		`{"service":"bank","view":"write","kind":"operation","state":"applied"}`,              // no id
		`{"service":"bank","view":"","kind":"operation","id":"w-1","state":"applied"}`,        // empty view
		`{"service":"bank","view":"write","kind":"state","key":"a","value":1,"t":-1}`,         // before the run
		`["bank","write"]`,
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(line))
		if err != nil {
			t.Fatal(err)
		}
		if sch.Validate(v) == nil {
			t.Errorf("valid: %s", line)
		}
	}
}

// The schema names exactly the record's fields, and requires every field the codec
// always writes.
func TestEffectSchemaListsTheFields(t *testing.T) {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	if err := json.Unmarshal(history.EffectSchema(), &s); err != nil {
		t.Fatal(err)
	}
	var fields []string
	typ := reflect.TypeFor[history.Effect]()
	for i := range typ.NumField() {
		tag := typ.Field(i).Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		fields = append(fields, name)
		if !strings.Contains(opts, "omitempty") && !slices.Contains(s.Required, name) {
			t.Errorf("the codec always writes %q, the schema does not require it", name)
		}
		if _, ok := s.Properties[name]; !ok {
			t.Errorf("the schema lacks %q", name)
		}
	}
	for name := range s.Properties {
		if !slices.Contains(fields, name) {
			t.Errorf("the schema has %q, the record does not", name)
		}
	}
}
