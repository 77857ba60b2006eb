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
