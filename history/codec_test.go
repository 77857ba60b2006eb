package history_test

import (
	"errors"
	"io"
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

// A last line cut short with no newline is a torn write (a killed writer): the
// records before it come back with a *TornLine naming the file and the line. A line
// that does not decode anywhere else, or a last line that ends with its newline, is
// corruption: an error, and no TornLine.
func TestReadTornLastLine(t *testing.T) {
	dir := t.TempDir()
	whole := "{\"i\":1,\"type\":\"invoke\",\"id\":\"w-1\"}\n\n{\"i\":2,\"type\":\"ok\",\"id\":\"w-1\"}\n"
	torn := `{"i":3,"type":"invoke","id":"w-`
	var in history.Interner
	decoders := map[string]func(string) ([]history.Op, error){
		"ReadFileWith": func(p string) ([]history.Op, error) { return history.ReadFileWith(p, in.DecodeOp) },
		"ReadFile":     history.ReadFile[history.Op],
	}
	for name, read := range decoders {
		path := filepath.Join(dir, name+"-torn.jsonl")
		if err := os.WriteFile(path, []byte(whole+torn), 0o644); err != nil {
			t.Fatal(err)
		}
		ops, err := read(path)
		var tl *history.TornLine
		if !errors.As(err, &tl) || tl.Path != path || tl.Line != 4 || tl.Err == nil {
			t.Fatalf("%s: a torn last line: err = %v", name, err)
		}
		if len(ops) != 2 || ops[1].Index != 2 || ops[1].Type != history.Ok {
			t.Errorf("%s: the records before the torn line: %+v", name, ops)
		}
		if !strings.Contains(err.Error(), path+": line 4: ") || !strings.Contains(err.Error(), "cut short") {
			t.Errorf("%s: %v", name, err)
		}

		for what, data := range map[string]string{
			"a bad line in the middle":         "{\"i\":1}\n{oops\n{\"i\":3}",
			"a bad line in the middle, no end": "{\"i\":1}\n{\"i\":2,\"t\":\n{\"i\":3}\n",
			"a bad last line with its newline": whole + torn + "\n",
			"a bad last line with CRLF":        whole + torn + "\r\n",
		} {
			path := filepath.Join(dir, name+"-bad.jsonl")
			if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := read(path)
			if err == nil || errors.As(err, &tl) || !strings.Contains(err.Error(), path+": line ") {
				t.Errorf("%s, %s: err = %v, want an error that is no TornLine", name, what, err)
			}
		}
	}

	// Read, from a stream: no path; an effect, and a fault, cut short alike.
	effects, err := history.Read[history.Effect](strings.NewReader("{\"service\":\"bank\",\"seq\":1}\n{\"service\":\"bank\",\"se"))
	var tl *history.TornLine
	if !errors.As(err, &tl) || tl.Path != "" || tl.Line != 2 || len(effects) != 1 || effects[0].Seq != 1 {
		t.Errorf("Read: %+v, %v", effects, err)
	}
	path := filepath.Join(dir, "faults.jsonl")
	os.WriteFile(path, []byte("{\"t\":1,\"phase\":\"start\",\"fault\":\"kill\"}\n{\"t\":2,\"pha"), 0o644)
	faults, err := history.ReadFile[history.Fault](path)
	if !errors.As(err, &tl) || tl.Line != 2 || len(faults) != 1 || faults[0].Fault != "kill" {
		t.Errorf("faults: %+v, %v", faults, err)
	}
	// A last line without its newline that decodes is a record like any other.
	ops, err := history.Read[history.Op](strings.NewReader(whole + `{"i":3}`))
	if err != nil || len(ops) != 3 {
		t.Errorf("a whole last line without its newline: %+v, %v", ops, err)
	}
}

// A line longer than Read holds is an error naming it, after the records before it,
// and Read stops there: it does not hold the line.
func TestReadLongLine(t *testing.T) {
	body := io.MultiReader(strings.NewReader("{\"i\":1}\n{\"i\":2}\n{\"f\":\""), endless('x'))
	ops, err := history.Read[history.Op](body)
	if err == nil || err.Error() != "line 3: longer than 16 MiB, the most a record may be" || len(ops) != 2 {
		t.Fatalf("%d records, %v", len(ops), err)
	}
}

// endless is a reader of one byte without end.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}
