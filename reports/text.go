package reports

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
)

// WitnessesShown is how many witnesses the text and Markdown reports print per
// invariant; result.json keeps up to invariants.MaxWitnesses.
const WitnessesShown = 3

// WriteText writes the human summary: the run, the planned faults that failed (first,
// since they make the run inconclusive), counts of operations and faults, the time to
// converge, then per invariant its verdict and first witnesses, and the verdict with
// its reason.
func WriteText(w io.Writer, r *Run) error {
	p := &printer{w: w}
	p.f("%s  seed %d  testbed %s  %s", r.Scenario, r.Seed, r.Testbed, round(r.Wall))
	if len(r.Bugs) > 0 {
		p.f("  injected bugs: %s", strings.Join(r.Bugs, ", "))
	}
	p.f("\n")
	if len(r.FaultFailures) > 0 {
		p.f("\n!! %s: %s\n", FaultsHeadline(r.FaultFailures, r.Faults.Planned), FaultsConsequence(r))
		for _, f := range r.FaultFailures {
			p.f("   - %s\n", f.Line())
		}
		p.f("\n")
	}
	p.f("run dir: %s\n", r.Dir)
	o := r.Ops
	p.f("operations: %d invoked · %d ok · %d fail · %d info  (%.1f ops/s, p50 %s, p99 %s)\n",
		o.Invoked, o.Ok, o.Fail, o.Info, o.Rate, round(o.P50), round(o.P99))
	p.f("faults: %d planned · %d applied · %d healed", r.Faults.Planned, r.Faults.Applied, r.Faults.Healed)
	if r.Faults.Errors > 0 {
		p.f(" · %d errors", r.Faults.Errors)
	}
	p.f("\n")
	if c := r.Converge; c != nil {
		if c.Converged {
			p.f("converged %s after the last heal (%d polls)\n", round(c.After), c.Polls)
		} else {
			p.f("did not converge (%d polls)\n", c.Polls)
		}
	}
	if r.Error != "" {
		p.f("error: %s\n", r.Error)
	}
	p.f("\n")
	width := 0
	for _, res := range r.Results {
		width = max(width, len(res.Name))
	}
	for _, res := range r.Results {
		p.f("  %-7s %-*s  %s\n", strings.ToUpper(string(res.Verdict)), width, res.Name, res.Summary)
		for i, wt := range res.Witnesses {
			if i == WitnessesShown {
				p.f("          … %d more in result.json\n", len(res.Witnesses)-i)
				break
			}
			p.f("          - %s\n", wt.Note)
			for _, op := range wt.Ops {
				p.f("              %s\n", opLine(op))
			}
			if len(wt.Faults) > 0 {
				p.f("              faults active: %s\n", faultList(wt.Faults))
			}
		}
	}
	p.f("\nverdict: %s", strings.ToUpper(string(RunVerdict(r))))
	if why := VerdictReason(r); why != "" {
		p.f(" — %s", why)
	}
	p.f("\n")
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	default:
		return d
	}
}

func opLine(op history.Op) string {
	return fmt.Sprintf("%8.3fs proc %d %-6s %s %s %s", float64(op.Time)/1e9, op.Process, op.Type, op.F, op.Key, op.ID) + OpDetail(op)
}

// OpDetail is what follows a history record's columns when it is shown on one line:
// its value, how many attempts it took and its error.
func OpDetail(op history.Op) string {
	var s string
	if len(op.Value) > 0 {
		s += " " + string(op.Value)
	}
	if op.Attempts > 1 {
		s += fmt.Sprintf(" after %d attempts", op.Attempts)
	}
	if op.Error != "" {
		s += " — " + op.Error
	}
	return s
}

func faultList(fs []history.Fault) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%s %s from %.1fs", f.Fault, f.Target, float64(f.Time)/1e9)
	}
	return strings.Join(parts, "; ")
}
