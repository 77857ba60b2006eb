package reports

import (
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/mscli/mscli/invariants"
)

// WriteMarkdown writes a GitHub-flavoured Markdown summary for a CI job summary
// ($GITHUB_STEP_SUMMARY): a header with the verdict, the planned faults that failed to
// apply or heal (quoted, right under it), the invariants table, the counts,
// and each failing invariant's first witnesses folded in <details>, so the page stays
// short when everything passes and the evidence is one click away when it does not.
func WriteMarkdown(w io.Writer, r *Run) error {
	p := &printer{w: w}
	v := RunVerdict(r)
	p.f("## %s %s · %s (seed %d)\n\n", verdictIcon(v), strings.ToUpper(string(v)), mdText(r.Scenario), r.Seed)
	if len(r.FaultFailures) > 0 {
		// First: a run without the chaos it planned proves nothing.
		p.f("> ⚠️ **%s**: %s.\n>\n", mdText(FaultsHeadline(r.FaultFailures, r.Faults.Planned)), mdText(FaultsConsequence(r)))
		for _, f := range r.FaultFailures {
			at := "not in the plan"
			if f.Index >= 0 {
				at = "planned at " + f.At.String()
			}
			p.f("> - %s %s (%s): %s: %s\n", mdCode(f.Fault), mdCode(f.Target), at, f.What(), mdText(f.Error))
		}
		p.f("\n")
	}
	failed := 0
	for _, res := range r.Results {
		if res.Verdict != invariants.Pass {
			failed++
		}
	}
	checks := "invariants"
	for _, res := range r.Results {
		if invariants.IsThreshold(res.Name) {
			checks = "invariants and thresholds"
			break
		}
	}
	headline := fmt.Sprintf("all %d %s hold", len(r.Results), checks)
	switch {
	case len(r.Results) == 0:
		headline = "no invariant was checked"
	case failed > 0:
		headline = fmt.Sprintf("%d of %d %s do not hold", failed, len(r.Results), checks)
	}
	p.f("**%s** · testbed %s · %s", headline, mdText(r.Testbed), round(r.Wall))
	if len(r.Bugs) > 0 {
		p.f(" · injected bugs: %s", mdCode(strings.Join(r.Bugs, ", ")))
	}
	p.f("\n\n")
	if r.Error != "" {
		p.f("> **The run did not complete:** %s\n\n", mdText(r.Error))
	} else if r.Incomplete != "" {
		p.f("> **The run is incomplete:** %s\n\n", mdText(r.Incomplete))
	}

	if len(r.Results) > 0 {
		p.f("| | invariant | summary | violations | checked |\n|---|---|---|---:|---:|\n")
		for _, res := range r.Results {
			p.f("| %s | %s | %s | %d | %d |\n", verdictIcon(res.Verdict), mdCell(res.Name), mdCell(res.Summary), res.Violations, res.Checked)
		}
		p.f("\n")
	}

	o := r.Ops
	p.f("**Operations** %d invoked · %d ok · %d fail · %d info · %.1f ops/s · p50 %s · p99 %s  \n",
		o.Invoked, o.Ok, o.Fail, o.Info, o.Rate, round(o.P50), round(o.P99))
	p.f("**Faults** %d planned · %d applied · %d healed", r.Faults.Planned, r.Faults.Applied, r.Faults.Healed)
	if r.Faults.Errors > 0 {
		p.f(" · %d errors", r.Faults.Errors)
	}
	if c := r.Converge; c != nil {
		p.f("  \n**Read models** ")
		if c.Converged {
			p.f("converged %s after the last heal (%d polls)", round(c.After), c.Polls)
		} else {
			p.f("did not converge (%d polls)", c.Polls)
		}
	}
	p.f("\n\n")

	for _, res := range r.Results {
		if res.Verdict != invariants.Fail || len(res.Witnesses) == 0 {
			continue
		}
		shown := min(len(res.Witnesses), WitnessesShown)
		count := plural(res.Violations, "violation")
		if shown < res.Violations {
			count += fmt.Sprintf(", first %d shown", shown)
		}
		p.f("<details><summary>%s %s — %s</summary>\n\n", verdictIcon(res.Verdict), html.EscapeString(res.Name), count)
		for _, wt := range res.Witnesses[:shown] {
			p.f("- %s", mdText(wt.Note))
			var about []string
			if wt.ID != "" {
				about = append(about, "op "+mdCode(wt.ID))
			}
			if wt.Key != "" {
				about = append(about, "key "+mdCode(wt.Key))
			}
			if wt.View != "" {
				about = append(about, "view "+mdText(wt.View))
			}
			if len(about) > 0 {
				p.f(" (%s)", strings.Join(about, ", "))
			}
			p.f("\n")
			var lines []string
			for _, op := range wt.Ops {
				lines = append(lines, opLine(op))
			}
			for _, e := range wt.Effects {
				lines = append(lines, "effect "+EffectLine(e))
			}
			if len(lines) > 0 {
				fence := mdFence(lines)
				p.f("\n  %stext\n", fence)
				for _, l := range lines {
					p.f("  %s\n", l)
				}
				p.f("  %s\n", fence)
			}
			if len(wt.Faults) > 0 {
				p.f("\n  faults active: %s\n", mdText(faultList(wt.Faults)))
			}
			p.f("\n")
		}
		if more := len(res.Witnesses) - shown; more > 0 {
			p.f("… %d more witnesses in result.json\n\n", more)
		}
		p.f("</details>\n\n")
	}
	if r.Dir != "" {
		p.f("Run directory: %s\n", mdCode(r.Dir))
	}
	return p.err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func verdictIcon(v invariants.Verdict) string { return invariants.ByVerdict(v, "✅", "❌", "⚠️") }

// mdEscaper backslash-escapes what GitHub Markdown would otherwise read as emphasis,
// links, code, tables, HTML or entities, so notes and error messages print as
// written. ">" is left alone: it only quotes at the start of a line, where no text of
// ours goes, and "client->bank" should stay readable in the raw file.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, "&", `\&`, "|", `\|`, "~", `\~`, "#", `\#`,
)

func mdText(s string) string {
	return mdEscaper.Replace(strings.Join(strings.Fields(s), " "))
}

// mdCell is text for a table cell: a newline would end the row.
func mdCell(s string) string { return mdText(s) }

// mdCode wraps s in a code span whose backtick run is longer than any inside s.
func mdCode(s string) string {
	ticks := "`"
	for strings.Contains(s, ticks) {
		ticks += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return ticks + pad + s + pad + ticks
}

// mdFence returns a code fence longer than any backtick run in lines.
func mdFence(lines []string) string {
	fence := "```"
	for _, l := range lines {
		for strings.Contains(l, fence) {
			fence += "`"
		}
	}
	return fence
}
