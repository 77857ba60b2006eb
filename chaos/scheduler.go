package chaos

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/timing"
	"github.com/mscli/mscli/plan"
)

// DefaultHealTimeout bounds the final heal when the scheduler heals on its own.
const DefaultHealTimeout = 2 * time.Minute

// Scheduler applies a fault timeline to a testbed on the run clock. Set its fields,
// then call Run once; HealAll may be called any number of times.
type Scheduler struct {
	Env Env
	// Rec receives a start and a stop record for every fault (faults.jsonl); may be nil.
	Rec *history.Writer
	// Start is the run clock's origin: faults fire at Start+At and records carry
	// nanoseconds since Start.
	Start time.Time
	// OnRecord, if set, sees every record as it is written (live views).
	OnRecord func(history.Fault)
	// HealTimeout bounds the heal Run does when its context ends; 0 means
	// DefaultHealTimeout.
	HealTimeout time.Duration
	// Abort, if set, cuts short a fault being applied (an interrupted run). The end of
	// Run's context only stops faults not yet begun: a wipe that began near the end of
	// the scenario finishes (within HealTimeout), so its records tell what it did.
	Abort context.Context

	mu      sync.Mutex
	active  []*active
	closed  bool // after HealAll: apply nothing more
	targets map[string]*sync.Mutex
	werr    error // first record write error
}

// active is a fault that was applied and has something to heal.
type active struct {
	f     plan.Fault
	seq   int // position in the timeline: later faults heal first
	heal  Heal
	taken bool          // someone is healing it or has healed it
	done  chan struct{} // closed once healed
}

// Run applies faults (ordered by At or not) at their time on the run clock and heals
// each window fault when its window ends (at+for, or kill's restart-after). It returns
// once every fault has been applied and healed, or when ctx ends; in both cases
// everything still active (faults lasting "until the end", faults whose heal failed
// half-way) is healed with a fresh context before it returns, so an interrupted run
// leaves no link cut and no node frozen. A fault that fails to apply is recorded with
// its error and does not stop the run; Run's own error is for an unknown fault kind
// (checked before anything is applied), a failed final heal or a failed record write.
func (s *Scheduler) Run(ctx context.Context, faults []plan.Fault) error {
	for i, f := range faults {
		if _, ok := Lookup(f.Kind); !ok {
			return fmt.Errorf("fault %d (%s on %s): no such fault kind (known: %s)", i, f.Kind, f.Target, strings.Join(Names(), ", "))
		}
	}
	var wg sync.WaitGroup
	for i, f := range faults {
		wg.Go(func() { s.one(ctx, i, f) })
	}
	wg.Wait()
	// Faults lasting until the end stay active until the run says it is over.
	if s.pending() > 0 {
		<-ctx.Done()
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.healTimeout())
	defer cancel()
	err := s.HealAll(hctx)
	return errors.Join(err, s.writeErr())
}

func (s *Scheduler) healTimeout() time.Duration {
	if s.HealTimeout > 0 {
		return s.HealTimeout
	}
	return DefaultHealTimeout
}

// one applies a single fault at its time and heals it at the end of its window.
func (s *Scheduler) one(ctx context.Context, seq int, f plan.Fault) {
	if !sleepUntil(ctx, s.Start.Add(f.At.D())) {
		return
	}
	fault, _ := Lookup(f.Kind)
	window := f.For.D()
	var werr error
	if window == 0 {
		if l, ok := fault.(Lasting); ok {
			window, werr = l.Lasts(f)
		}
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return
	}
	unlock := s.lockTarget(f.Target)
	t0 := history.Since(s.Start)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.healTimeout())
	if s.Abort != nil {
		stop := context.AfterFunc(s.Abort, cancel)
		defer stop()
	}
	heal, err := fault.Apply(actx, s.Env, f)
	cancel()
	if err == nil {
		err = werr
	}
	unlock()
	s.record(f, seq, history.Start, t0, err)
	if heal == nil {
		// Instantaneous (restart, snapshot, duplicate) or failed with nothing to undo.
		s.record(f, seq, history.Stop, history.Since(s.Start), nil)
		return
	}
	a, closed := s.track(f, seq, heal)
	if !closed {
		if window == 0 {
			return // lasts until the end of the run
		}
		if !sleepUntil(ctx, s.Start.Add(f.At.D()+window)) {
			return // the run ended first: HealAll takes it
		}
	}
	// Else HealAll ran while this fault was being applied: undo it now, as it would
	// have. A heal under way is never cut short by the run ending: it gets its own
	// context.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.healTimeout())
	defer cancel()
	s.healOne(hctx, a)
}

func (s *Scheduler) track(f plan.Fault, seq int, heal Heal) (*active, bool) {
	a := &active{f: f, seq: seq, heal: heal, done: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active = append(s.active, a)
	return a, s.closed
}

// healOne heals a fault unless someone else already took it, and records the stop.
func (s *Scheduler) healOne(ctx context.Context, a *active) error {
	s.mu.Lock()
	if a.taken {
		s.mu.Unlock()
		return nil
	}
	a.taken = true
	s.mu.Unlock()
	defer close(a.done)
	unlock := s.lockTarget(a.f.Target)
	err := a.heal(ctx)
	unlock()
	s.record(a.f, a.seq, history.Stop, history.Since(s.Start), err)
	if err != nil {
		return fmt.Errorf("heal %s on %s: %w", a.f.Kind, a.f.Target, err)
	}
	return nil
}

// pending counts the faults not yet healed.
func (s *Scheduler) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.active {
		if !a.taken {
			n++
		}
	}
	return n
}

// HealAll heals every fault still active and stops the scheduler from applying more.
// It heals links first, then the broker, then databases, then the other nodes — each
// group latest-applied first — so a restarted service finds its dependencies up and
// reachable. It also waits for heals already under way. ctx must be live: on ^C pass a
// fresh one (Run does).
func (s *Scheduler) HealAll(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	todo := make([]*active, 0, len(s.active))
	var others []*active
	for _, a := range s.active {
		if a.taken {
			others = append(others, a)
		} else {
			todo = append(todo, a)
		}
	}
	s.mu.Unlock()
	sort.SliceStable(todo, func(i, j int) bool {
		pi, pj := healPriority(todo[i].f), healPriority(todo[j].f)
		if pi != pj {
			return pi < pj
		}
		return todo[i].seq > todo[j].seq
	})
	var errs []error
	for _, a := range todo {
		if err := s.healOne(ctx, a); err != nil {
			errs = append(errs, err)
		}
	}
	for _, a := range others {
		select {
		case <-a.done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("heal %s on %s: %w", a.f.Kind, a.f.Target, ctx.Err()))
		}
	}
	return errors.Join(errs...)
}

func healPriority(f plan.Fault) int {
	switch {
	case kindOf(f).Target == plan.TargetLink:
		return 0
	case f.Target == plan.BrokerNode:
		return 1
	case strings.HasSuffix(f.Target, "-db"):
		return 2
	default:
		return 3
	}
}

// lockTarget serialises applies and heals on one target: a kill's restart and a pause
// of the same node must not interleave.
func (s *Scheduler) lockTarget(target string) func() {
	s.mu.Lock()
	if s.targets == nil {
		s.targets = map[string]*sync.Mutex{}
	}
	m := s.targets[target]
	if m == nil {
		m = new(sync.Mutex)
		s.targets[target] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// record writes a fault record; seq is the fault's position in the timeline.
func (s *Scheduler) record(f plan.Fault, seq int, phase history.Phase, t int64, err error) {
	r := history.Fault{Time: t, Phase: phase, Fault: f.Kind, Target: f.Target, Params: maps.Clone(f.Params), N: seq}
	if err != nil {
		r.Error = err.Error()
	}
	if s.Rec != nil {
		werr := s.Rec.Write(r)
		if werr == nil {
			// Faults are rare: flushing each keeps faults.jsonl current for a crash or a
			// live view.
			werr = s.Rec.Flush()
		}
		if werr != nil {
			s.mu.Lock()
			if s.werr == nil {
				s.werr = fmt.Errorf("write fault record: %w", werr)
			}
			s.mu.Unlock()
		}
	}
	if s.OnRecord != nil {
		s.OnRecord(r)
	}
}

func (s *Scheduler) writeErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.werr
}

// sleepUntil waits for t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool { return timing.Sleep(ctx, time.Until(t)) }

// Run applies faults to env on the clock started at start, recording to rec, and
// heals everything before it returns (see Scheduler.Run).
func Run(ctx context.Context, faults []plan.Fault, env Env, start time.Time, rec *history.Writer) error {
	s := &Scheduler{Env: env, Rec: rec, Start: start}
	return s.Run(ctx, faults)
}
