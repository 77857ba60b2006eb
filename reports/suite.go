package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mscli/mscli/invariants"
)

// Suite is a suite's result: every run of every scenario and seed (mscli run with
// several scenarios or seeds). It is written to suite.json in the suite directory,
// beside the run directories, junit.xml and summary.md.
type Suite struct {
	Dir     string        `json:"dir"`
	Testbed string        `json:"testbed"`
	Bugs    []string      `json:"bugs,omitempty"`
	Started time.Time     `json:"started"`
	Wall    time.Duration `json:"wall_ns"`
	Runs    []SuiteRun    `json:"runs"`
	// Code is the suite's exit code: its worst run's (runner.Worst).
	Code int `json:"exit_code"`
}

// SuiteRun is one run of a suite.
type SuiteRun struct {
	// Scenario is the scenario as the command line named it (a catalog name or a file).
	Scenario string `json:"scenario"`
	Seed     int64  `json:"seed"`
	Code     int    `json:"exit_code"`
	// Catches is the invariant the scenario says catches the injected bug ("" when no
	// bug was injected, or the scenario does not say).
	Catches string `json:"catches,omitempty"`
	// Repro is the command that makes this run again.
	Repro string `json:"repro"`
	// Skipped says why the run did not start ("" when it did).
	Skipped string `json:"skipped,omitempty"`
	// Error is why the run could not complete or start.
	Error string `json:"error,omitempty"`
	// Run is the run's result (its result.json); nil for a skipped run and a run that
	// could not start.
	Run *Run `json:"run,omitempty"`
}

// Verdict is the run's verdict as the reports show it; a run with no result is unknown.
func (s SuiteRun) Verdict() invariants.Verdict {
	if s.Run == nil {
		return invariants.Unknown
	}
	return RunVerdict(s.Run)
}

// Failed names the run's invariants and thresholds that did not pass.
func (s SuiteRun) Failed() []string {
	if s.Run == nil {
		return nil
	}
	var out []string
	for _, r := range s.Run.Results {
		if r.Verdict != invariants.Pass {
			out = append(out, r.Name+suffix(r.Verdict))
		}
	}
	return out
}

// Caught says whether the injected bug was caught: the invariant its scenario names
// failed.
func (s SuiteRun) Caught() bool {
	if s.Catches == "" || s.Run == nil {
		return false
	}
	for _, r := range s.Run.Results {
		if r.Name == s.Catches && r.Verdict == invariants.Fail {
			return true
		}
	}
	return false
}

// didNotHold is a row's cell: why the run was skipped or could not complete, else what
// did not hold, with caught appended when the injected bug was caught.
func (s SuiteRun) didNotHold(caught string) string {
	out := strings.Join(s.Failed(), ", ")
	switch {
	case s.Skipped != "":
		out = "skipped: " + s.Skipped
	case s.Error != "":
		out = s.Error
	}
	if s.Caught() {
		out += caught
	}
	return out
}

func (s SuiteRun) dir() string {
	if s.Run == nil {
		return ""
	}
	return s.Run.Dir
}

func suffix(v invariants.Verdict) string {
	if v == invariants.Unknown {
		return " (unknown)"
	}
	return ""
}

// Scenarios are the suite's scenarios in the order they first ran.
func (s *Suite) Scenarios() []string {
	var out []string
	for _, r := range s.Runs {
		if !slices.Contains(out, r.Scenario) {
			out = append(out, r.Scenario)
		}
	}
	return out
}

func (s *Suite) of(scenario string) []SuiteRun {
	var out []SuiteRun
	for _, r := range s.Runs {
		if r.Scenario == scenario {
			out = append(out, r)
		}
	}
	return out
}

// Failing are the runs that did not exit 0 and were not skipped.
func (s *Suite) Failing() []SuiteRun {
	var out []SuiteRun
	for _, r := range s.Runs {
		if r.Skipped == "" && r.Code != 0 {
			out = append(out, r)
		}
	}
	return out
}

// WriteSuiteText writes the suite's table: per scenario, seed × verdict with the
// invariants that failed (and, with a bug injected, whether it was caught), which
// invariant failed on which seeds, then the command that reproduces each failing run.
func WriteSuiteText(w io.Writer, s *Suite) error {
	p := &printer{w: w}
	for _, name := range s.Scenarios() {
		runs := s.of(name)
		p.f("%s\n", name)
		p.f("  %-8s %-8s %-4s %-40s %s\n", "seed", "verdict", "exit", "did not hold", "run directory")
		for _, r := range runs {
			v := strings.ToUpper(string(r.Verdict()))
			if r.Skipped != "" {
				v = "SKIPPED"
			}
			p.f("  %-8d %-8s %-4d %-40s %s\n", r.Seed, v, r.Code, clipText(r.didNotHold(" ← caught"), 60), r.dir())
		}
		for _, inv := range failedOn(runs) {
			p.f("  %s did not hold on %s %s\n", inv.name, map[bool]string{true: "seeds", false: "seed"}[len(inv.seeds) > 1], joinSeeds(inv.seeds))
		}
		if c := runs[0].Catches; c != "" {
			n := 0
			for _, r := range runs {
				if r.Caught() {
					n++
				}
			}
			p.f("  the bug was caught by %s on %d of %d seeds\n", c, n, len(runs))
		}
		p.f("\n")
	}
	if fl := s.Failing(); len(fl) > 0 {
		p.f("to reproduce a run that did not pass:\n")
		for _, r := range fl {
			p.f("  %s\n", r.Repro)
		}
		p.f("\n")
	}
	p.f("suite: %s\n", s.headline())
	return p.err
}

func (s *Suite) headline() string {
	counts := map[string]int{}
	ran := 0
	for _, r := range s.Runs {
		switch {
		case r.Skipped != "":
			counts["skipped"]++
		case r.Run == nil || r.Run.Error != "":
			counts["could not run"]++
			ran++
		default:
			counts[string(r.Verdict())]++
			ran++
		}
	}
	parts := []string{}
	for _, k := range []string{"pass", "fail", "unknown", "could not run", "skipped"} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	return fmt.Sprintf("%s in %s: %s · exit %d · %s", plural(ran, "run"), round(s.Wall), strings.Join(parts, ", "), s.Code, s.Dir)
}

type invSeeds struct {
	name  string
	seeds []int64
}

// failedOn lists each invariant that did not hold with the seeds it failed on, in the
// order they first failed.
func failedOn(runs []SuiteRun) []invSeeds {
	var out []invSeeds
	for _, r := range runs {
		for _, name := range r.Failed() {
			i := slices.IndexFunc(out, func(x invSeeds) bool { return x.name == name })
			if i < 0 {
				out = append(out, invSeeds{name: name})
				i = len(out) - 1
			}
			out[i].seeds = append(out[i].seeds, r.Seed)
		}
	}
	return out
}

func joinSeeds(seeds []int64) string {
	s := make([]string, len(seeds))
	for i, x := range seeds {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// WriteSuiteMarkdown writes the suite's summary for a CI job summary: the headline,
// a seed × verdict table per scenario, the commands that reproduce the runs that did
// not pass, and each such run's own summary folded in <details>.
func WriteSuiteMarkdown(w io.Writer, s *Suite) error {
	p := &printer{w: w}
	icon := "✅"
	switch s.Code {
	case 0:
	case 1:
		icon = "❌"
	default:
		icon = "⚠️"
	}
	p.f("# %s mscli suite: %s\n\n", icon, mdText(s.headline()))
	for _, name := range s.Scenarios() {
		runs := s.of(name)
		p.f("## %s\n\n| seed | | exit | did not hold | run directory |\n|---:|---|---:|---|---|\n", mdText(name))
		for _, r := range runs {
			icon := verdictIcon(r.Verdict())
			if r.Skipped != "" {
				icon = "⏭️"
			}
			p.f("| %d | %s | %d | %s | %s |\n", r.Seed, icon, r.Code, mdCell(r.didNotHold(" (caught)")), mdCode(r.dir()))
		}
		p.f("\n")
	}
	if fl := s.Failing(); len(fl) > 0 {
		lines := make([]string, len(fl))
		for i, r := range fl {
			lines[i] = r.Repro
		}
		p.f("### To reproduce\n\n%s\n", mdFence(lines))
		for _, r := range fl {
			if r.Run == nil {
				continue
			}
			p.f("<details><summary>%s seed %d</summary>\n\n", mdText(r.Scenario), r.Seed)
			if p.err == nil {
				p.err = WriteMarkdown(w, r.Run)
			}
			p.f("\n</details>\n\n")
		}
	}
	return p.err
}

// WriteSuiteJUnit writes one JUnit file for the suite: a test suite per scenario, and
// in it each run's test cases (WriteJUnit's: run complete, faults applied, one per
// invariant and threshold), named with their seed when the scenario ran on several.
func WriteSuiteJUnit(w io.Writer, s *Suite) error {
	var out junitSuites
	for _, name := range s.Scenarios() {
		runs := s.of(name)
		js := junitSuite{Name: "mscli." + name, Props: []junitProp{{"testbed", s.Testbed}}}
		if len(s.Bugs) > 0 {
			js.Props = append(js.Props, junitProp{"bugs", strings.Join(s.Bugs, ",")})
		}
		var wall time.Duration
		for _, r := range runs {
			tag := ""
			if len(runs) > 1 {
				tag = fmt.Sprintf(" [seed %d]", r.Seed)
			}
			switch {
			case r.Skipped != "":
				js.Tests++
				js.Skipped++
				js.Cases = append(js.Cases, junitCase{Name: "run" + tag, ClassName: js.Name, Time: "0.000",
					Skipped: &junitMessage{Message: "not run: " + r.Skipped}})
				continue
			case r.Run == nil:
				js.Tests++
				js.Errors++
				js.Cases = append(js.Cases, junitCase{Name: CompleteCase + tag, ClassName: js.Name, Time: "0.000",
					Error: &junitMessage{Message: r.Error, Type: "could-not-run", Body: r.Repro}})
				continue
			}
			one := junitSuiteOf(r.Run)
			wall += r.Run.Wall
			js.Tests += one.Tests
			js.Skipped += one.Skipped
			js.Failures += one.Failures
			js.Errors += one.Errors
			for _, c := range one.Cases {
				c.Name += tag
				c.ClassName = js.Name
				if c.Failure != nil || c.Error != nil {
					if c.SystemOut != "" {
						c.SystemOut += "\n"
					}
					c.SystemOut += "reproduce: " + r.Repro
				}
				js.Cases = append(js.Cases, c)
			}
		}
		js.Time = fmt.Sprintf("%.3f", wall.Seconds())
		out.Suites = append(out.Suites, js)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
