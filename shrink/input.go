package shrink

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
	"github.com/mscli/mscli/scenarios"
)

// Input is a failing run to shrink: its plan, its result, the invariant to keep
// failing, and the scenario file it was planned from.
type Input struct {
	Dir    string
	Plan   *plan.Plan
	Result *reports.Run
	// Target is the invariant every candidate must fail.
	Target string
	// Testbed runs the candidates: the run's own unless overridden.
	Testbed string
	// Source is the scenario file's text, with dir: set to the folder its relative paths
	// resolved against in the run (scenarios.WithDir) when that is known, so that the
	// candidates read the same wherever they are written; File is the name the
	// candidates are parsed under: where the shrink writes its scenario.yaml.
	Source []byte
	File   string
	// Base is that folder, "" when the run does not say (a catalog scenario needs
	// none).
	Base string

	origin  string // where Source came from, as messages name it
	nemesis bool   // the scenario has a nemesis, which the candidates drop
}

// Load reads a run directory to shrink. invariant names the invariant to keep
// failing ("" is the first the run failed); scenarioFile, when not "", is the scenario
// file to rewrite instead of the run's scenario.yaml (a run made before runs kept it,
// or one that does not record its file's folder), which must plan to the run's plan.
// A run that did not fail, or did not fail the invariant, is invalid input.
func Load(dir, invariant, scenarioFile string) (*Input, error) {
	pl, err := runner.ReadPlan(dir)
	if err != nil {
		return nil, runner.InvalidInput("%s is not a run directory: %v", dir, err)
	}
	res, err := reports.ReadFile(filepath.Join(dir, runner.ResultFile))
	if err != nil {
		return nil, runner.InvalidInput("%s has no result (%v): shrink needs a run that finished and failed", dir, err)
	}
	in := &Input{Dir: dir, Plan: pl, Result: res, Testbed: res.Testbed, File: filepath.Join(dir, Folder, ScenarioFile)}
	var failed []string
	for _, r := range res.Results {
		if r.Verdict == invariants.Fail {
			failed = append(failed, r.Name)
		}
	}
	switch {
	case len(failed) == 0:
		return nil, runner.InvalidInput("run %s did not fail (verdict %s): there is no failure to shrink", dir, reports.RunVerdict(res))
	case invariant == "":
		in.Target = failed[0]
	case !slices.Contains(failed, invariant):
		return nil, runner.InvalidInput("%s did not fail in run %s; it failed %s", invariant, dir, strings.Join(failed, ", "))
	default:
		in.Target = invariant
	}
	if err := in.findSource(scenarioFile); err != nil {
		return nil, err
	}
	// Without the folder, the file is read from where the shrink writes it: right for
	// a scenario that names no file, wrong for one that does.
	hint := func(err error) error {
		if in.Base == "" {
			return runner.InvalidInput("%v\n(run %s does not record the folder of the scenario file it was planned from: if that file names others by relative paths — a service's command, system.compose — give it with --scenario FILE)", err, dir)
		}
		return runner.InvalidInput("%v\n(the relative paths of %s resolve against %s, as in the run; if that folder moved, give the scenario file with --scenario FILE)", err, in.origin, in.Base)
	}
	orig, err := scenarios.Parse(in.File, in.Source)
	if err != nil {
		return nil, hint(err)
	}
	in.nemesis = orig.Nemesis != nil
	// The file must plan to what ran, and hold every fault of it as a file can.
	all := Candidate{Keep: make([]int, len(pl.Faults))}
	for i := range all.Keep {
		all.Keep[i] = i
	}
	if _, _, err := in.candidate(all, ""); err != nil {
		return nil, hint(err)
	}
	return in, nil
}

// findSource finds the scenario file — the one given, the run's scenario.yaml, or the
// catalog's scenario of the plan's name — and the folder its relative paths resolved
// against in the run: the given file's; else the one result.json records, or that of
// the file it names if that still holds the same text, or a command service's
// (plan.Service.Dir). The source is rewritten with that folder as its dir:.
func (in *Input) findSource(file string) error {
	if file != "" {
		s, err := scenarios.Load(file)
		if err != nil {
			return runner.InvalidInput("%v", err)
		}
		in.Source, in.Base, in.origin = s.Source, s.Dir, file
		return in.anchor()
	}
	src, err := runner.ReadScenario(in.Dir)
	switch {
	case err == nil:
		in.Source, in.Base, in.origin = src, in.runBase(src), filepath.Join(in.Dir, runner.ScenarioFile)
		return in.anchor()
	case !errors.Is(err, fs.ErrNotExist):
		return runner.InvalidInput("%v", err)
	}
	entries, err := scenarios.Catalog()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name == in.Plan.Scenario {
			s, err := scenarios.Find(e.Path)
			if err != nil {
				return err
			}
			in.Source, in.origin = s.Source, e.Path
			return nil
		}
	}
	return runner.InvalidInput("run %s keeps no %s (an older mscli made it) and %s is not in the catalog: give the scenario file with --scenario FILE",
		in.Dir, runner.ScenarioFile, in.Plan.Scenario)
}

// runBase is the folder the run's scenario file (src) resolved its relative paths
// against, "" when the run does not say.
func (in *Input) runBase(src []byte) string {
	res := in.Result
	at := ""
	switch {
	case res.FileDir != "":
		at = filepath.Join(res.FileDir, filepath.Base(res.File))
	case res.File != "":
		// A run made before result.json kept the folder: its file, if it is still
		// there, unchanged.
		if b, err := os.ReadFile(res.File); err == nil && bytes.Equal(b, src) {
			at, _ = filepath.Abs(res.File)
		}
	}
	if at != "" {
		// Parsed there, the file's own dir: (relative to it) is resolved too.
		if s, err := scenarios.Parse(at, src); err == nil {
			return s.Dir
		}
		return filepath.Dir(at)
	}
	for _, svc := range in.Plan.Topology.Services {
		if svc.Dir != "" {
			return svc.Dir
		}
	}
	return ""
}

// anchor sets the source's dir: to Base, when known.
func (in *Input) anchor() error {
	if in.Base == "" {
		return nil
	}
	src, err := scenarios.WithDir(in.Source, in.Base,
		"The folder of the scenario file the shrunk run was planned from: its relative\npaths (a service's command, a compose file) resolve there, as they did in the run.")
	if err != nil {
		return runner.InvalidInput("%v", err)
	}
	in.Source = src
	return nil
}

// candidate writes a candidate as a scenario file (the run's, its faults replaced and
// its nemesis removed) and plans it with the run's seed; the plan must hold exactly
// the candidate's faults and be the run's plan in everything else.
func (in *Input) candidate(c Candidate, note string) (*plan.Plan, []byte, error) {
	want := c.Faults(in.Plan.Faults)
	for i := range want {
		want[i].Source = "scenario"
	}
	src, err := scenarios.WithFaults(in.Source, want, note)
	if err != nil {
		return nil, nil, err
	}
	s, err := scenarios.Parse(in.File, src)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.Plan(in.Plan.Seed)
	if err != nil {
		return nil, nil, err
	}
	if len(want) == 0 {
		want = []plan.Fault{}
	}
	if !reflect.DeepEqual(p.Faults, want) {
		return nil, nil, fmt.Errorf("the scenario file %s, rewritten, plans to other faults than the run's; was it edited since the run?", in.origin)
	}
	a, b := withoutFaults(p), withoutFaults(in.Plan)
	if !bytes.Equal(a, b) {
		return nil, nil, fmt.Errorf("the scenario file %s does not plan to the run's plan.json with seed %d (was it edited since the run, or made by another mscli?); give the scenario file with --scenario FILE", in.origin, in.Plan.Seed)
	}
	return p, src, nil
}

// withoutFaults is a plan's JSON without its faults.
func withoutFaults(p *plan.Plan) []byte {
	c := *p
	c.Faults = nil
	b, _ := c.JSON()
	return b
}
