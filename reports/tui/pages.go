package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// opText is one history record on one line.
func opText(op history.Op) string {
	if op.Index < 0 {
		return op.Error
	}
	return fmt.Sprintf("%9.3fs p%-3d %-6s %s %s %s", float64(op.Time)/1e9, op.Process, op.Type, op.F, op.Key, op.ID) + reports.OpDetail(op)
}

func faultText(w reports.FaultWindow) string {
	until := "never healed"
	if w.Healed() {
		until = secs(w.Stop)
	}
	s := fmt.Sprintf("%-28s %s → %s", w.Label(), secs(w.Start), until)
	var ps []string
	for k, v := range w.Params {
		ps = append(ps, k+": "+v)
	}
	sort.Strings(ps)
	if len(ps) > 0 {
		s += "  (" + strings.Join(ps, ", ") + ")"
	}
	if w.Error != "" {
		s += "  error: " + w.Error
	}
	return s
}

// ---- runs ----

type runsPage struct {
	root    string
	loading bool
	runs    []runSummary
	err     error
	list    list
}

func (p *runsPage) crumb() string { return "runs in " + p.root }

func (p *runsPage) body(e *Explorer, w, h int) []string {
	switch {
	case p.loading:
		return []string{e.st.dim.Render("reading runs…")}
	case p.err != nil:
		return []string{e.st.fail.Render("cannot list runs: " + p.err.Error())}
	case len(p.runs) == 0:
		return []string{"no runs under " + p.root, "", e.st.dim.Render("a run directory holds result.json; `mscli run` records them under .mscli/runs")}
	}
	out := []string{e.st.dim.Render(fmt.Sprintf("  %-16s  %-24s %6s  %-9s %-14s %s", "started", "scenario", "seed", "verdict", "invariants", "directory"))}
	from, to := p.list.window(len(p.runs), h-1)
	for i := from; i < to; i++ {
		r := p.runs[i]
		started := "—"
		if !r.started.IsZero() {
			started = r.started.UTC().Format("2006-01-02 15:04")
		}
		verdict := string(r.verdict)
		vs := e.st.verdict(r.verdict)
		inv := fmt.Sprintf("%d checked", r.total)
		switch {
		case r.failing > 0:
			inv = fmt.Sprintf("%d of %d bad", r.failing, r.total)
		case r.faultFailures > 0:
			inv = "faults failed"
		}
		switch {
		case r.readErr != "":
			verdict, vs, inv = "unreadable", e.st.fail, r.readErr
		case r.total == 0 && strings.Contains(r.runErr, "context canceled"):
			inv = "interrupted"
		case r.total == 0 && r.runErr != "":
			inv = "did not run"
		case r.total == 0:
			inv = "none checked"
		case r.runErr != "":
			inv += " · error"
		}
		mark := verdictSymbol(r.verdict) + " " + strings.ToUpper(verdict)
		line := fmt.Sprintf("%-16s  %-24s %6d  ", started, clip(r.scenario, 24), r.seed) + vs.Render(fit(mark, 9)) + " " + fit(inv, 14) + " " + runName(r.dir)
		out = append(out, e.row(i == p.list.cursor, line, w))
	}
	return out
}

func (p *runsPage) key(e *Explorer, k tea.KeyMsg) tea.Cmd {
	if p.list.handle(k, len(p.runs), e.height-4) {
		return nil
	}
	if key.Matches(k, keys.Open) && p.list.cursor < len(p.runs) {
		cmd, err := e.openRun(p.runs[p.list.cursor].dir)
		if err != nil {
			e.status = err.Error()
		}
		return cmd
	}
	return nil
}

// ---- one run ----

// runPageFaults is how many failed faults a run's page lists.
const runPageFaults = 4

type runPage struct {
	run  *openRun
	list list
}

func (p *runPage) crumb() string {
	return fmt.Sprintf("%s seed %d", p.run.run.Scenario, p.run.run.Seed)
}

func (p *runPage) body(e *Explorer, w, h int) []string {
	r := p.run.run
	s := e.st
	v := reports.RunVerdict(r)
	started := "—"
	if !r.Started.IsZero() {
		started = r.Started.UTC().Format("2006-01-02 15:04:05 MST")
	}
	out := []string{
		s.verdict(v).Render(verdictSymbol(v)+" "+strings.ToUpper(string(v))) + "  " + s.bold.Render(r.Scenario) +
			s.dim.Render(fmt.Sprintf(" · seed %d · testbed %s · started %s · wall %s", r.Seed, r.Testbed, started, dur(r.Wall))),
	}
	if len(r.FaultFailures) > 0 {
		// First: a run without its chaos is no pass, whatever its invariants say.
		out = append(out, s.unknown.Render("! "+reports.FaultsHeadline(r.FaultFailures, r.Faults.Planned)+": "+reports.FaultsConsequence(r)))
		for i, f := range r.FaultFailures {
			if i == runPageFaults {
				out = append(out, s.dim.Render(fmt.Sprintf("  … %d more in result.json", len(r.FaultFailures)-i)))
				break
			}
			out = append(out, "  "+s.fail.Render("✗")+" "+f.Line())
		}
	}
	if len(r.Bugs) > 0 {
		out = append(out, "injected bugs: "+strings.Join(r.Bugs, ", "))
	}
	o := r.Ops
	out = append(out, fmt.Sprintf("operations %d invoked · %d ok · %d fail · %d info · %s ops/s · p50 %s · p99 %s",
		o.Invoked, o.Ok, o.Fail, o.Info, rate(o.Rate), dur(o.P50), dur(o.P99)))
	fl := fmt.Sprintf("faults %d planned · %d applied · %d healed", r.Faults.Planned, r.Faults.Applied, r.Faults.Healed)
	if r.Faults.Errors > 0 {
		fl += fmt.Sprintf(" · %d errors", r.Faults.Errors)
	}
	if c := r.Converge; c != nil {
		if c.Converged {
			fl += fmt.Sprintf(" · converged %s after the last heal", dur(c.After))
		} else {
			fl += " · did not converge"
		}
	}
	out = append(out, fl)
	out = append(out, s.dim.Render(recordsLine(p.run)))
	if r.Error != "" {
		out = append(out, s.fail.Render("the run did not complete: "+r.Error))
	}
	out = append(out, "", s.bold.Render("invariants"))
	if len(r.Results) == 0 {
		return append(out, s.dim.Render("  none was checked"))
	}
	nameW := 10
	for _, res := range r.Results {
		nameW = max(nameW, len(res.Name)+2)
	}
	from, to := p.list.window(len(r.Results), h-len(out))
	for i := from; i < to; i++ {
		res := r.Results[i]
		vs := s.verdict(res.Verdict)
		extra := ""
		if n := len(res.Witnesses); n > 0 {
			extra = s.dim.Render(fmt.Sprintf("  %d witnesses", n))
		}
		line := vs.Render(fit(verdictSymbol(res.Verdict)+" "+strings.ToUpper(string(res.Verdict)), 10)) + fit(res.Name, nameW) + res.Summary + extra
		out = append(out, e.row(i == p.list.cursor, line, w))
	}
	return out
}

func recordsLine(r *openRun) string {
	switch {
	case !r.ready:
		return "indexing history.jsonl…"
	case r.histErr != nil:
		return "history unavailable: " + r.histErr.Error()
	}
	s := fmt.Sprintf("history %d records indexed in %s · %d fault windows", r.hist.records(), dur(r.hist.took), len(r.faults))
	if r.hist.malformed > 0 {
		s += fmt.Sprintf(" · %d malformed lines", r.hist.malformed)
	}
	if r.hist.torn {
		s += " · its last line torn (the run was cut short)"
	}
	if r.fErr != nil {
		s += " · faults: " + r.fErr.Error()
	}
	return s + " · t: timeline"
}

func (p *runPage) key(e *Explorer, k tea.KeyMsg) tea.Cmd {
	rs := p.run.run.Results
	if p.list.handle(k, len(rs), e.height-12) {
		return nil
	}
	if key.Matches(k, keys.Open) && p.list.cursor < len(rs) {
		e.push(&invariantPage{run: p.run, res: &rs[p.list.cursor]})
	}
	return nil
}

// ---- one invariant ----

type invariantPage struct {
	run  *openRun
	res  *invariants.Result
	list list
}

func (p *invariantPage) crumb() string { return p.res.Name }

func (p *invariantPage) body(e *Explorer, w, h int) []string {
	s := e.st
	r := p.res
	vs := s.verdict(r.Verdict)
	out := []string{
		vs.Render(verdictSymbol(r.Verdict)+" "+strings.ToUpper(string(r.Verdict))) + "  " + s.bold.Render(r.Name) + " — " + r.Summary,
	}
	facts := fmt.Sprintf("checked %d · violations %d · took %s", r.Checked, r.Violations, dur(r.Elapsed))
	var ms []string
	for k, v := range r.Measures {
		if strings.HasSuffix(k, "_ns") {
			ms = append(ms, strings.TrimSuffix(k, "_ns")+" "+dur(time.Duration(v)))
		} else {
			ms = append(ms, fmt.Sprintf("%s %d", k, v))
		}
	}
	sort.Strings(ms)
	if len(ms) > 0 {
		facts += " · " + strings.Join(ms, " · ")
	}
	out = append(out, s.dim.Render(facts), "")
	if len(r.Witnesses) == 0 {
		if r.Verdict == invariants.Fail {
			return append(out, "no witness was kept")
		}
		return append(out, s.dim.Render("no witnesses: nothing violated it"))
	}
	head := fmt.Sprintf("witnesses (%d kept", len(r.Witnesses))
	if r.Violations > len(r.Witnesses) {
		head += fmt.Sprintf(" of %d violations", r.Violations)
	}
	out = append(out, s.bold.Render(head+")"))
	from, to := p.list.window(len(r.Witnesses), h-len(out))
	for i := from; i < to; i++ {
		wt := r.Witnesses[i]
		var about []string
		if wt.ID != "" {
			about = append(about, "op "+wt.ID)
		}
		if wt.Key != "" {
			about = append(about, "key "+wt.Key)
		}
		if len(wt.Faults) > 0 {
			about = append(about, fmt.Sprintf("%d faults active", len(wt.Faults)))
		}
		tail := s.dim.Render("  " + strings.Join(about, " · "))
		note := clip(fmt.Sprintf("%d. %s", i+1, wt.Note), max(w-4-len(strings.Join(about, " · "))-2, 20))
		out = append(out, e.row(i == p.list.cursor, note+tail, w))
	}
	return out
}

func (p *invariantPage) key(e *Explorer, k tea.KeyMsg) tea.Cmd {
	ws := p.res.Witnesses
	if p.list.handle(k, len(ws), e.height-8) {
		return nil
	}
	if key.Matches(k, keys.Open) && p.list.cursor < len(ws) {
		e.push(&contextPage{run: p.run, name: fmt.Sprintf("witness %d", p.list.cursor+1), wit: &ws[p.list.cursor]})
	}
	return nil
}
