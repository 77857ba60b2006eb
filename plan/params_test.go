package plan

import (
	"testing"
	"time"
)

// A fault's typed parameters read through the one rule: the plan's value or the kind's
// default, refused when absent, negative or out of range.
func TestFaultParams(t *testing.T) {
	RegisterFaultKind(FaultKind{Name: "test-params", Target: TargetLink, Params: map[string]Param{
		"d": {Type: ParamDuration, Default: "250ms"},
		"n": {Type: ParamInt},
		"r": {Type: ParamRatio, Default: "0.5"},
	}})
	f := Fault{Kind: "test-params", Params: map[string]string{"n": "7"}}
	if d, err := f.Args().Duration("d"); err != nil || d != 250*time.Millisecond {
		t.Errorf("default duration: %v, %v", d, err)
	}
	if n, err := f.Args().Int("n"); err != nil || n != 7 {
		t.Errorf("int: %v, %v", n, err)
	}
	if r, err := f.Args().Ratio("r"); err != nil || r != 0.5 {
		t.Errorf("default ratio: %v, %v", r, err)
	}
	for _, bad := range []Fault{
		{Kind: "test-params", Params: map[string]string{"d": "-1s"}},
		{Kind: "test-params", Params: map[string]string{"d": "5"}},
	} {
		if _, err := bad.Args().Duration("d"); err == nil {
			t.Errorf("%v: accepted", bad.Params)
		}
	}
	if _, err := (Fault{Kind: "test-params", Params: map[string]string{"n": "-3"}}).Args().Int("n"); err == nil {
		t.Error("a negative int accepted")
	}
	if _, err := (Fault{Kind: "test-params"}).Args().Int("n"); err == nil {
		t.Error("a required parameter without a value accepted")
	}
	if _, err := (Fault{Kind: "test-params", Params: map[string]string{"r": "1.5"}}).Args().Ratio("r"); err == nil {
		t.Error("a ratio above 1 accepted")
	}
}

// A range and a structured value read and normalise by the one rule: a range lo-hi (or
// one number), canonical JSON whatever the spelling.
func TestRangeAndObjectParams(t *testing.T) {
	decl := map[string]Param{
		"amount": {Type: ParamRange, Min: 1, Default: "1-100"},
		"ops":    {Type: ParamObject},
		"status": {Type: ParamObject, Optional: true},
	}
	a := Args{Kind: "test", Decl: decl, Values: map[string]string{"ops": ` [ {"b": 1.50, "a": "<x&y>"} ] `}}
	if lo, hi, err := a.Range("amount"); err != nil || lo != 1 || hi != 100 {
		t.Errorf("default range: %d-%d, %v", lo, hi, err)
	}
	if v, err := a.Object("ops"); err != nil || string(v) != `[{"a":"<x&y>","b":1.50}]` {
		t.Errorf("object: %s, %v", v, err)
	}
	if v, err := a.Object("status"); err != nil || v != nil {
		t.Errorf("an optional object not given: %s, %v", v, err)
	}
	for val, want := range map[string]string{"7": "7", " 3 - 9 ": "3-9", "5-5": "5"} {
		if got, err := decl["amount"].Norm("amount", val); err != nil || got != want {
			t.Errorf("range %q: %q, %v; want %q", val, got, err, want)
		}
	}
	for _, bad := range []string{"0", "9-3", "1-", "x", "-5", "1-2-3"} {
		if _, err := decl["amount"].Norm("amount", bad); err == nil {
			t.Errorf("range %q accepted", bad)
		}
	}
	for _, bad := range []string{"", "{", `{"a":1} {"b":2}`, "nul"} {
		if _, err := decl["ops"].Norm("ops", bad); err == nil {
			t.Errorf("object %q accepted", bad)
		}
	}
	pe := &ParamError{Param: "ops", Path: "[1].methd", Key: true, Known: []string{"method", "path"}, Msg: `unknown key "methd"`}
	if got := pe.Error(); got != `parameter ops[1].methd: unknown key "methd" (known: method, path)` {
		t.Errorf("ParamError: %s", got)
	}
}
