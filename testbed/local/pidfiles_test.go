package local

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A run's pid file is found in its own directory, in a suite's and in a shrink's; a
// run's data and logs are not searched, and no runs folder is no error.
func TestPidFiles(t *testing.T) {
	runs := t.TempDir()
	want := []string{
		filepath.Join(runs, "r1", "pids"),
		filepath.Join(runs, "s-suite-ab12", "r2", "pids"),
		filepath.Join(runs, "r1", "shrink", "runs", "r3", "pids"),
	}
	for _, f := range append(slices.Clone(want), filepath.Join(runs, "r1", "logs", "pids"), filepath.Join(runs, "r1", "data", "x", "pids")) {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := pidFiles(runs)
	slices.Sort(got)
	slices.Sort(want)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("pidFiles = %q, %v; want %q", got, err, want)
	}
	if got, err := pidFiles(filepath.Join(runs, "none")); err != nil || len(got) != 0 {
		t.Fatalf("no runs folder: %q, %v", got, err)
	}
}
