package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mscli/mscli/invariants"
)

// DefaultTolerance is how far a gated figure may move the wrong way before Compare
// calls it a regression: 20%.
const DefaultTolerance = 0.2

// Comparison is a run set beside a baseline run: their figures side by side with the
// change, each invariant's (and threshold's) verdict in both, the verdicts of the runs,
// and what regressed beyond the tolerance (Breaches) — a gate on regressions.
type Comparison struct {
	Baseline RunID `json:"baseline"`
	Current  RunID `json:"current"`
	// Tolerance is a fraction (0.2 is 20%): how far ops/s may fall, and p50, p99 and
	// the time to converge may rise, before it is a regression.
	Tolerance float64 `json:"tolerance"`
	// Warnings say why the two runs may not be comparable (another scenario, testbed or
	// set of injected bugs, partial records); they are compared anyway.
	Warnings []string      `json:"warnings,omitempty"`
	Figures  []Figure      `json:"figures"`
	Checks   []CheckChange `json:"checks"`
	Verdict  VerdictChange `json:"verdict"`
	Breaches []string      `json:"breaches,omitempty"`
}

// Regressed says whether anything regressed beyond the tolerance.
func (c *Comparison) Regressed() bool { return len(c.Breaches) > 0 }

// RunID is what names a compared run.
type RunID struct {
	Scenario string             `json:"scenario"`
	Seed     int64              `json:"seed"`
	Testbed  string             `json:"testbed"`
	Bugs     []string           `json:"bugs,omitempty"`
	Dir      string             `json:"dir"`
	Verdict  invariants.Verdict `json:"verdict"`
	// Seeds is how many runs a suite's median stands for (CompareSuites); 0 for a run.
	Seeds int `json:"seeds,omitempty"`
}

func (id RunID) String() string {
	s := fmt.Sprintf("%s seed %d", id.Scenario, id.Seed)
	if id.Seeds > 0 {
		s = fmt.Sprintf("%s, median of %d seed(s)", id.Scenario, id.Seeds)
	}
	if id.Testbed != "" {
		s += " on " + id.Testbed
	}
	if len(id.Bugs) > 0 {
		s += " with " + strings.Join(id.Bugs, ", ")
	}
	return s
}

// The directions a figure can be better in.
const (
	HigherIsBetter = "higher"
	LowerIsBetter  = "lower"
)

// The trends of a figure or check from the baseline to the current run.
const (
	TrendWorse  = "worse"
	TrendBetter = "better"
)

// Figure is one number of both runs: ops/s, latency, time to converge, counts.
type Figure struct {
	Name string `json:"name"`
	// Baseline and Current are the raw values (ops/s, nanoseconds, counts, the share of
	// planned faults applied and healed); nil when the run has none (no convergence wait, it never
	// converged, no fault planned).
	Baseline *float64 `json:"baseline"`
	Current  *float64 `json:"current"`
	// BaselineText and CurrentText are the values as shown: "152.3", "3.2ms", "4/4",
	// "did not converge".
	BaselineText string `json:"baseline_text"`
	CurrentText  string `json:"current_text"`
	// Better is the direction that is better (HigherIsBetter, LowerIsBetter), "" for a
	// figure that is neither (how many faults were planned).
	Better string `json:"better,omitempty"`
	// Change is the relative change ("+12.5%"), or the difference when the baseline is
	// zero ("+3"); "" when there is nothing to compare.
	Change string `json:"change,omitempty"`
	Trend  string `json:"trend,omitempty"` // TrendWorse, TrendBetter, or "" (same, or not comparable)
	// Gated figures fail the comparison when they move the wrong way by more than the
	// tolerance (Breach).
	Gated  bool `json:"gated,omitempty"`
	Breach bool `json:"breach,omitempty"`
}

// CheckChange is one invariant or threshold of either run, matched by name.
type CheckChange struct {
	Name string `json:"name"`
	// BaselineVerdict and CurrentVerdict are "" when that run did not check it.
	BaselineVerdict    invariants.Verdict `json:"baseline_verdict,omitempty"`
	CurrentVerdict     invariants.Verdict `json:"current_verdict,omitempty"`
	BaselineViolations int                `json:"baseline_violations"`
	CurrentViolations  int                `json:"current_violations"`
	Summary            string             `json:"summary,omitempty"` // the current run's, else the baseline's
	Trend              string             `json:"trend,omitempty"`
	Breach             string             `json:"breach,omitempty"` // why it is a regression
}

// VerdictChange is the runs' verdicts (RunVerdict) side by side.
type VerdictChange struct {
	Baseline invariants.Verdict `json:"baseline"`
	Current  invariants.Verdict `json:"current"`
	Trend    string             `json:"trend,omitempty"`
	Breach   bool               `json:"breach,omitempty"`
}

// ParseTolerance reads a tolerance written as a percentage ("20%", "7.5%") into a
// fraction.
func ParseTolerance(s string) (float64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, fmt.Errorf("tolerance %q: write it as a percentage, e.g. 20%%", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("tolerance %q: want a percentage of 0%% or more, e.g. 20%%", s)
	}
	return v / 100, nil
}

// Compare sets a run beside a baseline run. A regression beyond the tolerance (a
// fraction) is: ops/s down by more than it; p50, p99 or the time to converge up by
// more than it, or no convergence where the baseline converged; an invariant or
// threshold that passed in the baseline and fails, is unknown or was not checked now;
// one with more violations than in the baseline; and a verdict worse than the
// baseline's (pass → unknown → fail). The other figures are shown with their change
// and trend, ungated.
func Compare(baseline, current *Run, tolerance float64) *Comparison {
	c := &Comparison{Baseline: idOf(baseline), Current: idOf(current), Tolerance: tolerance}
	c.warn(baseline, current)
	c.figures(baseline, current)
	c.checks(baseline, current)
	c.Verdict = VerdictChange{Baseline: c.Baseline.Verdict, Current: c.Current.Verdict}
	switch rb, rc := verdictRank(c.Baseline.Verdict), verdictRank(c.Current.Verdict); {
	case rc > rb:
		c.Verdict.Trend, c.Verdict.Breach = TrendWorse, true
		c.Breaches = append(c.Breaches, fmt.Sprintf("verdict %s → %s", c.Baseline.Verdict, c.Current.Verdict))
	case rc < rb:
		c.Verdict.Trend = TrendBetter
	}
	return c
}

func idOf(r *Run) RunID {
	return RunID{Scenario: r.Scenario, Seed: r.Seed, Testbed: r.Testbed, Bugs: r.Bugs, Dir: r.Dir, Verdict: RunVerdict(r)}
}

// verdictRank orders verdicts from best to worst: pass, unknown, fail.
func verdictRank(v invariants.Verdict) int { return invariants.ByVerdict(v, 0, 2, 1) }

func (c *Comparison) warn(b, r *Run) {
	if b.Scenario != r.Scenario {
		c.Warnings = append(c.Warnings, fmt.Sprintf("the runs are of different scenarios (%s, %s)", b.Scenario, r.Scenario))
	}
	if b.Testbed != r.Testbed {
		c.Warnings = append(c.Warnings, fmt.Sprintf("the runs are on different testbeds (%s, %s)", b.Testbed, r.Testbed))
	}
	if strings.Join(b.Bugs, ",") != strings.Join(r.Bugs, ",") {
		c.Warnings = append(c.Warnings, fmt.Sprintf("the runs injected different bugs (%s; %s)", bugList(b.Bugs), bugList(r.Bugs)))
	}
	for _, side := range []struct {
		name string
		r    *Run
	}{{"baseline", b}, {"current", r}} {
		if why := side.r.Partial(); why != "" {
			c.Warnings = append(c.Warnings, fmt.Sprintf("the %s run's records are partial: %s", side.name, why))
		}
	}
}

func bugList(bugs []string) string {
	if len(bugs) == 0 {
		return "none"
	}
	return strings.Join(bugs, ", ")
}

func (c *Comparison) figures(b, r *Run) {
	num := func(v float64) *float64 { return &v }
	rate := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	count := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	dur := func(v float64) string { return round(time.Duration(v)).String() }
	add := func(name, better string, gated bool, bv, cv *float64, text func(float64) string) *Figure {
		f := Figure{Name: name, Baseline: bv, Current: cv, Better: better, Gated: gated}
		f.BaselineText, f.CurrentText = "—", "—"
		if bv != nil {
			f.BaselineText = text(*bv)
		}
		if cv != nil {
			f.CurrentText = text(*cv)
		}
		if bv != nil && cv != nil {
			c.change(&f, text)
		}
		c.Figures = append(c.Figures, f)
		return &c.Figures[len(c.Figures)-1]
	}
	add("ops/s", HigherIsBetter, true, num(b.Ops.Rate), num(r.Ops.Rate), rate)
	add("ok", HigherIsBetter, false, num(float64(b.Ops.Ok)), num(float64(r.Ops.Ok)), count)
	add("fail", LowerIsBetter, false, num(float64(b.Ops.Fail)), num(float64(r.Ops.Fail)), count)
	add("info", LowerIsBetter, false, num(float64(b.Ops.Info)), num(float64(r.Ops.Info)), count)
	add("p50", LowerIsBetter, true, num(float64(b.Ops.P50)), num(float64(r.Ops.P50)), dur)
	add("p99", LowerIsBetter, true, num(float64(b.Ops.P99)), num(float64(r.Ops.P99)), dur)

	converge := func(cv *Converge) (*float64, string) {
		switch {
		case cv == nil:
			return nil, "—"
		case !cv.Converged:
			return nil, "did not converge"
		}
		return num(float64(cv.After)), ""
	}
	bv, bnote := converge(b.Converge)
	cv, cnote := converge(r.Converge)
	f := add("time to converge", LowerIsBetter, true, bv, cv, dur)
	if bv == nil {
		f.BaselineText = bnote
	}
	if cv == nil {
		f.CurrentText = cnote
	}
	switch {
	case b.Converge != nil && b.Converge.Converged && r.Converge != nil && !r.Converge.Converged:
		f.Trend, f.Breach = TrendWorse, true
		c.Breaches = append(c.Breaches, fmt.Sprintf("time to converge: did not converge (baseline %s)", f.BaselineText))
	case b.Converge != nil && !b.Converge.Converged && r.Converge != nil && r.Converge.Converged:
		f.Trend = TrendBetter
	}

	// Faults applied compare as a share of the planned ones (runs of two scenarios plan
	// different numbers), and a fault counts when it was applied and healed: what the
	// verdict requires, and the faults-applied threshold measures.
	share := func(fc FaultCounts) *float64 {
		if fc.Planned == 0 {
			return nil
		}
		return num(float64(fc.Healed) / float64(fc.Planned))
	}
	f = add("faults applied", HigherIsBetter, false, share(b.Faults), share(r.Faults), rate)
	f.BaselineText = fmt.Sprintf("%d/%d", b.Faults.Healed, b.Faults.Planned)
	f.CurrentText = fmt.Sprintf("%d/%d", r.Faults.Healed, r.Faults.Planned)
	add("fault failures", LowerIsBetter, false, num(float64(len(b.FaultFailures))), num(float64(len(r.FaultFailures))), count)
}

// change fills a figure's change (text formats a value of it) and trend, and its
// breach when it is gated and moved the wrong way by more than the tolerance.
func (c *Comparison) change(f *Figure, text func(float64) string) {
	bv, cv := *f.Baseline, *f.Current
	if bv == cv {
		return
	}
	rel := 0.0
	if bv != 0 {
		rel = (cv - bv) / math.Abs(bv)
		f.Change = fmt.Sprintf("%+.1f%%", rel*100)
	} else {
		f.Change = "+" + text(cv) // from zero: the difference
	}
	up := cv > bv
	switch {
	case f.Better == HigherIsBetter && up, f.Better == LowerIsBetter && !up:
		f.Trend = TrendBetter
	case f.Better != "":
		f.Trend = TrendWorse
	}
	if !f.Gated || f.Trend != TrendWorse || bv == 0 {
		return
	}
	if (f.Better == LowerIsBetter && rel > c.Tolerance) || (f.Better == HigherIsBetter && -rel > c.Tolerance) {
		f.Breach = true
		c.Breaches = append(c.Breaches, fmt.Sprintf("%s %s (%s → %s)", f.Name, f.Change, f.BaselineText, f.CurrentText))
	}
}

func (c *Comparison) checks(b, r *Run) {
	cur := map[string]invariants.Result{}
	for _, res := range r.Results {
		cur[res.Name] = res
	}
	seen := map[string]bool{}
	for _, br := range b.Results {
		seen[br.Name] = true
		ch := CheckChange{Name: br.Name, BaselineVerdict: br.Verdict, BaselineViolations: br.Violations, Summary: br.Summary}
		cr, ok := cur[br.Name]
		if ok {
			ch.CurrentVerdict, ch.CurrentViolations, ch.Summary = cr.Verdict, cr.Violations, cr.Summary
		}
		switch rb, rc := verdictRank(br.Verdict), verdictRank(cr.Verdict); {
		case !ok && br.Verdict == invariants.Pass:
			ch.Trend, ch.Breach = TrendWorse, "passed in the baseline, not checked now"
		case !ok:
		case rc > rb && br.Verdict == invariants.Pass:
			ch.Trend, ch.Breach = TrendWorse, fmt.Sprintf("%s → %s", br.Verdict, cr.Verdict)
			if cr.Violations > 0 {
				ch.Breach += fmt.Sprintf(" (%s)", plural(cr.Violations, "violation"))
			}
		case cr.Violations > br.Violations:
			ch.Trend, ch.Breach = TrendWorse, fmt.Sprintf("%d → %d violations", br.Violations, cr.Violations)
		case rc > rb:
			ch.Trend = TrendWorse
		case rc < rb || cr.Violations < br.Violations:
			ch.Trend = TrendBetter
		}
		if ch.Breach != "" {
			c.Breaches = append(c.Breaches, ch.Name+": "+ch.Breach)
		}
		c.Checks = append(c.Checks, ch)
	}
	// Checked now only: shown, never a regression of their own (the verdict says
	// whether the run got worse).
	for _, cr := range r.Results {
		if !seen[cr.Name] {
			c.Checks = append(c.Checks, CheckChange{Name: cr.Name, CurrentVerdict: cr.Verdict, CurrentViolations: cr.Violations, Summary: cr.Summary})
		}
	}
}

// WriteComparison renders a comparison as "text", "json" or "markdown".
func WriteComparison(w io.Writer, c *Comparison, format string) error {
	switch format {
	case "text":
		return writeComparisonText(w, c)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(c)
	case "markdown":
		return writeComparisonMarkdown(w, c)
	}
	return fmt.Errorf("unknown comparison format %q: want one of %s", format, strings.Join(ComparisonFormats, "|"))
}

// ComparisonFormats are the formats WriteComparison knows.
var ComparisonFormats = []string{"text", "json", "markdown"}

func tolText(t float64) string { return strconv.FormatFloat(t*100, 'f', -1, 64) + "%" }

func checkText(v invariants.Verdict, violations int) string {
	if v == "" {
		return "—"
	}
	if violations > 0 {
		return fmt.Sprintf("%s (%d)", v, violations)
	}
	return string(v)
}

// mark is a row's last column: REGRESSED for a breach, else its trend.
func mark(trend string, breach bool) string {
	if breach {
		return "REGRESSED"
	}
	return trend
}

func writeComparisonText(w io.Writer, c *Comparison) error {
	p := &printer{w: w}
	p.f("baseline  %s  %s\n", c.Baseline, c.Baseline.Dir)
	p.f("current   %s  %s\n", c.Current, c.Current.Dir)
	for _, wn := range c.Warnings {
		p.f("warning: %s: compared anyway\n", wn)
	}
	width := len("time to converge")
	for _, ch := range c.Checks {
		width = max(width, len(ch.Name))
	}
	row := func(name, b, cur, change, m string) {
		p.f("%s\n", strings.TrimRight(fmt.Sprintf("  %-*s  %-16s  %-16s  %-8s  %s", width, name, b, cur, change, m), " "))
	}
	p.f("\n")
	row("", "baseline", "current", "change", "")
	for _, f := range c.Figures {
		row(f.Name, f.BaselineText, f.CurrentText, f.Change, mark(f.Trend, f.Breach))
	}
	p.f("\n")
	for _, ch := range c.Checks {
		row(ch.Name, checkText(ch.BaselineVerdict, ch.BaselineViolations), checkText(ch.CurrentVerdict, ch.CurrentViolations), "", mark(ch.Trend, ch.Breach != ""))
	}
	row("verdict", string(c.Verdict.Baseline), string(c.Verdict.Current), "", mark(c.Verdict.Trend, c.Verdict.Breach))
	p.f("\n")
	if c.Regressed() {
		p.f("REGRESSED beyond the tolerance of %s: %s\n", tolText(c.Tolerance), strings.Join(c.Breaches, "; "))
	} else {
		p.f("no regression beyond the tolerance of %s\n", tolText(c.Tolerance))
	}
	return p.err
}

func mdMark(trend string, breach bool) string {
	switch {
	case breach:
		return "❌ regressed"
	case trend == TrendWorse:
		return "worse"
	case trend == TrendBetter:
		return "better"
	}
	return ""
}

func writeComparisonMarkdown(w io.Writer, c *Comparison) error {
	p := &printer{w: w}
	head := "✅ no regression"
	if c.Regressed() {
		head = "❌ regressed"
	}
	p.f("## %s · %s vs baseline (tolerance %s)\n\n", head, mdText(c.Current.String()), tolText(c.Tolerance))
	p.f("Baseline: %s  \nCurrent: %s\n\n", mdText(c.Baseline.String())+" "+mdCode(c.Baseline.Dir), mdText(c.Current.String())+" "+mdCode(c.Current.Dir))
	for _, wn := range c.Warnings {
		p.f("> ⚠️ %s: compared anyway\n", mdText(wn))
	}
	if len(c.Warnings) > 0 {
		p.f("\n")
	}
	if c.Regressed() {
		p.f("**Regressed:**\n\n")
		for _, b := range c.Breaches {
			p.f("- %s\n", mdText(b))
		}
		p.f("\n")
	}
	p.f("| figure | baseline | current | change | |\n|---|---:|---:|---:|---|\n")
	for _, f := range c.Figures {
		p.f("| %s | %s | %s | %s | %s |\n", mdCell(f.Name), mdCell(f.BaselineText), mdCell(f.CurrentText), mdCell(f.Change), mdMark(f.Trend, f.Breach))
	}
	p.f("\n| invariant | baseline | current | | summary |\n|---|---|---|---|---|\n")
	for _, ch := range c.Checks {
		p.f("| %s | %s | %s | %s | %s |\n", mdCell(ch.Name), checkText(ch.BaselineVerdict, ch.BaselineViolations),
			checkText(ch.CurrentVerdict, ch.CurrentViolations), mdMark(ch.Trend, ch.Breach != ""), mdCell(ch.Summary))
	}
	p.f("| **verdict** | %s | %s | %s | |\n", c.Verdict.Baseline, c.Verdict.Current, mdMark(c.Verdict.Trend, c.Verdict.Breach))
	return p.err
}
