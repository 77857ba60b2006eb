package invariants_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

// db-loss-restore on docker, seed 2, with the bank as it was before its replay read the
// commands stream (`mscli run db-loss-restore --testbed docker --seed 2`; the same
// failure a user saw with seed 1). The wipe at 12 s stopped the replicas while
// commands acknowledged shortly before were still waiting for the handler; the
// database came back from the backup taken at 4 s, without their rows; the replicas
// were ready before the broker redelivered those commands. Until it did, the bank did
// not know ten operations it had acknowledged and reported itself settled; the runner's
// one converge poll (21:51:45.21) and final observation fell in that gap, and the bank's
// logs show the ten commands applied at 21:51:45.240–.488. The records are what that bank
// really showed — an acknowledged operation it answered 404 for — so durable must
// fail on them (converges failed too: one of them was applied between the last poll
// and the final observation).
func TestRecordedBacklogLostByRestore(t *testing.T) {
	dir := filepath.Join("testdata", "db-loss-restore-backlog-lost-by-restore")
	read := func(name string, fn func(f *os.File) error) {
		t.Helper()
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := fn(f); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	in := &invariants.Input{}
	read("history.jsonl", func(f *os.File) (err error) { in.Ops, err = history.Read[history.Op](f); return })
	read("faults.jsonl", func(f *os.File) (err error) { in.Faults, err = history.Read[history.Fault](f); return })
	read("effects.jsonl", func(f *os.File) (err error) { in.Effects, err = history.Read[history.Effect](f); return })
	if len(in.Ops) == 0 || len(in.Effects) == 0 {
		t.Fatalf("empty recording: %d ops, %d effects", len(in.Ops), len(in.Effects))
	}
	results := invariants.Check(context.Background(), in, []invariants.Spec{{Name: "durable"}})
	if len(results) != 1 || results[0].Name != "durable" {
		t.Fatalf("Check returned %d results, want durable's", len(results))
	}
	if r := results[0]; r.Verdict != invariants.Fail {
		t.Fatalf("durable = %s (%s), want fail: ten acknowledged operations are missing from the final observation", r.Verdict, r.Summary)
	}
}
