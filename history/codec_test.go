package history_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/mscli/mscli/history"
)

// A file read back with an Interner holds the same records, with equal strings and
// values sharing one copy.
func TestReadFileWithInterns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []history.Op{
		{Index: 1, Time: 10, Process: 0, Type: history.Invoke, F: "withdraw", Key: "acct-1", ID: "w-1", Value: []byte(`{"amount":5}`)},
		{Index: 2, Time: 20, Process: 0, Type: history.Info, F: "withdraw", Key: "acct-1", ID: "w-1", Value: []byte(`{"amount":5}`),
			Error: "timeout", Attempts: 2, Errors: []string{"reset", "timeout"}},
	}
	for _, o := range want {
		if err := w.Write(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// A last line without its newline counts too.
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append(b, `{"i":3,"t":30,"proc":1,"type":"invoke","f":"deposit","key":"acct-1","id":"d-1"}`...), 0o644); err != nil {
		t.Fatal(err)
	}
	var in history.Interner
	got, err := history.ReadFileWith(path, in.DecodeOp)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1].Error != "timeout" || got[1].Errors[1] != "timeout" || got[2].ID != "d-1" {
		t.Fatalf("read back %+v", got)
	}
	if unsafe.StringData(got[0].ID) != unsafe.StringData(got[1].ID) || unsafe.StringData(got[0].Key) != unsafe.StringData(got[2].Key) ||
		unsafe.StringData(got[1].Error) != unsafe.StringData(got[1].Errors[1]) {
		t.Error("equal strings not shared")
	}
	if &got[0].Value[0] != &got[1].Value[0] {
		t.Error("equal values not shared")
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte("{\"i\":1}\n{oops\n"), 0o644)
	if _, err := history.ReadFileWith(bad, in.DecodeOp); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("malformed line: err = %v", err)
	}
}
