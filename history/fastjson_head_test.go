package history

import (
	"encoding/json"
	"testing"
)

// The head of a line reads the same whatever the order of its fields, and the same as
// encoding/json does.
func TestDecodeOpHead(t *testing.T) {
	for _, line := range []string{
		`{"i":7,"t":1500,"proc":2,"type":"ok","f":"deposit","key":"acct-1","id":"d-1"}`,
		`{"type":"ok","key":"acct-1","proc":2,"t":1500,"i":7}`,
		`{"i":7,"t":1500,"proc":2,"type":"ok","value":{"value":3,"seq":1},"errors":["a\"b"]}`,
	} {
		i, tm, proc, typ, err := DecodeOpHead([]byte(line))
		var o Op
		if jerr := json.Unmarshal([]byte(line), &o); jerr != nil {
			t.Fatal(jerr)
		}
		if err != nil || i != o.Index || tm != o.Time || proc != o.Process || typ != o.Type {
			t.Errorf("%s: got %d %d %d %q %v, want %d %d %d %q", line, i, tm, proc, typ, err, o.Index, o.Time, o.Process, o.Type)
		}
	}
	if _, _, _, _, err := DecodeOpHead([]byte(`{"i":`)); err == nil {
		t.Error("a cut line decoded")
	}
	if n := testing.AllocsPerRun(100, func() {
		DecodeOpHead([]byte(`{"i":7,"t":1500,"proc":2,"type":"ok","f":"deposit","key":"acct-1","id":"d-1"}`))
	}); n > 1 {
		t.Errorf("%v allocations per line", n)
	}
}
