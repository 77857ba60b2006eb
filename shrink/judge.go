package shrink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
)

// Job is what a Runner runs: a plan (of a candidate's scenario file) with its source,
// into run directories under Root.
type Job struct {
	Plan   *plan.Plan
	Source []byte
	Root   string
	// File is the scenario file the plan was loaded from, for the runs' results; ""
	// for a candidate, which is never written as a file of its own.
	File string
}

// Trial is how one run ended: its result, or the error that kept it from finishing.
type Trial struct {
	Run *reports.Run
	Err error
}

// Runner makes n runs of a job at once (n is at most Options.Parallel) and says how
// each ended, in any order. SuiteRunner runs them with package suite.
type Runner func(ctx context.Context, j Job, n int) []Trial

// judge runs candidates and says whether each still fails: up to tries runs, stopping
// as soon as the outcome is decided, each counted as failing when the target
// invariant failed in it. It keeps every step, the cache of what was judged, the
// runs' wall times for the estimates, and the time budget.
type judge struct {
	o       Options
	target  string
	prepare func(c Candidate, final bool) (Job, error)
	search  *search // for the estimate of what is left; nil in tests of the judge
	log     io.Writer

	began    time.Time
	deadline time.Time
	cache    map[string]bool
	steps    []Step
	runs     int
	wall     time.Duration // of all runs, for their mean
	judged   int           // candidates run (not cached, not invalid)
	judgeRun int           // runs those took
	total    int           // faults in the original timeline
}

// need is how many of n runs must fail for a candidate to still fail at the rate.
func need(rate float64, n int) int {
	return max(1, int(math.Ceil(rate*float64(n)-1e-9)))
}

// meanWall is the mean wall time of a run so far, 0 before the first.
func (j *judge) meanWall() time.Duration {
	if j.runs == 0 {
		return 0
	}
	return j.wall / time.Duration(j.runs)
}

// confirmTime estimates the confirmation's wall time, which the budget keeps room for.
func (j *judge) confirmTime() time.Duration {
	waves := (j.o.Confirm + j.o.Parallel - 1) / j.o.Parallel
	return time.Duration(waves) * j.meanWall()
}

// outOfTime says whether another wave of runs would overrun the budget, keeping room
// for the confirmation.
func (j *judge) outOfTime() bool {
	now := j.o.now()
	if !now.Before(j.deadline) {
		return true
	}
	return now.Add(j.meanWall() + j.confirmTime()).After(j.deadline)
}

// fails is the oracle: whether the candidate still fails at the rate.
func (j *judge) fails(ctx context.Context, c Candidate) (bool, error) {
	k := c.key()
	if v, ok := j.cache[k]; ok {
		return v, nil
	}
	step := Step{N: len(j.steps) + 1, Phase: "ddmin", Faults: numbers(c.Keep), For: shortFor(c.Short)}
	if j.search != nil {
		step.Phase = j.search.phase
	}
	job, err := j.prepare(c, false)
	if err != nil {
		step.Verdict = "invalid"
		step.Note = err.Error()
		j.steps = append(j.steps, step)
		j.cache[k] = false
		j.logf("step %d: %s: not a valid scenario, skipped (%v)", step.N, describe(c, j.total), firstLine(err))
		return false, nil
	}
	needed := need(j.o.Rate, j.o.Tries)
	j.logf("step %d: trying %s (up to %s)", step.N, describe(c, j.total), plural(j.o.Tries, "run"))
	fails, done := 0, 0
	for done < j.o.Tries {
		if j.outOfTime() {
			step.Verdict = "out of budget"
			j.steps = append(j.steps, step)
			j.logf("step %d: %s: out of budget after %d of %d runs", step.N, describe(c, j.total), done, j.o.Tries)
			return false, errBudget
		}
		n := min(j.o.Parallel, j.o.Tries-done)
		recs, err := j.run(ctx, job, n)
		step.Runs = append(step.Runs, recs...)
		if err != nil {
			step.Verdict = "error"
			step.Note = err.Error()
			j.steps = append(j.steps, step)
			return false, err
		}
		for _, r := range recs {
			if r.Failed {
				fails++
			}
		}
		done += n
		if fails >= needed || fails+(j.o.Tries-done) < needed {
			break // decided
		}
	}
	j.judged++
	j.judgeRun += done
	step.Fails = fails
	ok := fails >= needed
	step.Verdict = "passes"
	if ok {
		step.Verdict = "fails"
	}
	j.steps = append(j.steps, step)
	j.cache[k] = ok
	what := "passes"
	if ok {
		what = "still fails " + j.target
	}
	j.logf("step %d: %s: %s (%d of %s failed %s)%s", step.N, describe(c, j.total), what, fails, plural(done, "run"), j.target, j.estimate(c, ok))
	return ok, nil
}

// run makes n runs of a job, each run that could not finish tried once more; a second
// failure to run stops the shrink. An interrupt returns the context's error.
func (j *judge) run(ctx context.Context, job Job, n int) ([]RunRecord, error) {
	trials := j.o.Run(ctx, job, n)
	var out []RunRecord
	retry := 0
	for _, t := range trials {
		out = append(out, j.record(t))
		if t.Err != nil && ctx.Err() == nil {
			retry++
			j.logf("a run could not finish (%v): trying it once more", firstLine(t.Err))
		}
	}
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	if retry > 0 {
		for _, t := range j.o.Run(ctx, job, retry) {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			if t.Err != nil {
				rec := j.record(t)
				out = append(out, rec)
				where := ""
				if rec.Dir != "" {
					where = " (run directory " + rec.Dir + ")"
				}
				if runner.CodeOf(t.Err) == runner.ExitInvalidInput {
					return out, fmt.Errorf("a run of the candidate was refused twice%s: %w", where, t.Err)
				}
				return out, runner.CouldNotRun(fmt.Errorf("a run of the candidate could not finish, twice%s: %w", where, t.Err))
			}
			out = append(out, j.record(t))
		}
	}
	return out, nil
}

// record counts a trial's run and says what it found.
func (j *judge) record(t Trial) RunRecord {
	rec := RunRecord{Target: string(invariants.Unknown)}
	if t.Err != nil {
		rec.Error = t.Err.Error()
	}
	if t.Run == nil {
		return rec
	}
	j.runs++
	j.wall += t.Run.Wall
	rec.Dir, rec.Verdict, rec.Wall = t.Run.Dir, string(reports.RunVerdict(t.Run)), t.Run.Wall
	if t.Err == nil {
		for _, r := range t.Run.Results {
			if r.Name == j.target {
				rec.Target = string(r.Verdict)
				rec.Failed = r.Verdict == invariants.Fail
			}
		}
	}
	return rec
}

// estimate is the tail of a progress line: runs so far and about how many are left.
func (j *judge) estimate(c Candidate, fails bool) string {
	s := fmt.Sprintf(" — %s in %s", plural(j.runs, "run"), j.o.now().Sub(j.began).Round(time.Second))
	if j.search == nil || j.runs == 0 {
		return s
	}
	perCand := float64(j.o.Tries)
	if j.judged > 0 {
		perCand = float64(j.judgeRun) / float64(j.judged)
	}
	left := int(math.Ceil(float64(j.search.left(c, fails))*perCand)) + j.o.Confirm
	waves := (left + j.o.Parallel - 1) / j.o.Parallel
	return s + fmt.Sprintf("; about %d runs left, ~%s (estimate)", left, (time.Duration(waves)*j.meanWall()).Round(time.Second))
}

func (j *judge) logf(format string, args ...any) {
	if j.log != nil {
		fmt.Fprintf(j.log, "shrink: "+format+"\n", args...)
	}
}

// describe names a candidate for progress lines: "faults #3 #7 (2 of 10)", its
// shortened windows after.
func describe(c Candidate, total int) string {
	if len(c.Keep) == 0 {
		return fmt.Sprintf("no faults (0 of %d)", total)
	}
	parts := make([]string, len(c.Keep))
	for i, x := range c.Keep {
		parts[i] = fmt.Sprintf("#%d", x+1)
		if d, ok := c.Short[x]; ok {
			parts[i] += " for " + d.String()
		}
	}
	return fmt.Sprintf("faults %s (%d of %d)", strings.Join(parts, " "), len(c.Keep), total)
}

// numbers are fault indexes as the timeline numbers them, from 1.
func numbers(keep []int) []int {
	out := make([]int, len(keep))
	for i, x := range keep {
		out[i] = x + 1
	}
	return out
}

func shortFor(short map[int]plan.Duration) map[string]plan.Duration {
	if len(short) == 0 {
		return nil
	}
	out := map[string]plan.Duration{}
	for i, d := range short {
		out[fmt.Sprintf("#%d", i+1)] = d
	}
	return out
}

// plural is "1 run", "3 runs".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// isBudget says whether err is the search's out-of-budget stop.
func isBudget(err error) bool { return errors.Is(err, errBudget) }
