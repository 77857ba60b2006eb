package suite

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mscli/mscli/reports"
)

// Files of a suite directory, beside its run directories.
const (
	SuiteFile   = "suite.json"
	JUnitFile   = "junit.xml"
	SummaryFile = "summary.md"
)

// Entry is what the suite's record says of a job beyond its outcome: the scenario as
// the command line named it, and the command that runs it again.
type Entry struct {
	Scenario string
	Repro    string
}

// Record builds the suite's record from the jobs' entries and outcomes (in the jobs'
// order).
func Record(s *reports.Suite, jobs []Job, entries []Entry, outs []Outcome) {
	s.Runs = s.Runs[:0]
	for i, oc := range outs {
		r := reports.SuiteRun{Scenario: entries[i].Scenario, Seed: jobs[i].Plan.Seed, Code: int(oc.Code),
			Repro: entries[i].Repro, Skipped: oc.Skipped, Run: oc.Run}
		if len(jobs[i].Bugs) == 1 {
			r.Catches = jobs[i].Plan.Catches[jobs[i].Bugs[0]]
		}
		if oc.Err != nil {
			r.Error = oc.Err.Error()
		}
		s.Runs = append(s.Runs, r)
	}
	s.Code = int(Code(outs))
}

// WriteFiles writes suite.json, junit.xml and summary.md into the suite directory.
func WriteFiles(s *reports.Suite) error {
	for name, write := range map[string]func(io.Writer, *reports.Suite) error{
		SuiteFile:   writeJSON,
		JUnitFile:   reports.WriteSuiteJUnit,
		SummaryFile: reports.WriteSuiteMarkdown,
	} {
		f, err := os.Create(filepath.Join(s.Dir, name))
		if err != nil {
			return err
		}
		if err := write(f, s); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(w io.Writer, s *reports.Suite) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(s)
}

// WriteJSON writes the suite's record as indented JSON (suite.json).
func WriteJSON(w io.Writer, s *reports.Suite) error { return writeJSON(w, s) }

// Repro is the command line that makes one run of a suite again.
func Repro(scenario string, seed int64, testbed string, bugs []string) string {
	args := []string{"mscli", "run", shellQuote(scenario), "--seed", fmt.Sprint(seed), "--testbed", testbed}
	for _, b := range bugs {
		args = append(args, "--inject-bug", shellQuote(b))
	}
	return strings.Join(args, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ReadFile reads a suite directory's suite.json.
func ReadFile(dir string) (*reports.Suite, error) {
	b, err := os.ReadFile(filepath.Join(dir, SuiteFile))
	if err != nil {
		return nil, err
	}
	var s reports.Suite
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, SuiteFile), err)
	}
	return &s, nil
}
