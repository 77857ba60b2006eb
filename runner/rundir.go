package runner

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// Files of a run directory.
const (
	PlanFile    = "plan.json"
	HistoryFile = "history.jsonl"
	FaultsFile  = "faults.jsonl"
	EffectsFile = "effects.jsonl"
	ResultFile  = "result.json"
	JUnitFile   = "junit.xml"
	LogsDir     = "logs"
)

// ScenarioFile is the scenario's source as the run read it (Options.Source), when it
// had one: with plan.json, what `mscli shrink` plans again and rewrites.
const ScenarioFile = "scenario.yaml"

// DefaultRoot is where runs are recorded unless --out says otherwise.
const DefaultRoot = ".mscli/runs"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// NewRunDir creates <root>/<time>-<scenario>-<seed>-<tag>/ with its logs/ folder. Its
// name is the run's id, which names and labels every container, network and volume
// of the run: tag, four random hex digits, keeps two runs of one scenario and seed
// started in the same second under two roots (a seed sweep, two CI jobs) from sharing
// an id, and so from removing each other's containers.
func NewRunDir(root, scenario string, seed int64, now time.Time) (string, error) {
	tag := make([]byte, 2)
	if _, err := rand.Read(tag); err != nil {
		return "", fmt.Errorf("create run directory: %w", err)
	}
	name := fmt.Sprintf("%s-%s-%d-%s", now.UTC().Format("20060102T150405Z"), unsafeName.ReplaceAllString(scenario, "_"), seed, hex.EncodeToString(tag))
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("create run directory: %w", err)
	}
	// Mkdir, not a look then a create: two runs started in the same second (a seed
	// sweep, two CI jobs) each get a directory of their own.
	dir := filepath.Join(root, name)
	for i := 2; ; i++ {
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("create run directory: %w", err)
		}
		dir = filepath.Join(root, fmt.Sprintf("%s.%d", name, i))
	}
	if err := os.Mkdir(filepath.Join(dir, LogsDir), 0o755); err != nil {
		return "", fmt.Errorf("create run directory: %w", err)
	}
	return dir, nil
}

// WritePlan writes plan.json.
func WritePlan(dir string, p *plan.Plan) error {
	b, err := p.JSON()
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, PlanFile), b, 0o644)
}

// WriteScenario writes the scenario's source as scenario.yaml; nothing when there is
// none (a scenario built in Go).
func WriteScenario(dir string, src []byte) error {
	if src == nil {
		return nil
	}
	return os.WriteFile(filepath.Join(dir, ScenarioFile), src, 0o644)
}

// ReadScenario reads a run directory's scenario.yaml; fs.ErrNotExist when the run
// kept none.
func ReadScenario(dir string) ([]byte, error) {
	return os.ReadFile(filepath.Join(dir, ScenarioFile))
}

// ReadPlan reads a run directory's plan.json.
func ReadPlan(dir string) (*plan.Plan, error) {
	b, err := os.ReadFile(filepath.Join(dir, PlanFile))
	if err != nil {
		return nil, err
	}
	var p plan.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, PlanFile), err)
	}
	return &p, nil
}

// LoadRecorded reads a run directory's history, faults and effects. When a file ends
// in a torn line (history.TornLine: its writer was killed mid-record), or is missing
// (the run stopped before it began recording: its testbed did not start), it reads
// the others still and returns the records with a *TornRecords: whole records, but
// the run was cut short, and is never a pass.
func LoadRecorded(dir string) (*invariants.Input, error) {
	recs := new(history.Records)
	in := &invariants.Input{Records: recs}
	var torn TornRecords
	// The history and the effects decode side by side straight into the records'
	// columns (each side keeps tables of its own); the few faults alongside the
	// history.
	var opsErr, faultsErr, effectsErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		effectsErr = history.ReadFileEach(filepath.Join(dir, EffectsFile), recs.GrowEffects, recs.DecodeEffect)
	})
	opsErr = history.ReadFileEach(filepath.Join(dir, HistoryFile), recs.GrowOps, recs.DecodeOp)
	in.Faults, faultsErr = history.ReadFile[history.Fault](filepath.Join(dir, FaultsFile))
	wg.Wait()
	for _, err := range []error{opsErr, faultsErr, effectsErr} {
		if err = torn.add(err); err != nil {
			return nil, err
		}
	}
	if pl, err := ReadPlan(dir); err == nil {
		Declare(in, pl)
	}
	if len(torn.Lines) > 0 || len(torn.Missing) > 0 {
		return in, &torn
	}
	return in, nil
}

// TornRecords is LoadRecorded's error when files of a run directory end in a torn
// line, as a run killed while writing them leaves them; the records returned with it
// are whole.
type TornRecords struct {
	Lines []*history.TornLine // one per torn file: history, faults, effects in order
	// Missing are the files of records the run never wrote (history.jsonl, …).
	Missing []string
}

// add keeps err when it is a torn line or a missing file, returning nil; any other
// error it returns.
func (t *TornRecords) add(err error) error {
	var tl *history.TornLine
	var pe *fs.PathError
	switch {
	case errors.As(err, &tl):
		t.Lines = append(t.Lines, tl)
		return nil
	case errors.Is(err, fs.ErrNotExist) && errors.As(err, &pe):
		t.Missing = append(t.Missing, filepath.Base(pe.Path))
		return nil
	}
	return err
}

// Error reads "the last line of history.jsonl was torn (line 1992: unexpected end of
// JSON input)", one clause per file.
func (t *TornRecords) Error() string {
	var s []string
	if len(t.Missing) > 0 {
		s = append(s, "it recorded no "+strings.Join(t.Missing, ", "))
	}
	for _, tl := range t.Lines {
		s = append(s, fmt.Sprintf("the last line of %s was torn (line %d: %v)", filepath.Base(tl.Path), tl.Line, tl.Err))
	}
	return strings.Join(s, "; ")
}

// Unwrap returns the torn lines.
func (t *TornRecords) Unwrap() []error {
	out := make([]error, len(t.Lines))
	for i, tl := range t.Lines {
		out[i] = tl
	}
	return out
}

// Declare tells the checkers what the plan's system promises to show: the views each
// fixture reports (one never observed makes the invariants that need it unknown),
// and the service whose public API the workload reads (its final reads are held
// against the write model).
func Declare(in *invariants.Input, p *plan.Plan) {
	in.Views = map[string][]string{}
	in.Replicas = map[string]int{}
	for _, s := range p.Topology.Services {
		in.Replicas[s.Name] = s.Replicas
		if fx, ok := plan.LookupFixture(s.Fixture); ok && len(fx.Views) > 0 {
			in.Views[s.Name] = fx.Views
		}
	}
	if svc, err := workloadService(p); err == nil {
		in.PublicReads = svc
	}
}

// ledgers are the plan's fixture services that declare views but no write view: a
// saga participant's ledger is its own truth, with no read model to converge.
func ledgers(p *plan.Plan) map[string]bool {
	out := map[string]bool{}
	for _, s := range p.Topology.Services {
		if fx, ok := plan.LookupFixture(s.Fixture); ok && len(fx.Views) > 0 && !slices.Contains(fx.Views, history.WriteView) {
			out[s.Name] = true
		}
	}
	return out
}

// Specs turns a plan's invariants into checker specs.
func Specs(p *plan.Plan) []invariants.Spec {
	out := make([]invariants.Spec, len(p.Invariants))
	for i, inv := range p.Invariants {
		out[i] = invariants.Spec{Name: inv.Name, Params: inv.Params}
	}
	return out
}

// WriteResults writes result.json and junit.xml into the run directory.
func WriteResults(dir string, r *reports.Run) error {
	if err := reports.WriteFile(filepath.Join(dir, ResultFile), r); err != nil {
		// No half a result.json (a full disk): without one, check says the run was cut short.
		_ = os.Remove(filepath.Join(dir, ResultFile))
		return fmt.Errorf("write %s: %w", ResultFile, err)
	}
	f, err := os.Create(filepath.Join(dir, JUnitFile))
	if err != nil {
		return err
	}
	if err := reports.WriteJUnit(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
