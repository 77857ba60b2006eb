package runner_test

import (
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

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
