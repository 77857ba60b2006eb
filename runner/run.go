package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/scenarios"

	"github.com/mscli/mscli/chaos"
	_ "github.com/mscli/mscli/chaos/messages"     // registers the message fault kinds (duplicate)
	_ "github.com/mscli/mscli/fixtures/bank"      // registers the bank fixture
	_ "github.com/mscli/mscli/fixtures/catalog"   // registers the catalog fixture
	_ "github.com/mscli/mscli/fixtures/gateway"   // registers the gateway fixture
	_ "github.com/mscli/mscli/fixtures/saga"      // registers the saga fixtures
	_ "github.com/mscli/mscli/fixtures/telemetry" // registers the telemetry fixture
	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/redact"
	"github.com/mscli/mscli/internal/timing"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/testbed"
	"github.com/mscli/mscli/workload"
)

// System is a started testbed: what the runner needs beyond what chaos needs.
type System interface {
	chaos.Env
	// Endpoints are the base URLs the workload uses, one per replica, through the
	// client->service proxies.
	Endpoints(service string) []string
	// ObserveURLs are the base URLs of the replicas, reached directly (not through a
	// proxy); the runner reads a service's effects endpoint there (Observe.HTTP).
	ObserveURLs(service string) []string
	// DatabaseURL is a DSN that reaches the service's own PostgreSQL database directly
	// from the host (not through a proxy), "" when it has none; the runner runs a
	// service's observation queries there (Observe.SQL).
	DatabaseURL(service string) string
	// HostAddr is host:port that reaches a node's port directly from the host, ""
	// when the testbed cannot say; the runner runs observation queries whose url:
	// names a node there (Observe.SQL.URL).
	HostAddr(node string, port int) string
	// Down stops everything the testbed started; it is idempotent.
	Down(ctx context.Context) error
}

// Testbed starts the system a plan describes. Constructors return the partial system
// with an error, so what did start can still be brought down.
type Testbed func(ctx context.Context, pl *plan.Plan, opts testbed.Options) (System, error)

// Options configure a run.
type Options struct {
	// Root is where run directories are created (DefaultRoot if empty); Dir, if set, is
	// the exact run directory.
	Root, Dir string
	// TestbedName is recorded in the result ("local", "docker").
	TestbedName string
	Testbed     Testbed
	// Bugs are known fixture bugs to switch on.
	Bugs []string
	// Binary is the mscli binary the testbed runs nodes from (default: this one).
	Binary string
	// Source is the scenario file the plan was made from (scenarios.Scenario.Source),
	// kept in the run directory as scenario.yaml; nil keeps none.
	Source []byte
	// File is the scenario file as the command line named it ("" for a catalog
	// scenario), recorded in the result (reports.Run.File) for annotations.
	File string
	// Progress receives every step of the run as an Event (the progress lines, the
	// dashboard): the phases, the testbed's nodes, every fault record as the
	// scheduler writes it; may be nil. It is called from several goroutines.
	Progress func(Event)
	// OnOp and OnResult are live views for a dashboard; each may be nil. OnOp sees
	// every history record at most ~100ms after it is written, from one goroutine;
	// OnResult sees each verdict in the order of the invariants, as soon as its
	// checker and those before it finished (the checks run side by side).
	OnOp     func(history.Op)
	OnResult func(invariants.Result)
	// ConvergeTimeout bounds the wait for read models after the heal, beyond the
	// converges invariant's `within` (default 10s).
	ConvergeTimeout time.Duration
	// CheckTimeout bounds the checkers; a checker out of time is unknown (default 1m).
	CheckTimeout time.Duration
}

// Run runs a plan end to end and returns its result; the run directory holds
// everything it recorded. The error is for a run that could not complete (testbed
// failure, interrupt); the result then still says what was recorded. The testbed is
// always brought down, on success, failure, error and ^C.
func Run(ctx context.Context, pl *plan.Plan, o Options) (res *reports.Run, err error) {
	began := time.Now()
	sec, err := Secrets(pl, o.File, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	o = o.redacting(sec)
	dir := o.Dir
	if dir == "" {
		root := o.Root
		if root == "" {
			root = DefaultRoot
		}
		if dir, err = NewRunDir(root, pl.Scenario, pl.Seed, began); err != nil {
			return nil, CouldNotRun(err)
		}
	} else if err := os.MkdirAll(filepath.Join(dir, LogsDir), 0o755); err != nil {
		return nil, CouldNotRun(err)
	}
	if err := WritePlan(dir, pl); err != nil {
		return nil, CouldNotRun(err)
	}
	if err := WriteScenario(dir, o.Source); err != nil {
		return nil, CouldNotRun(err)
	}
	res = &reports.Run{Scenario: pl.Scenario, Seed: pl.Seed, Testbed: o.TestbedName, Bugs: o.Bugs, Dir: dir, Started: began.UTC(), File: o.File}
	if o.File != "" {
		res.FileDir, _ = filepath.Abs(filepath.Dir(o.File))
	}
	res.Faults.Planned = len(pl.Faults)
	var checked *invariants.Input // the records the checkers read, for report.html
	defer func() {
		err = sec.Error(err) // its message goes to result.json and to whoever prints it
		res.Wall = time.Since(began)
		if err != nil {
			markCutShort(res, err)
		}
		if werr := WriteResults(dir, res); werr != nil && err == nil {
			err = CouldNotRun(werr)
		}
		if herr := writeReportHTML(dir, res, checked); herr != nil && err == nil {
			err = CouldNotRun(herr)
		}
	}()

	service, err := workloadService(pl)
	if err != nil {
		return res, InvalidInput("%v", err)
	}
	if err := scenarios.CheckPlanTestbed(pl, o.TestbedName); err != nil {
		return res, InvalidInput("%v", err)
	}

	o.progress(began, PhaseTestbed, "starting %s testbed in %s", o.TestbedName, dir)
	var down atomic.Bool // the testbed's events from then on are the down phase's
	sys, err := o.Testbed(ctx, pl, testbed.Options{
		RunID:    filepath.Base(dir),
		Dir:      dir,
		Binary:   o.Binary,
		Bugs:     o.Bugs,
		Progress: o.testbedProgress(began, &down),
		Secrets:  sec,
	})
	if sys != nil {
		defer func() {
			// Bring the testbed down with a fresh context: the run's may be cancelled.
			dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			down.Store(true)
			o.progress(began, PhaseDown, "stopping the testbed")
			if derr := sys.Down(dctx); derr != nil && err == nil {
				err = CouldNotRun(fmt.Errorf("testbed down: %w", derr))
			}
		}()
	}
	if err != nil {
		if ctx.Err() != nil {
			return res, stopped(ctx)
		}
		return res, CouldNotRun(fmt.Errorf("start testbed: %w", err))
	}
	o.progress(began, PhaseTestbed, "ready after %s", time.Since(began).Round(time.Millisecond))
	// The testbed's loss ends the run as an error while the run uses it, up to the
	// last observation; the checks then read the records only, under the run's own ctx.
	judgeCtx := ctx
	ctx, unwatch := watchLost(ctx, sys)
	defer unwatch()

	recs, err := openRecords(dir, o.OnOp, sec)
	if err != nil {
		return res, CouldNotRun(err)
	}
	defer recs.close()

	// The run clock starts now: workload and faults share it.
	start := time.Now()
	wctx, stopWorkload := context.WithTimeout(ctx, pl.Duration.D())
	defer stopWorkload()
	sched := &chaos.Scheduler{Env: sys, Rec: recs.faults, Start: start, Abort: ctx, OnRecord: func(f history.Fault) {
		if o.Progress != nil {
			o.Progress(faultEvent(time.Since(began), f))
		}
	}}
	schedDone := make(chan error, 1)
	go func() { schedDone <- sched.Run(wctx, pl.Faults) }()

	o.progress(began, PhaseWorkload, "%d clients at %d ops/s for %s against %s", pl.Workload.Clients, pl.Workload.Rate, pl.Duration, service)
	stopFlush := recs.flushEvery(100*time.Millisecond, o.OnOp != nil)
	wl := &workload.Runner{Workload: pl.Workload, Endpoints: sys.Endpoints(service), Rec: recs.history, Start: start}
	stats, werr := wl.Run(wctx)
	stopFlush()
	stopWorkload()
	serr := <-schedDone
	hctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	herr := sched.HealAll(hctx)
	cancel()
	heal := time.Now()
	res.Ops = reports.OpCounts{Rate: stats.OpsPerSec, P50: stats.P50, P99: stats.P99}
	o.progress(began, PhaseHeal, "workload stopped; every fault healed")
	if ctx.Err() != nil {
		return res, stopped(ctx)
	}
	if werr != nil && !errors.Is(werr, context.DeadlineExceeded) && !errors.Is(werr, context.Canceled) {
		return res, CouldNotRun(fmt.Errorf("workload: %w", werr))
	}
	if err := errors.Join(serr, herr); err != nil {
		return res, CouldNotRun(fmt.Errorf("faults: %w", err))
	}

	obs := newObserver(observeSources(pl, sys))
	obs.ledgers = ledgers(pl)
	defer obs.close()
	obs.progress = func(format string, args ...any) { o.progress(began, PhaseConverge, format, args...) }
	wait := o.ConvergeTimeout
	if wait == 0 {
		wait = 10 * time.Second
	}
	wait += convergeWithin(pl)
	o.progress(began, PhaseConverge, "waiting up to %s for the read models", wait)
	deadline := time.Now().Add(wait)
	for {
		conv, cerr := obs.converge(ctx, start, heal, time.Until(deadline), 100*time.Millisecond, recs.effects)
		res.Converge = conv
		if ctx.Err() != nil {
			return res, stopped(ctx)
		}
		if cerr != nil {
			return res, CouldNotRun(cerr)
		}
		// The public API, read once per key now that the system is quiet: what clients
		// see, for the converges invariant to hold against the write model.
		// Each key is read until it answers, within what is left of the wait.
		o.progress(began, PhaseConverge, "reading every key through the public API")
		rctx, cancel := context.WithDeadline(ctx, deadline)
		err := wl.ReadAll(rctx)
		cancel()
		if ctx.Err() != nil {
			return res, stopped(ctx) // the interrupt or the loss, not what it did to the reads
		}
		if err != nil {
			return res, CouldNotRun(fmt.Errorf("final reads: %w", err))
		}
		final, err := obs.observeAll(ctx, start)
		if ctx.Err() != nil {
			return res, stopped(ctx)
		}
		if err != nil {
			return res, CouldNotRun(err)
		}
		// Judge only a quiet system: an operation that turned up unsettled after the
		// wait ended (a request delivered late) sends the run back to waiting, while
		// the wait's time lasts.
		if n, first := unsettled(final); n > 0 && conv.Converged && time.Now().Before(deadline) {
			o.progress(began, PhaseConverge, "%d operation(s) turned up unsettled after the system looked quiet (first: %s): waiting again", n, first)
			continue
		}
		// Nor a system that changed since it looked quiet: the final reads may have
		// missed the change.
		if d := obs.changedSinceQuiet(final); d != "" && conv.Converged && time.Now().Before(deadline) {
			o.progress(began, PhaseConverge, "the system changed after it looked quiet (%s): waiting again", d)
			continue
		}
		for _, e := range final {
			if err := recs.effects.Write(e); err != nil {
				return res, CouldNotRun(err)
			}
		}
		break
	}
	unwatch() // the testbed is no longer used: its loss now is Down's to report
	if err := recs.close(); err != nil {
		return res, CouldNotRun(err)
	}

	o.progress(began, PhaseCheck, "checking %d invariants", len(pl.Invariants))
	in, err := LoadRecorded(dir)
	var torn *TornRecords
	if errors.As(err, &torn) {
		// The writers closed whole: something else cut a file. Judge it as Check does.
		res.Incomplete = "the run was cut short: " + torn.Error()
	} else if err != nil {
		return res, CouldNotRun(err)
	}
	checked = in
	timeout := o.CheckTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	cctx, cancel := context.WithTimeout(judgeCtx, timeout)
	defer cancel()
	t0 := time.Now()
	ix := invariants.NewIndex(in)
	res.Results = append(res.Results, invariants.CheckEach(cctx, ix, Specs(pl), func(r invariants.Result) {
		if o.OnResult != nil {
			o.OnResult(r)
		}
	})...)
	res.Ops = countOps(in.Columns(), res.Ops)
	res.Faults = reports.CountFaults(pl.Faults, in.Faults)
	res.FaultFailures = reports.FaultFailures(pl.Faults, in.Faults)
	for _, r := range invariants.CheckThresholds(ix, pl.Thresholds, thresholdFacts(pl, res)) {
		res.Results = append(res.Results, r)
		if o.OnResult != nil {
			o.OnResult(r)
		}
	}
	res.Verdict = reports.Verdict(res.Results, res.FaultFailures)
	if res.Verdict == invariants.Pass && res.Incomplete != "" {
		res.Verdict = invariants.Unknown
	}
	o.progress(began, PhaseCheck, "%s", describe(res, time.Since(t0)))
	return res, nil
}

// workloadService is the service the workload drives (plan.Topology.WorkloadService).
func workloadService(p *plan.Plan) (string, error) { return p.Topology.WorkloadService(p.Workload) }

// observeSources are where the observed services' effects are read (sourceOf); a
// service observed neither over HTTP nor SQL is left out.
func observeSources(p *plan.Plan, sys System) map[string]source {
	out := map[string]source{}
	for _, s := range p.Topology.Services {
		if src := sourceOf(s, sys); src != nil {
			out[s.Name] = src
		}
	}
	return out
}

func convergeWithin(p *plan.Plan) time.Duration {
	for _, inv := range p.Invariants {
		if inv.Name == "converges" {
			if d, err := plan.DurationOf(inv.Params, "within", 0); err == nil {
				return d
			}
		}
	}
	return 0
}

// records are the run's three JSON Lines files.
type records struct {
	history, faults, effects *history.Writer
	closed                   bool
}

func openRecords(dir string, onOp func(history.Op), sec *redact.Secrets) (*records, error) {
	r := &records{}
	var err error
	if r.history, err = createHistory(filepath.Join(dir, HistoryFile), onOp, sec); err != nil {
		return nil, err
	}
	if r.faults, err = createRecords(filepath.Join(dir, FaultsFile), nil, sec); err != nil {
		r.history.Close()
		return nil, err
	}
	if r.effects, err = createRecords(filepath.Join(dir, EffectsFile), nil, sec); err != nil {
		r.history.Close()
		r.faults.Close()
		return nil, err
	}
	return r, nil
}

func (r *records) close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	return errors.Join(r.history.Close(), r.faults.Close(), r.effects.Close())
}

// createHistory creates history.jsonl; with onOp, every record written through is
// also decoded and handed to onOp on a goroutine of its own (the live dashboard), so
// the workload's writes do not wait on the decoding unless 256 writes are queued.
// Both see the records redacted.
func createHistory(path string, onOp func(history.Op), sec *redact.Secrets) (*history.Writer, error) {
	if onOp == nil {
		return createRecords(path, nil, sec)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	t := &opTap{f: f, ch: make(chan []byte, 256), done: make(chan struct{})}
	go t.decode(onOp)
	return createRecords(path, t, sec)
}

// opTap writes to the file and passes a copy of the bytes to its decoder.
type opTap struct {
	f    *os.File
	ch   chan []byte
	done chan struct{}
}

func (t *opTap) Write(p []byte) (int, error) {
	n, err := t.f.Write(p)
	t.ch <- append([]byte(nil), p[:n]...)
	return n, err
}

func (t *opTap) Close() error {
	close(t.ch)
	<-t.done
	return t.f.Close()
}

func (t *opTap) decode(onOp func(history.Op)) {
	defer close(t.done)
	var rest []byte
	for b := range t.ch {
		rest = append(rest, b...)
		for {
			nl := bytes.IndexByte(rest, '\n')
			if nl < 0 {
				break
			}
			var op history.Op
			if json.Unmarshal(rest[:nl], &op) == nil {
				onOp(op)
			}
			rest = rest[nl+1:]
		}
		rest = append([]byte(nil), rest...)
	}
}

// flushEvery flushes the history every d while the workload runs (when on), so a
// live view of it is never more than d behind; the returned func stops it.
func (r *records) flushEvery(d time.Duration, on bool) (stop func()) {
	if !on {
		return func() {}
	}
	return timing.Every(d, func(time.Time) { _ = r.history.Flush() })
}

// ReportFile is the run directory's self-contained HTML report.
const ReportFile = "report.html"

// writeReportHTML writes report.html from the result and the records (in, or read
// from the run directory when the run stopped before checking); without records the
// page still has everything but the charts.
func writeReportHTML(dir string, res *reports.Run, in *invariants.Input) error {
	path := filepath.Join(dir, ReportFile)
	if in == nil {
		in, _ = LoadRecorded(dir) // records with a torn last line still draw
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", ReportFile, err)
	}
	if err := reports.WriteHTML(f, res, in); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", ReportFile, err)
	}
	return f.Close()
}
