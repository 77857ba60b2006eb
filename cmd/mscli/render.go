package main

import (
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
)

var formats = map[string]func(io.Writer, *reports.Run) error{
	"text":     reports.WriteText,
	"json":     reports.WriteJSON,
	"junit":    reports.WriteJUnit,
	"markdown": reports.WriteMarkdown,
	"html":     writeHTML,
	"github":   func(w io.Writer, r *reports.Run) error { return reports.WriteGitHub(w, r) },
}

var formatNames = func() string {
	var n []string
	for k := range formats {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, "|")
}()

func render(w io.Writer, r *reports.Run, format string) error {
	f, ok := formats[format]
	if !ok {
		return runner.InvalidInput("unknown format %q: want one of %s", format, formatNames)
	}
	return f(w, r)
}

// writeHTML draws the HTML report with its charts from the run directory's records
// (r.Dir); a run directory without them still gets every table.
func writeHTML(w io.Writer, r *reports.Run) error {
	var in *invariants.Input
	if r.Dir != "" {
		in, _ = runner.LoadRecorded(r.Dir) // records with a torn last line still draw
	}
	return reports.WriteHTML(w, r, in)
}

// reportFrom reads a run directory's result for rendering, pointing it at that
// directory (it may have moved since it was recorded) so the HTML report finds its
// records.
func reportFrom(dir string) (*reports.Run, error) {
	r, err := reports.ReadFile(resultPath(dir))
	if err != nil {
		return nil, err
	}
	r.Dir = dir
	return r, nil
}

func resultPath(dir string) string { return filepath.Join(dir, runner.ResultFile) }
