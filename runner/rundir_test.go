package runner_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/runner"
)

// Runs started in the same second, with the same scenario and seed, each get a run
// directory, and so a run id, of their own.
func TestNewRunDirConcurrent(t *testing.T) {
	root := filepath.Join(t.TempDir(), "runs")
	now := time.Date(2026, 12, 2, 10, 15, 0, 0, time.UTC)
	const n = 16
	dirs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d, err := runner.NewRunDir(root, "bank idempotency", 1, now)
			if err != nil {
				t.Error(err)
			}
			dirs[i] = d
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, d := range dirs {
		if seen[d] {
			t.Errorf("two runs share %s", d)
		}
		seen[d] = true
	}
	for _, d := range dirs {
		if !regexp.MustCompile(`^20261202T101500Z-bank_idempotency-1-[0-9a-f]{4}(\.\d+)?$`).MatchString(filepath.Base(d)) {
			t.Errorf("run directory %s: want <time>-<scenario>-<seed>-<tag>", d)
		}
	}
}

// LoadRecorded decodes a run straight into columns: every record reads back as
// encoding/json decodes its line, lines the fast decoder hands to encoding/json (an
// escape, an unknown key, a null value) included, as do a read's id, a failed
// attempt's errors and an effect's seldom-set fields.
func TestLoadRecordedMatchesEncodingJSON(t *testing.T) {
	dir := t.TempDir()
	opsText := `{"i":0,"t":10,"proc":0,"type":"invoke","f":"withdraw","key":"acct-1","id":"op-1","value":{"amount":5}}
{"i":1,"t":20,"proc":0,"type":"info","f":"withdraw","key":"acct-1","id":"op-1","value":{"amount":5},"error":"timeout","attempts":3,"errors":["reset","timeout"],"status":503}
{"i":2,"t":30,"proc":1,"type":"invoke","f":"read","key":"acct-\u00e9","id":"odd-read"}
{"i":3,"t":40,"proc":1,"type":"ok","f":"read","key":"acct-\u00e9","value":{"value":7,"seq":2},"source":"fallback","extra":1}

{"i":4,"t":50,"proc":2,"type":"invoke","f":"deposit","key":"acct-2","id":"op-2","value":null}
`
	effectsText := `{"service":"bank","view":"write","kind":"debit","key":"acct-1","id":"op-1","amount":-5,"seq":1,"at":15}
{"service":"bank","view":"read","kind":"debit","key":"acct-1","id":"op-1","amount":-5,"seq":1,"pos":1,"replica":"bank/1","deliveries":2}
{"service":"bank","view":"write","kind":"state","key":"acct-1","value":95,"seq":1,"t":99}
{"service":"orders","view":"write","kind":"reserve","key":"sku-\"9\"","id":"o-1","saga":"o-1","step":"reserve","undo":true}
{"service":"bank","view":"write","kind":"dead-letter","id":"op-2","reason":"poison","deliveries":5}
`
	for name, text := range map[string]string{runner.HistoryFile: opsText, runner.EffectsFile: effectsText, runner.FaultsFile: ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in, err := runner.LoadRecorded(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantOps, err := history.ReadFile[history.Op](filepath.Join(dir, runner.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	wantEffs, err := history.ReadFile[history.Effect](filepath.Join(dir, runner.EffectsFile))
	if err != nil {
		t.Fatal(err)
	}
	recs := in.Columns()
	if recs.NumOps() != len(wantOps) || recs.NumEffects() != len(wantEffs) {
		t.Fatalf("%d ops and %d effects loaded, want %d and %d", recs.NumOps(), recs.NumEffects(), len(wantOps), len(wantEffs))
	}
	for i, want := range wantOps {
		if got := recs.Op(i); !reflect.DeepEqual(got, want) {
			t.Errorf("op %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	for i, want := range wantEffs {
		if got := recs.Effect(i); !reflect.DeepEqual(got, want) {
			t.Errorf("effect %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}
