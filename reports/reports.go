// Package reports renders a run's result for people and machines: a text summary for
// the terminal, JSON (result.json), JUnit XML for CI (one test case per invariant, and
// one for the faults), Markdown for CI job summaries and a self-contained HTML page. It
// also holds the run's verdict: Verdict folds the invariants' results with the planned
// faults that failed (FaultFailures), so a run without its chaos is never green. Run is the result record they all read; it is written
// to result.json in every run directory, so a recorded run can be re-rendered later.
package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

// Run is one run's result: what ran, what happened, and the verdicts.
type Run struct {
	Scenario string        `json:"scenario"`
	Seed     int64         `json:"seed"`
	Testbed  string        `json:"testbed"`
	Bugs     []string      `json:"bugs,omitempty"` // known bugs injected into the fixtures
	Dir      string        `json:"dir"`
	Started  time.Time     `json:"started"`
	Wall     time.Duration `json:"wall_ns"`
	Ops      OpCounts      `json:"ops"`
	Faults   FaultCounts   `json:"faults"`
	// FaultFailures are the planned faults that failed to apply or to heal, or have no
	// start or stop record (FaultFailures judges them): a run with any is inconclusive,
	// never a pass, and every report shows them first.
	FaultFailures []FaultFailure      `json:"fault_failures,omitempty"`
	Converge      *Converge           `json:"converge,omitempty"`
	Results       []invariants.Result `json:"results"`
	Verdict       invariants.Verdict  `json:"verdict"`
	// Error is set when the run could not complete (the verdicts then cover what was
	// recorded before it stopped).
	Error string `json:"error,omitempty"`
	// Incomplete says why a re-checked run directory holds partial records: it has no
	// result.json, so its mscli was stopped before the end (SIGKILL, a crash), or a file
	// of its records ends in a line torn by such a stop.
	Incomplete string `json:"incomplete,omitempty"`
	// File is the scenario file the run was planned from, as it was given, when it
	// came from a file rather than the catalog ("" otherwise): annotations name it.
	File string `json:"file,omitempty"`
	// FileDir is File's folder, absolute: what the file's relative paths resolve
	// against, for a later mscli shrink of the run made from another folder.
	FileDir string `json:"file_dir,omitempty"`
}

// Partial says why the run's records are partial, "" when they are whole: a run that
// could not complete or was cut short is never a pass, whatever its checks found.
func (r *Run) Partial() string {
	switch {
	case r.Incomplete != "":
		return r.Incomplete
	case r.Error != "":
		return "the run could not complete: " + r.Error
	}
	return ""
}

// OpCounts counts operations by outcome (history.Counts: invoked, ok, fail, info), with
// rate and latency of the completed ones.
type OpCounts struct {
	history.Counts
	Rate float64       `json:"rate"` // completed operations per second
	P50  time.Duration `json:"p50_ns"`
	P99  time.Duration `json:"p99_ns"`
}

// FaultCounts counts the planned faults (CountFaults): how many were applied and
// healed, and how many fault records carry an error.
type FaultCounts struct {
	Planned int `json:"planned"`
	Applied int `json:"applied"`
	Healed  int `json:"healed"`
	Errors  int `json:"errors"`
}

// Converge is what waiting for the read models found.
type Converge struct {
	Converged bool          `json:"converged"`
	After     time.Duration `json:"after_ns"` // from the last heal to agreement
	Polls     int           `json:"polls"`
}

// WriteJSON writes the run as indented JSON.
func WriteJSON(w io.Writer, r *Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// ReadFile reads a result.json.
func ReadFile(path string) (*Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// WriteFile writes a result.json.
func WriteFile(path string, r *Run) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteJSON(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
