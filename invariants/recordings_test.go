package invariants_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/runner"
)

// Recorded runs of the catalog scenarios, as porcupine keeps Jepsen's logs: a clean run
// and one per known bug, recorded by `mscli run … --testbed local --seed 1` and kept
// whole (the records gzipped). Each must keep getting the verdicts it got.
var recordings = []struct {
	dir  string
	want map[string]invariants.Verdict // invariants not named must pass
}{
	{"bank-idempotency-clean", nil},
	{"bank-idempotency-double-apply", map[string]invariants.Verdict{"idempotent": invariants.Fail, "durable": invariants.Fail}},
	{"bank-idempotency-ack-before-commit", map[string]invariants.Verdict{"durable": invariants.Fail, "converges": ""}},
	{"bank-idempotency-publish-before-commit", map[string]invariants.Verdict{"converges": invariants.Fail, "ordered": ""}},
	{"bank-idempotency-unordered-projection", map[string]invariants.Verdict{"ordered": invariants.Fail}},
	{"db-loss-restore-clean", nil},
	{"db-loss-restore-no-replay", map[string]invariants.Verdict{"durable": invariants.Fail, "converges": ""}},
}

// unpack copies a recording into a fresh run directory, unzipping its records.
func unpack(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("testdata", "runs", name)
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = in
		out := e.Name()
		if base, ok := strings.CutSuffix(out, ".gz"); ok {
			zr, err := gzip.NewReader(in)
			if err != nil {
				t.Fatal(err)
			}
			r, out = zr, base
		}
		b, err := io.ReadAll(r)
		in.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, out), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func verdicts(rs []invariants.Result) map[string]invariants.Result {
	out := map[string]invariants.Result{}
	for _, r := range rs {
		out[r.Name] = r
	}
	return out
}

func TestRecordedRuns(t *testing.T) {
	for _, rec := range recordings {
		t.Run(rec.dir, func(t *testing.T) {
			res, err := runner.Check(context.Background(), unpack(t, rec.dir))
			if err != nil {
				t.Fatal(err)
			}
			got := verdicts(res.Results)
			if len(got) == 0 {
				t.Fatal("no results")
			}
			for name, r := range got {
				want, named := rec.want[name]
				switch {
				case named && want == "":
					// Either way: the bug's effect on this invariant depends on timing.
				case !named && r.Verdict != invariants.Pass, named && r.Verdict != want:
					w := want
					if !named {
						w = invariants.Pass
					}
					t.Errorf("%s = %s (%s), want %s", name, r.Verdict, r.Summary, w)
				}
			}
		})
	}
}

// tamper edits a recorded run's files in place.
type tamper struct {
	name   string
	edit   func(t *testing.T, ops []history.Op, effects []history.Effect, faults []history.Fault) ([]history.Op, []history.Effect, []history.Fault)
	fails  string // the invariant that must fail, or "" when the run must be unknown
	reason string // a substring of the failing witness's note or of the unknown summary
}

// Each way a sceptical user might doctor a clean recording must make `mscli check`
// fail naming the invariant, or be inconclusive with the reason: never pass.
func TestTamperedRecordingsNeverPass(t *testing.T) {
	firstApplied := func(effects []history.Effect, kind string) int {
		for i, e := range effects {
			if e.View == history.WriteView && e.Kind == kind && e.Seq > 1 {
				return i
			}
		}
		t.Fatalf("no %s in the recording", kind)
		return -1
	}
	adjust := func(effects []history.Effect, key string, delta int64) {
		for i := range effects {
			if e := &effects[i]; e.Kind == history.KindState && e.Key == key && e.Value != nil {
				v := *e.Value + delta
				e.Value = &v
			}
		}
	}
	// finalReads makes every public read agree with the (doctored) write model.
	finalReads := func(ops []history.Op, effects []history.Effect) {
		final := map[string]history.Effect{}
		for _, e := range effects {
			if e.Kind == history.KindState && e.View == history.WriteView && e.Time == 0 {
				final[e.Key] = e
			}
		}
		for i := range ops {
			if o := &ops[i]; o.F == history.FRead && o.Type == history.Ok {
				if e, ok := final[o.Key]; ok {
					o.Value = json.RawMessage(fmt.Sprintf(`{"value":%d,"seq":%d}`, *e.Value, e.Seq))
				}
			}
		}
	}
	for _, tc := range []tamper{
		{"deposit credited to another account", func(t *testing.T, ops []history.Op, effects []history.Effect, faults []history.Fault) ([]history.Op, []history.Effect, []history.Fault) {
			i := firstApplied(effects, "credit")
			id, key, amount := effects[i].ID, effects[i].Key, effects[i].Amount
			other := "acct-19"
			if key == other {
				other = "acct-18"
			}
			for j := range effects {
				if effects[j].ID == id && effects[j].Kind == "credit" {
					effects[j].Key = other
				}
			}
			adjust(effects, key, -amount)
			adjust(effects, other, amount)
			finalReads(ops, effects)
			return ops, effects, faults
		}, "durable", "took effect on"},
		{"withdrawal debited three times the amount", func(t *testing.T, ops []history.Op, effects []history.Effect, faults []history.Fault) ([]history.Op, []history.Effect, []history.Fault) {
			i := firstApplied(effects, "debit")
			id, key, amount := effects[i].ID, effects[i].Key, effects[i].Amount
			for j := range effects {
				if effects[j].ID == id && effects[j].Kind == "debit" {
					effects[j].Amount = 3 * amount
				}
			}
			adjust(effects, key, 2*amount)
			finalReads(ops, effects)
			return ops, effects, faults
		}, "durable", "took effect for"},
		{"read model never observed", func(t *testing.T, ops []history.Op, effects []history.Effect, faults []history.Fault) ([]history.Op, []history.Effect, []history.Fault) {
			var out []history.Effect
			for _, e := range effects {
				if e.View != history.ReadView {
					out = append(out, e)
				}
			}
			return ops, out, faults
		}, "", "declares a read model, but none was observed"},
		{"nothing recorded", func(t *testing.T, ops []history.Op, effects []history.Effect, faults []history.Fault) ([]history.Op, []history.Effect, []history.Fault) {
			return nil, nil, faults
		}, "", "none was observed"},
		{"every fault failed to apply", func(t *testing.T, ops []history.Op, effects []history.Effect, faults []history.Fault) ([]history.Op, []history.Effect, []history.Fault) {
			for i := range faults {
				if faults[i].Phase == history.Start {
					faults[i].Error = "toxiproxy: connection refused"
				}
			}
			return ops, effects, faults
		}, "", "toxiproxy: connection refused"},
		{"effect nobody invoked", func(t *testing.T, ops []history.Op, effects []history.Effect, faults []history.Fault) ([]history.Op, []history.Effect, []history.Fault) {
			e := effects[firstApplied(effects, "credit")]
			e.ID, e.Seq = "d-999999", 1<<40
			return ops, append(effects, e), faults
		}, "durable", "no client invoked"},
		{"failed operation took effect", func(t *testing.T, ops []history.Op, effects []history.Effect, faults []history.Fault) ([]history.Op, []history.Effect, []history.Fault) {
			id := effects[firstApplied(effects, "debit")].ID
			for i := range ops {
				if ops[i].ID == id && ops[i].Type == history.Ok {
					ops[i].Type = history.Fail
				}
			}
			return ops, effects, faults
		}, "durable", "failed at the client"},
		{"acknowledged operation lost", func(t *testing.T, ops []history.Op, effects []history.Effect, faults []history.Fault) ([]history.Op, []history.Effect, []history.Fault) {
			i := firstApplied(effects, "debit")
			id, key, amount := effects[i].ID, effects[i].Key, effects[i].Amount
			var out []history.Effect
			for _, e := range effects {
				if e.ID != id {
					out = append(out, e)
				}
			}
			adjust(out, key, -amount)
			finalReads(ops, out)
			return ops, out, faults
		}, "durable", "has no effect"},
		{"projection order swapped", func(t *testing.T, ops []history.Op, effects []history.Effect, faults []history.Fault) ([]history.Op, []history.Effect, []history.Fault) {
			a, b := -1, -1
			for i, e := range effects {
				if e.View == history.ReadView && e.Key == "acct-3" && e.Kind != history.KindState {
					switch e.Pos {
					case 3:
						a = i
					case 4:
						b = i
					}
				}
			}
			effects[a].Pos, effects[b].Pos = effects[b].Pos, effects[a].Pos
			return ops, effects, faults
		}, "ordered", "want seq 3"},
		{"public read disagrees", func(t *testing.T, ops []history.Op, effects []history.Effect, faults []history.Fault) ([]history.Op, []history.Effect, []history.Fault) {
			for i := len(ops) - 1; i >= 0; i-- {
				if ops[i].F == history.FRead && ops[i].Type == history.Ok {
					ops[i].Value = json.RawMessage(`{"value":1,"seq":1}`)
					break
				}
			}
			return ops, effects, faults
		}, "converges", "final read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := unpack(t, "bank-idempotency-clean")
			ops, err := history.ReadFile[history.Op](filepath.Join(dir, runner.HistoryFile))
			if err != nil {
				t.Fatal(err)
			}
			effects, err := history.ReadFile[history.Effect](filepath.Join(dir, runner.EffectsFile))
			if err != nil {
				t.Fatal(err)
			}
			faults, err := history.ReadFile[history.Fault](filepath.Join(dir, runner.FaultsFile))
			if err != nil {
				t.Fatal(err)
			}
			ops, effects, faults = tc.edit(t, ops, effects, faults)
			write(t, filepath.Join(dir, runner.HistoryFile), ops)
			write(t, filepath.Join(dir, runner.EffectsFile), effects)
			write(t, filepath.Join(dir, runner.FaultsFile), faults)
			res, err := runner.Check(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			code := runner.CodeOfVerdict(res.Verdict)
			if tc.fails != "" {
				r := verdicts(res.Results)[tc.fails]
				if code != runner.ExitViolated || r.Verdict != invariants.Fail {
					t.Fatalf("exit %d, %s = %s (%s): want exit 1 with %s failing", code, tc.fails, r.Verdict, r.Summary, tc.fails)
				}
				for _, w := range r.Witnesses {
					if strings.Contains(w.Note, tc.reason) {
						return
					}
				}
				t.Fatalf("%s failed, but no witness says %q: %+v", tc.fails, tc.reason, r.Witnesses)
			}
			if code != runner.ExitInconclusive {
				t.Fatalf("exit %d (verdict %s), want 2", code, res.Verdict)
			}
			b, _ := json.Marshal(res)
			if !strings.Contains(string(b), tc.reason) {
				t.Fatalf("inconclusive, but the result never says %q: %s", tc.reason, b)
			}
		})
	}
}

func write[T any](t *testing.T, path string, recs []T) {
	t.Helper()
	if err := history.WriteFile(path, recs); err != nil {
		t.Fatal(err)
	}
}
