package invariants

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/registry"
	"github.com/mscli/mscli/plan"
)

// Verdict is a checker's answer.
type Verdict string

// The three verdicts.
const (
	Pass    Verdict = "pass"
	Fail    Verdict = "fail"
	Unknown Verdict = "unknown"
)

// MaxWitnesses bounds the witnesses a result carries; Result.Violations counts them all.
const MaxWitnesses = 20

// Witness is one piece of evidence against an invariant.
type Witness struct {
	ID      string           `json:"id,omitempty"`
	Key     string           `json:"key,omitempty"`
	View    string           `json:"view,omitempty"`
	Note    string           `json:"note"`
	Ops     []history.Op     `json:"ops,omitempty"`     // the operation's history lines
	Effects []history.Effect `json:"effects,omitempty"` // the effects that show the violation
	Faults  []history.Fault  `json:"faults,omitempty"`  // faults active while the operation ran
}

// Result is one invariant's verdict.
type Result struct {
	Name       string    `json:"name"`
	Verdict    Verdict   `json:"verdict"`
	Summary    string    `json:"summary"`
	Violations int       `json:"violations"`
	Checked    int       `json:"checked"` // how many items (ops, keys, views) were judged
	Witnesses  []Witness `json:"witnesses,omitempty"`
	// Measures holds numbers a checker reports beside its verdict, e.g. converges'
	// time_to_converge_ns.
	Measures map[string]int64 `json:"measures,omitempty"`
	Elapsed  time.Duration    `json:"elapsed_ns"`
}

// Spec names an invariant to check and its parameters.
type Spec struct {
	Name   string
	Params map[string]string
}

// Input is a recorded run.
type Input struct {
	Ops     []history.Op
	Faults  []history.Fault
	Effects []history.Effect
	// Views are the views each service declares it reports (service → "write",
	// "read", …): a checker that needs one that was never observed is unknown,
	// never pass.
	Views map[string][]string
	// PublicReads names the service whose public API the workload read (history
	// operations of f "read"): converges then holds the final reads, made once the
	// system was quiet, against that service's write model. Empty when the workload
	// does not read.
	PublicReads string
	// Replicas is how many replicas each service of the plan runs (service →
	// count): a checker of competing consumers asks every one of them for work.
	Replicas map[string]int
	// Records, when set, are the run's operations and effects in columns, as a run
	// directory is loaded (runner.LoadRecorded): Ops and Effects are then not read.
	// Ops and Effects are how a caller builds an Input in memory.
	Records *history.Records
}

// Columns is the run's operations and effects in columns, what the checkers and
// reports read: Records, else Ops and Effects put in columns, afresh at each call
// (an Input built in memory may change between two checks).
func (in *Input) Columns() *history.Records {
	if in.Records != nil {
		return in.Records
	}
	r := new(history.Records)
	r.Grow(len(in.Ops), len(in.Effects))
	for i := range in.Ops {
		if err := r.AddOp(&in.Ops[i]); err != nil {
			panic(fmt.Sprintf("invariants: an Input built in memory: %v", err))
		}
	}
	for i := range in.Effects {
		if err := r.AddEffect(&in.Effects[i]); err != nil {
			panic(fmt.Sprintf("invariants: an Input built in memory: %v", err))
		}
	}
	return r
}

// Checker judges one invariant over an index of the run. It must only read the
// index: Check runs checkers side by side.
type Checker func(ctx context.Context, ix *Index, params map[string]string) Result

var checkers = registry.New[Checker]("invariants: checker")

// Register makes an invariant available: its declaration (name, parameters), which
// scenarios validate and plan against, and the checker that judges it. It panics when
// the name is taken, as registrations happen in init.
func Register(decl plan.InvariantKind, c Checker) {
	checkers.RegisterWith(decl.Name, c, func() { plan.RegisterInvariantKind(decl) })
}

// Names lists the registered checkers, sorted.
func Names() []string { return checkers.Names() }

// Check runs every spec over the input and returns one result per spec, in order.
// A checker still running when ctx is done yields Unknown. Checkers only read the
// index, so they run side by side, one per processor at most.
func Check(ctx context.Context, in *Input, specs []Spec) []Result {
	return CheckIndex(ctx, NewIndex(in), specs)
}

// CheckIndex is Check over a prepared index, for a caller that reads the index again
// (thresholds) and so builds it once.
func CheckIndex(ctx context.Context, ix *Index, specs []Spec) []Result {
	return CheckEach(ctx, ix, specs, nil)
}

// CheckEach is CheckIndex handing each result to each (when not nil) in the order of
// specs, as soon as it and the ones before it are known, on the caller's goroutine:
// a live report shows the checks that finished while the others still run.
func CheckEach(ctx context.Context, ix *Index, specs []Spec, each func(Result)) []Result {
	out := make([]Result, len(specs))
	done := make([]chan struct{}, len(specs))
	for i := range done {
		done[i] = make(chan struct{})
	}
	go func() {
		slots := make(chan struct{}, runtime.GOMAXPROCS(0))
		for i, s := range specs {
			slots <- struct{}{}
			go func() {
				defer func() { <-slots }()
				out[i] = CheckOne(ctx, ix, s)
				close(done[i])
			}()
		}
	}()
	for i := range specs {
		<-done[i]
		if each != nil {
			each(out[i])
		}
	}
	return out
}

// CheckOne runs one spec over a prepared index.
func CheckOne(ctx context.Context, ix *Index, s Spec) Result {
	c, ok := checkers.Lookup(s.Name)
	if !ok {
		return Result{Name: s.Name, Verdict: Unknown, Summary: fmt.Sprintf("no checker named %q (known: %v)", s.Name, Names())}
	}
	start := time.Now()
	r := c(ctx, ix, s.Params)
	r.Name = s.Name
	r.Elapsed = time.Since(start)
	if ctx.Err() != nil && r.Verdict == Pass {
		r.Verdict = Unknown
		r.Summary = "ran out of time before finishing: " + ctx.Err().Error()
	}
	return r
}

// ByVerdict picks what stands for v: pass for Pass, fail for Fail, unknown for
// anything else (Unknown, or a verdict that is none of the three), as every report and
// the exit code read a verdict.
func ByVerdict[T any](v Verdict, pass, fail, unknown T) T {
	switch v {
	case Pass:
		return pass
	case Fail:
		return fail
	default:
		return unknown
	}
}

// Worst folds verdicts: any fail is fail, else any unknown is unknown, else pass.
func Worst(rs []Result) Verdict {
	v := Pass
	for _, r := range rs {
		switch r.Verdict {
		case Fail:
			return Fail
		case Unknown:
			v = Unknown
		}
	}
	return v
}

func durationParam(params map[string]string, name string, def time.Duration) (time.Duration, error) {
	s, ok := params[name]
	if !ok || s == "" {
		return def, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Duration(n), nil
	}
	return 0, fmt.Errorf("parameter %s: invalid duration %q", name, s)
}
