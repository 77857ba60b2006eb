package tui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/reports"
)

// A run killed while its writers held records in their buffers leaves the last line
// of history.jsonl and faults.jsonl cut short: the explorer indexes and reads the
// records before it, leaves the torn line out and says so.
func TestLoadRecordsSkipsATornLastLine(t *testing.T) {
	dir := t.TempDir()
	ops := []history.Op{
		{Index: 0, Time: int64(time.Millisecond), Type: history.Invoke, F: "deposit", Key: "acct-1", ID: "d-1"},
		{Index: 1, Time: 2 * int64(time.Millisecond), Type: history.Ok, F: "deposit", Key: "acct-1", ID: "d-1"},
		{Index: 2, Time: 3 * int64(time.Millisecond), Type: history.Invoke, F: "withdraw", Key: "acct-1", ID: "w-1"},
	}
	faults := []history.Fault{{Time: int64(time.Millisecond), Phase: history.Start, Fault: "kill", Target: "bank/0"}}
	for name, tail := range map[string]string{
		historyFile: `{"i":3,"t":4000000,"proc":0,"type":"ok","f":"withd`,
		faultsFile:  `{"t":2000000,"phase":"st`,
	} {
		path := filepath.Join(dir, name)
		var err error
		if name == historyFile {
			err = history.WriteFile(path, ops)
		} else {
			err = history.WriteFile(path, faults)
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if err := os.WriteFile(path, append(b, tail...), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	msg := loadRecords(dir, 10*time.Millisecond)
	if msg.hErr != nil || msg.hist == nil {
		t.Fatalf("history: %v", msg.hErr)
	}
	h := msg.hist
	if h.records() != 3 || !h.torn || h.malformed != 0 {
		t.Fatalf("%d records, torn %v, %d malformed: want 3, true, 0", h.records(), h.torn, h.malformed)
	}
	got, err := h.read(0, 10)
	if err != nil || len(got) != 3 || got[2].ID != "w-1" || got[2].Index != 2 {
		t.Errorf("read: %+v, %v", got, err)
	}
	var tl *history.TornLine
	if !errors.As(msg.fErr, &tl) || len(msg.faults) != 1 || msg.faults[0].Fault != "kill" {
		t.Errorf("faults: %+v, %v: want the whole record and the torn line", msg.faults, msg.fErr)
	}
	line := recordsLine(&openRun{ready: true, hist: h, faults: msg.faults, fErr: msg.fErr, run: &reports.Run{}})
	for _, want := range []string{"history 3 records", "its last line torn (the run was cut short)", "faults.jsonl: line 2: "} {
		if !strings.Contains(line, want) {
			t.Errorf("the records line lacks %q: %s", want, line)
		}
	}

	// A bad last line that ends with its newline is no torn write: a malformed record.
	path := filepath.Join(dir, historyFile)
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if h, err := scanHistory(path, nil); err != nil || h.records() != 4 || h.torn {
		t.Errorf("a bad last line with its newline: %+v, %v", h, err)
	}
}
