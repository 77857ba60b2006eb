package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mscli/mscli/reports"
)

// TestSuiteRun runs a folder of two short scenarios over two seeds, two at a time,
// with a bug each must catch: one JUnit file with a test suite per scenario, the
// summary, the table of which seeds caught it, annotations for GitHub and the worst
// exit code.
func TestSuiteRun(t *testing.T) {
	bin := mscliBinary(t)
	dir := filepath.Join(t.TempDir(), "suite")
	cmd := exec.Command(bin, "run", "testdata/suite", "--seeds", "1-2", "--parallel", "2", "--inject-bug", "double-apply",
		"--testbed", "local", "--suite-dir", dir, "--format", "github")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"::error file=testdata/suite/bank-duplicates.yaml,title=", "idempotent",
		"the bug was caught by idempotent on 2 of 2 seeds",
		"mscli run testdata/suite/bank-duplicates.yaml --seed 2 --testbed local --inject-bug double-apply",
		"suite: 4 runs",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "the bug was caught by idempotent on 2 of 2 seeds") != 2 {
		t.Errorf("both scenarios should catch the bug on both seeds:\n%s", out)
	}
	if !strings.Contains(stderr.String(), "[bank-duplicates#1]") {
		t.Errorf("no progress per run on stderr:\n%s", stderr.String())
	}

	var s reports.Suite
	b, err := os.ReadFile(filepath.Join(dir, "suite.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Runs) != 4 || s.Code != 1 {
		t.Fatalf("suite.json: %d runs, exit %d", len(s.Runs), s.Code)
	}
	for _, r := range s.Runs {
		if r.Run == nil || !r.Caught() || filepath.Dir(r.Run.Dir) != dir {
			t.Errorf("run %s seed %d: caught %v, dir %v", r.Scenario, r.Seed, r.Caught(), r.Run)
		}
	}
	var junit struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	b, err = os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &junit); err != nil {
		t.Fatal(err)
	}
	if len(junit.Suites) != 2 {
		t.Fatalf("%d test suites, want one per scenario:\n%s", len(junit.Suites), b)
	}
	for _, js := range junit.Suites {
		var names []string
		for _, c := range js.Cases {
			names = append(names, c.Name)
		}
		if js.Failures < 2 || !slices.Contains(names, "idempotent [seed 1]") || !slices.Contains(names, "idempotent [seed 2]") {
			t.Errorf("suite %s: %d failures, cases %q; want idempotent failed on each seed", js.Name, js.Failures, names)
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil || !strings.Contains(string(md), "### To reproduce") {
		t.Errorf("summary.md: %v\n%s", err, md)
	}
}

// TestSuiteBadInput: a suite's input is checked before any run starts.
func TestSuiteBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "bank-idempotency", "db-loss-restore", "--seeds", "3-1"}, "no range"},
		{[]string{"run", "bank-idempotency", "--seed", "2", "--seeds", "1-3"}, "one of --seed, --seeds and --runs"},
		{[]string{"run", "bank-idempotency", "saga-order", "--inject-bug", "double-apply"}, "saga-order"},
		{[]string{"run", "bank-idempotency", "no-such-*"}, "matches no scenario"},
		{[]string{"run", "bank-idempotency", "--runs", "2", "--parallel", "0"}, "--parallel 0"},
		{[]string{"run", "bank-idempotency", "--seeds", "1-2", "--format", "html"}, "one run's report"},
	} {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		code := run(append(c.args, "--out", out), &stdout, &stderr)
		if code != 4 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 4 and %q", c.args, code, stderr.String(), c.want)
		}
		if ents, _ := os.ReadDir(out); len(ents) > 0 {
			t.Errorf("%v: wrote %d entries before refusing", c.args, len(ents))
		}
	}
}
