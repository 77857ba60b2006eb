package history_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/mscli/mscli/history"
)

// Whatever mscli writes, the fast decoders (into records, and the Interner's) read
// back as encoding/json does: records
// with plain and awkward strings (quotes, escapes, non-ASCII), nulls, negative and
// large numbers, empty and missing fields.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "acct-1", "w-000123", "withdraw", "ok", `say "no"`, `back\slash`, "tab\there", "café", "line\nbreak", "<html>&"}
	pick := func() string { return strs[r.IntN(len(strs))] }
	num := func() int64 {
		return []int64{0, 1, -1, 42, -987654321, 1 << 62, -1 << 63}[r.IntN(7)]
	}
	var buf bytes.Buffer
	w := history.NewWriter(&buf)
	for range 2000 {
		o := history.Op{Index: num(), Time: num(), Process: int(num()), Type: history.OpType(pick()), F: pick(), Key: pick(), ID: pick(),
			Error: pick(), Attempts: int(num())}
		switch r.IntN(4) {
		case 0:
			o.Value = json.RawMessage(`{"amount":78}`)
		case 1:
			o.Value = json.RawMessage(`{"amount":-5,"note":"x","tags":["a","b"],"nested":{"k":[1,2,{}]}}`)
		case 2:
			o.Value = json.RawMessage(`"text"`)
		}
		if r.IntN(3) == 0 {
			o.Errors = []string{pick(), pick()}
		}
		if err := w.Write(o); err != nil {
			t.Fatal(err)
		}
		v := num()
		e := history.Effect{Service: pick(), View: pick(), Kind: pick(), Key: pick(), ID: pick(), Amount: num(), Seq: num(), Pos: num(),
			State: pick(), Time: num()}
		if r.IntN(2) == 0 {
			e.Value = &v
		}
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var in history.Interner
	recs := new(history.Records)
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	for i, line := range lines {
		if i%2 == 0 {
			checkOp(t, &in, recs, line)
		} else {
			checkEffect(t, &in, recs, line)
		}
	}
	// Hand-written lines encoding/json reads its own way.
	for _, line := range []string{
		`{"i":1,"ID":"upper-case key"}`, `{"i":1,"i":2}`, `{"t":1e3}`, `{"t":01}`, `{"value":null}`, `{"errors":null}`,
		`{"key":null}`, `{"key":"a","key":null}`, `{"errors":["a"],"errors":null}`, ` { "i" : 7 , "f" : "deposit" } `, `{}`, `{"value":true}`, `{"errors":[]}`, `{"proc":-0}`, `{"proc":-2147483648}`, `{"proc":2147483648}`,
		`{"i":-2147483648}`, `{"i":2147483647,"proc":2147483648}`, `{"i":-2147483649,"proc":3}`,
	} {
		checkOp(t, &in, recs, []byte(line))
	}
	for _, line := range []string{`{"value":null}`, `{"value":-3}`, `{"amount":1.5}`, `{"seq":99999999999999999999}`, `{"Kind":"state"}`, `{"service":"a","service":null}`,
		`{"amount":-2147483648}`, `{"seq":2147483648,"pos":7}`, `{"pos":-2147483649,"amount":2147483647}`, `{"amount":1,"amount":4294967296}`} {
		checkEffect(t, &in, recs, []byte(line))
	}
}

// checkOp decodes line with the Interner and into recs, and holds both against
// encoding/json.
func checkOp(t *testing.T, in *history.Interner, recs *history.Records, line []byte) {
	t.Helper()
	var want, got history.Op
	werr := json.Unmarshal(line, &want)
	gerr := in.DecodeOp(line, &got)
	if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("%s:\nencoding/json %+v (%v)\nfast          %+v (%v)", line, want, werr, got, gerr)
	}
	n := recs.NumOps()
	rerr := recs.DecodeOp(line)
	if (werr == nil) != (rerr == nil) || recs.NumOps() != n+map[bool]int{true: 1}[rerr == nil] {
		t.Fatalf("%s: encoding/json says %v, the records %v (%d records added)", line, werr, rerr, recs.NumOps()-n)
	}
	if rerr == nil {
		// An empty list of errors is none: the records keep one only beside another
		// rare field.
		rec := recs.Op(n)
		if len(want.Errors) == 0 && len(rec.Errors) == 0 {
			want.Errors, rec.Errors = nil, nil
		}
		if !reflect.DeepEqual(want, rec) {
			t.Fatalf("%s:\nencoding/json %+v\nrecords       %+v", line, want, rec)
		}
	}
	// A record decoded over an old one keeps nothing of it.
	dirty := history.Op{Index: 9, Time: 9, Process: 9, Type: history.Info, F: "old", Key: "old", ID: "old",
		Value: json.RawMessage(`{"old":1}`), Error: "old", Attempts: 9, Errors: []string{"old"}, Status: 500, Source: "old"}
	if err := in.DecodeOp(line, &dirty); (err == nil) != (gerr == nil) || err == nil && !reflect.DeepEqual(got, dirty) {
		t.Fatalf("%s over an old record:\nfresh %+v (%v)\nover  %+v (%v)", line, got, gerr, dirty, err)
	}
}

func checkEffect(t *testing.T, in *history.Interner, recs *history.Records, line []byte) {
	t.Helper()
	var want, got history.Effect
	werr := json.Unmarshal(line, &want)
	gerr := in.DecodeEffect(line, &got)
	if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("%s:\nencoding/json %+v (%v)\nfast          %+v (%v)", line, want, werr, got, gerr)
	}
	n := recs.NumEffects()
	rerr := recs.DecodeEffect(line)
	if (werr == nil) != (rerr == nil) || recs.NumEffects() != n+map[bool]int{true: 1}[rerr == nil] {
		t.Fatalf("%s: encoding/json says %v, the records %v (%d records added)", line, werr, rerr, recs.NumEffects()-n)
	}
	if rerr == nil {
		if rec := recs.Effect(n); !reflect.DeepEqual(want, rec) {
			t.Fatalf("%s:\nencoding/json %+v\nrecords       %+v", line, want, rec)
		}
	}
	old := int64(9)
	dirty := history.Effect{Service: "old", View: "old", Kind: "old", Key: "old", ID: "old", Amount: 9, Seq: 9, Pos: 9,
		Value: &old, State: "old", Time: 9, At: 9, Saga: "old", Step: "old", Undo: true, Deliveries: 9, Replica: "old", Reason: "old"}
	if err := in.DecodeEffect(line, &dirty); (err == nil) != (gerr == nil) || err == nil && !reflect.DeepEqual(got, dirty) {
		t.Fatalf("%s over an old record:\nfresh %+v (%v)\nover  %+v (%v)", line, got, gerr, dirty, err)
	}
}

// FuzzDecode: on any line, the decoders (the Interner's, and the records') agree with
// encoding/json.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"i":1,"t":2,"proc":3,"type":"ok","f":"withdraw","key":"acct-1","id":"w-1","value":{"amount":5},"attempts":2,"errors":["a","b"]}`,
		`{"service":"bank","view":"write","kind":"state","key":"acct-1","value":10,"t":5}`,
		`{"service":"payments","view":"saga","kind":"refund","saga":"o-1","step":"charge","undo":true,"amount":5}`,
		`{"undo":false}`, `{"undo":tru}`, `{"i":-0}`, `{"i":12345678901234567890}`,
		`{"i":1,"i":2}`, `{"t":1e3}`, `{"value":null}`, `{"f":"\u00e9"}`, `[]`, `{`, `{"a":}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var in history.Interner
		recs := new(history.Records)
		checkOp(t, &in, recs, line)
		checkEffect(t, &in, recs, line)
	})
}
