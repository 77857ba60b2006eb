package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/mscli/mscli/invariants"
)

// WriteGitHub writes GitHub Actions workflow commands for one run or a suite's runs,
// so that what went wrong shows on the pull request and the job's summary: per run one
// plain log line with its verdict, then
//
//   - each failed invariant or threshold: ::error, its summary, the first witness's note
//     and that witness's first history line (or effect);
//   - each unknown one: ::warning, its summary;
//   - planned faults that failed to apply or heal: one ::warning naming the first;
//   - partial records (the run could not complete, or was cut short): ::warning.
//
// A passing run gets its log line only: GitHub shows a step's first ten errors and ten
// warnings, and they are kept for what failed. Each annotation's title is "<scenario>
// (seed N): <what>"; when the run knows its scenario file (Run.File), the annotation
// names it, without a line. Data and properties are escaped as the runner reads them
// back.
func WriteGitHub(w io.Writer, runs ...*Run) error {
	p := &printer{w: w}
	for _, r := range runs {
		if r == nil {
			continue // a suite's run that never started: its suite reports it
		}
		v := RunVerdict(r)
		p.f("%s (seed %d)", ghLine(r.Scenario), r.Seed)
		if r.Testbed != "" {
			p.f(" on %s", ghLine(r.Testbed))
		}
		p.f(": %s", strings.ToUpper(string(v)))
		if why := VerdictReason(r); why != "" {
			p.f(" — %s", ghLine(why))
		}
		if r.Dir != "" {
			p.f(" — %s", ghLine(r.Dir))
		}
		p.f("\n")
		title := fmt.Sprintf("%s (seed %d)", r.Scenario, r.Seed)
		annotate := func(level, what, msg string) {
			props := ""
			if r.File != "" {
				props = "file=" + ghProperty(r.File) + ","
			}
			props += "title=" + ghProperty(title+": "+what)
			p.f("::%s %s::%s\n", level, props, ghData(msg))
		}
		if why := r.Partial(); why != "" {
			annotate("warning", "partial run", why+"; its verdicts cover what was recorded")
		}
		if len(r.FaultFailures) > 0 {
			annotate("warning", "faults", FaultsReason(r.FaultFailures, r.Faults.Planned)+": "+FaultsConsequence(r))
		}
		if len(r.Results) == 0 && r.Partial() == "" {
			annotate("warning", "no invariant", "no invariant was checked: the run is not a pass")
		}
		for _, res := range r.Results {
			switch res.Verdict {
			case invariants.Pass:
			case invariants.Fail:
				annotate("error", res.Name, failureMessage(res, r.Dir))
			default:
				annotate("warning", res.Name, string(res.Verdict)+": "+res.Summary)
			}
		}
	}
	return p.err
}

// failureMessage is a failed invariant's annotation: its summary and how many it
// found, the first witness's note and its first history line, and where the run is.
func failureMessage(res invariants.Result, dir string) string {
	var b strings.Builder
	b.WriteString(res.Summary)
	if res.Violations > 0 && !strings.Contains(res.Summary, "violat") {
		fmt.Fprintf(&b, " (%s)", plural(res.Violations, "violation"))
	}
	if len(res.Witnesses) > 0 {
		wt := res.Witnesses[0]
		b.WriteString(" — " + wt.Note)
		switch {
		case len(wt.Ops) > 0:
			b.WriteString("\n" + strings.TrimSpace(opLine(wt.Ops[0])))
		case len(wt.Effects) > 0:
			b.WriteString("\neffect " + EffectLine(wt.Effects[0]))
		}
		if len(wt.Faults) > 0 {
			b.WriteString("\nfaults active: " + faultList(wt.Faults))
		}
	}
	if dir != "" {
		b.WriteString("\nrun directory: " + dir)
	}
	return b.String()
}

// ghData escapes a workflow command's message: %, CR and LF.
var ghDataEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")

func ghData(s string) string { return ghDataEscaper.Replace(s) }

// ghProperty escapes a workflow command's property value: as data, and also : and ,.
var ghPropertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")

func ghProperty(s string) string { return ghPropertyEscaper.Replace(s) }

// ghLine is text for a plain log line: on one line, and never read as a workflow
// command (a line starting with "::").
func ghLine(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "::", ": :")
}
