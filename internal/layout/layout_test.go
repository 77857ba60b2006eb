// Package layout holds the tests that keep the architecture as docs/architecture.md
// draws it: frameworks at the edges, the plan a leaf, no package the size of several.
package layout

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/mscli/mscli/"

// imports maps each package of the module to its direct imports (tests excluded).
func imports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		m[strings.TrimPrefix(f[0], module)] = f[1:]
	}
	return m
}

// Each library stays at its edge: only the packages listed import it.
func TestFrameworksStayAtTheEdges(t *testing.T) {
	rules := []struct {
		prefix  string
		allowed func(pkg string) bool
	}{
		{"github.com/goccy/go-yaml", func(p string) bool { return p == "scenarios" }},
		{"github.com/compose-spec/", func(p string) bool { return p == "scenarios" }},
		{"github.com/spf13/cobra", func(p string) bool { return p == "cmd/mscli" }},
		{"github.com/charmbracelet/", func(p string) bool { return p == "reports/tui" }},
		{"github.com/testcontainers/", func(p string) bool { return p == "testbed/docker" }},
		{"github.com/moby/", func(p string) bool { return p == "testbed/docker" }},
		{"github.com/nats-io/", func(p string) bool { return strings.HasPrefix(p, "fixtures/") || p == "chaos/messages" }},
	}
	for pkg, imps := range imports(t) {
		for _, imp := range imps {
			for _, r := range rules {
				if strings.HasPrefix(imp, r.prefix) && !r.allowed(pkg) {
					t.Errorf("%s imports %s", pkg, imp)
				}
			}
		}
	}
}

// The plan is the contract between the YAML and the rest: chaos, workload and the
// testbeds read a plan and never the scenario format; chaos declares what it needs of
// a testbed instead of importing one; plan imports nothing of the module but internal
// helpers that are leaves themselves.
func TestPlanIsTheContract(t *testing.T) {
	forbidden := map[string][]string{
		"chaos":          {"scenarios", "testbed", "testbed/local", "testbed/docker"},
		"chaos/messages": {"scenarios", "testbed"},
		"workload":       {"scenarios"},
		"testbed":        {"scenarios", "chaos"},
		"testbed/local":  {"scenarios", "chaos", "runner"},
		"testbed/docker": {"scenarios", "chaos", "runner"},
		"invariants":     {"scenarios", "runner"},
		// A suite runs plans; the command line plans them. The runner runs one.
		"suite":  {"scenarios", "shrink"},
		"runner": {"suite", "shrink"},
	}
	all := imports(t)
	for pkg, bad := range forbidden {
		for _, imp := range all[pkg] {
			for _, b := range bad {
				if imp == module+b {
					t.Errorf("%s imports %s", pkg, b)
				}
			}
		}
	}
	leaf := func(pkg string) bool {
		for _, imp := range all[pkg] {
			if strings.HasPrefix(imp, module) {
				return false
			}
		}
		return true
	}
	if !leaf("sut") {
		t.Errorf("sut imports %v: the handles of the system under test must stay a leaf", all["sut"])
	}
	for _, imp := range all["plan"] {
		p := strings.TrimPrefix(imp, module)
		if strings.HasPrefix(imp, module) && !(strings.HasPrefix(p, "internal/") && leaf(p)) {
			t.Errorf("plan imports %s: it must stay a leaf (an internal leaf helper at most)", imp)
		}
	}
}

// No source file is several files in one.
func TestNoFileOver500Lines(t *testing.T) {
	err := filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "third_party" || strings.HasPrefix(d.Name(), ".")) && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if n := bytes.Count(b, []byte("\n")); n > 500 {
			t.Errorf("%s: %d lines", strings.TrimPrefix(path, "../../"), n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
