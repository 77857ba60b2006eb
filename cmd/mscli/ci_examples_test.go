package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// The CI examples of examples/ci are workflows users copy: each must have the shape
// its CI reads (jobs, steps, artifacts), publish with the gate failed too, and every
// mscli command line in them must name a command this mscli has, with only flags
// and arguments that command takes.

const (
	githubExample = "../../examples/ci/github-actions.yml"
	gitlabExample = "../../examples/ci/gitlab-ci.yml"
)

func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

func mapOf(t *testing.T, v any, what string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: want a mapping, got %T", what, v)
	}
	return m
}

func listOf(t *testing.T, v any, what string) []any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("%s: want a list, got %T", what, v)
	}
	return l
}

func str(v any) string { s, _ := v.(string); return s }

func TestGitHubActionsExample(t *testing.T) {
	doc := readYAML(t, githubExample)
	if _, ok := doc["on"]; !ok {
		t.Error("no on: triggers")
	}
	jobs := mapOf(t, doc["jobs"], "jobs")
	if len(jobs) != 1 {
		t.Fatalf("want one job, got %d", len(jobs))
	}
	var steps []any
	for name, j := range jobs {
		job := mapOf(t, j, "jobs."+name)
		if str(job["runs-on"]) == "" {
			t.Errorf("job %s has no runs-on", name)
		}
		steps = listOf(t, job["steps"], "jobs."+name+".steps")
	}
	gate, lines := -1, 0
	seen := map[string]bool{}
	for i, s := range steps {
		step := mapOf(t, s, "a step")
		uses, run, cond := str(step["uses"]), str(step["run"]), str(step["if"])
		with, _ := step["with"].(map[string]any)
		switch {
		case strings.HasPrefix(uses, "actions/checkout@"):
			seen["checkout"] = true
		case strings.HasPrefix(uses, "actions/setup-go@"):
			seen["setup-go"] = str(with["go-version-file"]) == "go.mod"
		case strings.HasPrefix(uses, "mikepenz/action-junit-report@"), strings.HasPrefix(uses, "dorny/test-reporter@"):
			seen["junit"] = strings.Contains(str(with["report_paths"])+str(with["path"]), "mscli-suite/junit.xml")
		case strings.HasPrefix(uses, "actions/upload-artifact@"):
			seen["artifact"] = strings.HasPrefix(str(with["path"]), "mscli-suite")
		case strings.Contains(run, "make build"):
			seen["build"] = true
		case strings.Contains(run, "summary.md") && strings.Contains(run, "$GITHUB_STEP_SUMMARY"):
			seen["summary"] = true
		}
		cmds := mscliCommands(t, run)
		lines += len(cmds)
		for _, args := range cmds {
			if args[0] == "run" {
				gate = i
				if cond != "" || step["continue-on-error"] != nil {
					t.Errorf("the gate step %q must fail the job: no if:, no continue-on-error", str(step["name"]))
				}
				for _, want := range []string{"--format github", "--suite-dir mscli-suite"} {
					if !strings.Contains(strings.Join(args, " "), want) {
						t.Errorf("the suite's command line lacks %s: %v", want, args)
					}
				}
			}
		}
		if gate >= 0 && i > gate && cond != "always()" {
			t.Errorf("step %d (%s) comes after the gate: it must run if: always()", i, str(step["name"]))
		}
	}
	for _, want := range []string{"checkout", "setup-go", "build", "summary", "junit", "artifact"} {
		if !seen[want] {
			t.Errorf("no step for %s (or it does not use mscli-suite, go.mod)", want)
		}
	}
	if gate < 0 || lines == 0 {
		t.Errorf("no mscli run step (%d mscli command lines)", lines)
	}
}

func TestGitLabCIExample(t *testing.T) {
	doc := readYAML(t, gitlabExample)
	job := mapOf(t, doc["chaos"], "chaos")
	if stages := listOf(t, doc["stages"], "stages"); len(stages) == 0 || str(job["stage"]) != str(stages[0]) {
		t.Errorf("the job's stage %q is not declared in stages %v", job["stage"], stages)
	}
	var runs int
	for _, key := range []string{"before_script", "script", "after_script"} {
		if job[key] == nil {
			continue
		}
		for _, line := range listOf(t, job[key], key) {
			for _, args := range mscliCommands(t, str(line)) {
				if args[0] == "run" && key == "script" {
					runs++
					if !strings.Contains(strings.Join(args, " "), "--suite-dir mscli-suite") {
						t.Errorf("the suite's command line lacks --suite-dir mscli-suite: %v", args)
					}
				}
			}
		}
	}
	if runs != 1 {
		t.Errorf("want one mscli run in script, got %d", runs)
	}
	art := mapOf(t, job["artifacts"], "artifacts")
	if str(art["when"]) != "always" {
		t.Errorf("artifacts must be kept when the gate fails: when: %v", art["when"])
	}
	if paths := listOf(t, art["paths"], "artifacts.paths"); len(paths) != 1 || !strings.HasPrefix(str(paths[0]), "mscli-suite") {
		t.Errorf("artifacts.paths: %v", paths)
	}
	if j := str(mapOf(t, art["reports"], "artifacts.reports")["junit"]); j != "mscli-suite/junit.xml" {
		t.Errorf("artifacts.reports.junit: %q", j)
	}
}

func TestCIDocNamesTheExamples(t *testing.T) {
	b, err := os.ReadFile("../../docs/ci.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"examples/ci/github-actions.yml", "examples/ci/gitlab-ci.yml", "mscli compare", "130 > 4 > 1 > 3 > 2 >", "scenarios.md#thresholds"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("docs/ci.md does not mention %s", want)
		}
	}
}

// mscliCommands finds the mscli command lines of a shell script (mscli or a path
// ending in /mscli) and checks each (checkMscli). It returns each line's words after
// the program ("run", "bank-idempotency", …).
func mscliCommands(t *testing.T, script string) [][]string {
	t.Helper()
	var out [][]string
	for _, words := range shellCommands(script) {
		if words[0] != "mscli" && !strings.HasSuffix(words[0], "/mscli") {
			continue
		}
		if err := checkMscli(words[1:]); err != nil {
			t.Errorf("%q: %v", strings.Join(words, " "), err)
		}
		out = append(out, words[1:])
	}
	return out
}

// checkMscli checks a command line against the cobra tree: the command exists, its
// flags parse with its own flag set and its arguments are what it accepts.
func checkMscli(args []string) error {
	root := newRoot(&bytes.Buffer{}, &bytes.Buffer{})
	c, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if c == root {
		return fmt.Errorf("no mscli command in %q", args)
	}
	if err := c.ParseFlags(rest); err != nil {
		return fmt.Errorf("mscli %s: %w", c.Name(), err)
	}
	if err := c.ValidateArgs(c.Flags().Args()); err != nil {
		return fmt.Errorf("mscli %s: %w", c.Name(), err)
	}
	return nil
}

// shellCommands splits a script into simple commands' words: lines (joined where a
// backslash continues them), split at ; & | and their doubles, quotes removed,
// comments and redirections (with their targets) dropped, and leading keywords (if,
// then, …) and variable assignments skipped. It is enough for CI scripts; it does not
// expand anything.
func shellCommands(script string) [][]string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var cmds [][]string
	for _, line := range strings.Split(script, "\n") {
		var words []string
		var cur strings.Builder
		inWord, redirect := false, false
		var quote rune
		flush := func() {
			if inWord {
				if !redirect {
					words = append(words, cur.String())
				}
				redirect = false
			}
			cur.Reset()
			inWord = false
		}
		end := func() {
			flush()
			for len(words) > 0 && (shellKeywords[words[0]] || strings.Contains(words[0], "=")) {
				words = words[1:]
			}
			if len(words) > 0 {
				cmds = append(cmds, words)
			}
			words = nil
		}
		rs := []rune(line)
		for i := 0; i < len(rs); i++ {
			r := rs[i]
			switch {
			case quote != 0:
				if r == quote {
					quote = 0
				} else {
					cur.WriteRune(r)
				}
			case r == '\'' || r == '"':
				quote, inWord = r, true
			case r == '#' && !inWord:
				i = len(rs)
			case r == ';' || r == '|' || r == '&':
				end()
			case r == '>' || r == '<':
				if cur.Len() > 0 && strings.Trim(cur.String(), "0123456789") == "" {
					cur.Reset() // 2>
					inWord = false
				}
				flush()
				for i+1 < len(rs) && (rs[i+1] == '>' || rs[i+1] == '&') {
					i++
				}
				redirect = true
			case r == ' ' || r == '\t':
				flush()
			default:
				cur.WriteRune(r)
				inWord = true
			}
		}
		end()
	}
	return cmds
}

var shellKeywords = map[string]bool{"if": true, "then": true, "else": true, "elif": true, "do": true, "while": true, "until": true, "!": true, "time": true, "exec": true}

func TestShellCommands(t *testing.T) {
	got := shellCommands("if [ -f a ]; then cat a >> \"$F\"; fi\nFOO=1 ./bin/mscli run x \\\n  --seeds '1-5' 2>/dev/null && mscli check d # done")
	want := [][]string{{"[", "-f", "a", "]"}, {"cat", "a"}, {"fi"}, {"./bin/mscli", "run", "x", "--seeds", "1-5"}, {"mscli", "check", "d"}}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if strings.Join(got[i], "\x00") != strings.Join(want[i], "\x00") {
			t.Errorf("command %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

// The checker must refuse what is wrong, or it proves nothing about the examples.
func TestCheckMscliRefusesUnknownCommandsAndFlags(t *testing.T) {
	for _, line := range []string{"rnu x", "check d --no-such-flag", "compare only-one", "--version"} {
		if err := checkMscli(strings.Fields(line)); err == nil {
			t.Errorf("%q was accepted", line)
		}
	}
	if err := checkMscli(strings.Fields("check d --format github")); err != nil {
		t.Errorf("a good line was refused: %v", err)
	}
}
