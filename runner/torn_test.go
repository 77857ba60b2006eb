package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// tear cuts a records file inside its last line, as a mscli killed while its writer
// held the rest in its buffer leaves it; it returns that line's number.
func tear(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.TrimSuffix(data, []byte("\n"))
	last := bytes.LastIndexByte(body, '\n') + 1
	if len(body)-last < 8 {
		t.Fatalf("%s: last line too short to tear", path)
	}
	if err := os.WriteFile(path, data[:last+(len(body)-last)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	return bytes.Count(data, []byte("\n"))
}

// A recorded run whose history, faults or effects end in a torn line is judged cut
// short: LoadRecorded returns the whole records with a TornRecords naming the file and
// the line, and Check sets Incomplete and never passes the run, though every invariant
// holds on what was recorded.
func TestCheckTornRecordsAreIncomplete(t *testing.T) {
	ctx := context.Background()
	for _, file := range []string{HistoryFile, FaultsFile, EffectsFile} {
		t.Run(file, func(t *testing.T) {
			dir, _ := recordRun(t, "")
			whole, err := LoadRecorded(dir)
			if err != nil {
				t.Fatal(err)
			}
			line := tear(t, filepath.Join(dir, file))

			in, err := LoadRecorded(dir)
			var torn *TornRecords
			if !errors.As(err, &torn) || in == nil || len(torn.Lines) != 1 || torn.Lines[0].Line != line ||
				filepath.Base(torn.Lines[0].Path) != file {
				t.Fatalf("LoadRecorded: %v (%+v)", err, torn)
			}
			var tl *history.TornLine
			if !errors.As(err, &tl) || tl.Line != line {
				t.Errorf("the torn line is not found through TornRecords: %v", err)
			}
			count := func(in *invariants.Input) int {
				return in.Columns().NumOps() + len(in.Faults) + in.Columns().NumEffects()
			}
			if got, want := count(in), count(whole)-1; got != want {
				t.Errorf("%d records read, want %d (all but the torn one)", got, want)
			}
			if in.Replicas == nil || !reflect.DeepEqual(in.Views, whole.Views) {
				t.Error("the plan was not declared")
			}

			r, err := Check(ctx, dir)
			if err != nil {
				t.Fatalf("check: %v (exit %d), want a result", err, CodeOf(err))
			}
			want := fmt.Sprintf("the run was cut short: the last line of %s was torn (line %d: unexpected end of JSON input)", file, line)
			if r.Incomplete != want {
				t.Errorf("incomplete: %q, want %q", r.Incomplete, want)
			}
			if r.Verdict == invariants.Pass || CodeOfVerdict(r.Verdict) == ExitOK || len(r.Results) == 0 {
				t.Fatalf("verdict %s over %+v: a torn run is never a pass", r.Verdict, r.Results)
			}
			// The torn record is lost: the last op's completion, a fault's stop (a fault
			// failure too), a key's state (conservation then finds its effects without
			// one, and fails, as any violation on partial records does).
			wantWorst := map[string]invariants.Verdict{HistoryFile: invariants.Pass, FaultsFile: invariants.Pass, EffectsFile: invariants.Fail}[file]
			if invariants.Worst(r.Results) != wantWorst || file != EffectsFile && CodeOfVerdict(r.Verdict) != ExitInconclusive {
				t.Errorf("verdict %s over %+v", r.Verdict, r.Results)
			}
			if r.Verdict == invariants.Fail {
				return
			}
			var out bytes.Buffer
			if err := reports.WriteText(&out, r); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "verdict: UNKNOWN — inconclusive: "+want) {
				t.Errorf("check's output does not say why:\n%s", out.String())
			}
		})
	}
}

// A run killed mid-write usually has no result.json either, and every file torn: the
// reason names both.
func TestCheckTornEverywhereWithoutResult(t *testing.T) {
	dir, _ := recordRun(t, "")
	if err := os.Remove(filepath.Join(dir, ResultFile)); err != nil {
		t.Fatal(err)
	}
	lines := map[string]int{}
	for _, f := range []string{HistoryFile, FaultsFile, EffectsFile} {
		lines[f] = tear(t, filepath.Join(dir, f))
	}
	r, err := Check(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("the run was cut short (no result.json: its mscli was stopped before the end); its records are partial: "+
		"the last line of history.jsonl was torn (line %d: unexpected end of JSON input); "+
		"the last line of faults.jsonl was torn (line %d: unexpected end of JSON input); "+
		"the last line of effects.jsonl was torn (line %d: unexpected end of JSON input)",
		lines[HistoryFile], lines[FaultsFile], lines[EffectsFile])
	if r.Incomplete != want || r.Verdict == invariants.Pass {
		t.Errorf("verdict %s, incomplete:\n%s\nwant\n%s", r.Verdict, r.Incomplete, want)
	}
}

// A line that does not decode in the middle of a file, or a last line that ends with
// its newline, is corruption, not a torn write: invalid input, as before.
func TestCheckCorruptRecordsAreInvalidInput(t *testing.T) {
	for name, edit := range map[string]func([]byte) []byte{
		"a bad line in the middle": func(b []byte) []byte {
			i := bytes.IndexByte(b, '\n')
			return append(append(append([]byte(nil), b[:i+1]...), "{oops\n"...), b[i+1:]...)
		},
		"a bad last line with its newline": func(b []byte) []byte { return append(b, "{\"i\":9,\"t\"\n"...) },
	} {
		dir, _ := recordRun(t, "")
		path := filepath.Join(dir, HistoryFile)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, edit(data), 0o644); err != nil {
			t.Fatal(err)
		}
		var torn *TornRecords
		if _, err := LoadRecorded(dir); err == nil || errors.As(err, &torn) {
			t.Errorf("%s: LoadRecorded: %v, want an error that is no TornRecords", name, err)
		}
		r, err := Check(context.Background(), dir)
		if err == nil || CodeOf(err) != ExitInvalidInput || !strings.Contains(err.Error(), "history.jsonl: line ") {
			t.Errorf("%s: check: %v (exit %d), %+v; want invalid input", name, err, CodeOf(err), r)
		}
	}
}
