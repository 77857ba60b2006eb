package tui

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// contextLines is how many history records the explorer shows either side of an
// operation's lines.
const contextLines = 10

// searchLimit bounds the records a search lists.
const searchLimit = 1000

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

// ---- the history around an operation ----

// contextPage shows the history records around a witness's operation (or a search
// hit), decoded from the index on first draw, with the faults active meanwhile.
type contextPage struct {
	run    *openRun
	name   string
	wit    *invariants.Witness // nil for a search hit
	record int                 // the search hit, when wit is nil
	lines  []string
	built  bool
	scroll int
}

func (p *contextPage) crumb() string { return p.name }

func (p *contextPage) build(e *Explorer) {
	s := e.st
	r := p.run
	var out []string
	var targets []int
	var missing []string
	if p.wit != nil {
		out = append(out, s.bold.Render(p.wit.Note))
		var about []string
		if p.wit.ID != "" {
			about = append(about, "op "+p.wit.ID)
		}
		if p.wit.Key != "" {
			about = append(about, "key "+p.wit.Key)
		}
		if p.wit.View != "" {
			about = append(about, "view "+p.wit.View)
		}
		out = append(out, s.dim.Render(strings.Join(about, " · ")), "")
		for _, op := range p.wit.Ops {
			if r.hist == nil {
				continue
			}
			if k, ok := r.hist.record(op.Index); ok {
				targets = append(targets, k)
			} else {
				missing = append(missing, fmt.Sprintf("i=%d", op.Index))
			}
		}
	} else {
		targets = []int{p.record}
	}
	sort.Ints(targets)

	var from, to int64 = math.MaxInt64, math.MinInt64
	span := func(t int64) { from, to = min(from, t), max(to, t) }
	if p.wit != nil {
		for _, op := range p.wit.Ops {
			span(op.Time)
		}
	}
	head := out
	out = nil
	switch {
	case r.histErr != nil:
		out = append(out, s.fail.Render("history unavailable: "+r.histErr.Error()))
	case len(targets) == 0 && p.wit != nil && len(p.wit.Ops) == 0:
		out = append(out, s.dim.Render("this witness names no history record (an id only the system knows)"))
	case len(targets) == 0:
		out = append(out, s.fail.Render("the witness's records are not in history.jsonl: "+strings.Join(missing, ", ")))
	default:
		// ±contextLines around each target, merged where they touch.
		type rng struct{ a, b int }
		var rs []rng
		for _, t := range targets {
			a, b := max(t-contextLines, 0), min(t+contextLines+1, r.hist.records())
			if n := len(rs); n > 0 && a <= rs[n-1].b {
				rs[n-1].b = max(rs[n-1].b, b)
				continue
			}
			rs = append(rs, rng{a, b})
		}
		isTarget := map[int]bool{}
		for _, t := range targets {
			isTarget[t] = true
		}
		out = append(out, s.bold.Render(fmt.Sprintf("history.jsonl, ±%d records around the operation", contextLines)))
		for i, x := range rs {
			if i > 0 {
				out = append(out, s.dim.Render("       ⋮"))
			}
			ops, err := r.hist.read(x.a, x.b)
			if err != nil {
				out = append(out, s.fail.Render(err.Error()))
				break
			}
			for j, op := range ops {
				k := x.a + j
				text := fmt.Sprintf("#%-7d %s", k, opText(op))
				if isTarget[k] {
					out = append(out, s.active.Render("▶ "+text))
					if p.wit == nil {
						span(op.Time)
					}
				} else {
					out = append(out, "  "+text)
				}
			}
		}
		if len(missing) > 0 {
			out = append(out, s.fail.Render("not in history.jsonl: "+strings.Join(missing, ", ")))
		}
	}

	hl := out
	out = head
	if from <= to {
		out = append(out, s.bold.Render(fmt.Sprintf("faults active between %s and %s", secs(from), secs(to))))
		var active []reports.FaultWindow
		if len(r.faults) > 0 {
			active = reports.ActiveFaults(r.faults, from, to)
		} else if p.wit != nil {
			// No faults.jsonl: the witness still says which were active.
			for _, f := range p.wit.Faults {
				active = append(active, reports.FaultWindow{Fault: f.Fault, Target: f.Target, Params: f.Params, Start: f.Time, Stop: -1})
			}
		}
		if len(active) == 0 {
			out = append(out, s.dim.Render("  none"))
		}
		for _, fw := range active {
			out = append(out, "  "+faultText(fw))
		}
		out = append(out, "")
	}
	if p.wit != nil && len(p.wit.Effects) > 0 {
		out = append(out, s.bold.Render("effects"))
		for _, ef := range p.wit.Effects {
			out = append(out, "  "+effectText(ef))
		}
		out = append(out, "")
	}
	out = append(out, hl...)
	p.lines = out
	p.built = true
}

func effectText(ef history.Effect) string {
	parts := []string{ef.Service + "/" + ef.View}
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+" "+v)
		}
	}
	if ef.Kind != "" {
		parts = append(parts, ef.Kind)
	}
	add("key", ef.Key)
	add("id", ef.ID)
	if ef.Amount != 0 {
		add("amount", fmt.Sprint(ef.Amount))
	}
	if ef.Seq != 0 {
		add("seq", fmt.Sprint(ef.Seq))
	}
	if ef.Pos != 0 {
		add("pos", fmt.Sprint(ef.Pos))
	}
	if ef.Value != nil {
		add("value", fmt.Sprint(*ef.Value))
	}
	add("state", ef.State)
	if ef.Time != 0 {
		add("at", secs(ef.Time))
	}
	return strings.Join(parts, " ")
}

func (p *contextPage) body(e *Explorer, w, h int) []string {
	if !p.run.ready {
		return []string{e.st.dim.Render("indexing history.jsonl…")}
	}
	if !p.built {
		p.build(e)
	}
	p.scroll = min(max(p.scroll, 0), max(len(p.lines)-h, 0))
	return p.lines[p.scroll:min(p.scroll+h, len(p.lines))]
}

func (p *contextPage) key(e *Explorer, k tea.KeyMsg) tea.Cmd {
	h := e.height - 3
	switch {
	case key.Matches(k, keys.Up):
		p.scroll--
	case key.Matches(k, keys.Down):
		p.scroll++
	case key.Matches(k, keys.PageUp):
		p.scroll -= h
	case key.Matches(k, keys.PageDown):
		p.scroll += h
	case key.Matches(k, keys.Home):
		p.scroll = 0
	case key.Matches(k, keys.End):
		p.scroll = len(p.lines)
	}
	return nil
}

// ---- timeline ----

type timelinePage struct{ run *openRun }

func (p *timelinePage) crumb() string { return "timeline" }

func (p *timelinePage) body(e *Explorer, w, h int) []string {
	s := e.st
	r := p.run
	switch {
	case !r.ready:
		return []string{s.dim.Render("indexing history.jsonl…")}
	case r.tl == nil || len(r.tl.Buckets) == 0:
		return []string{s.dim.Render("no operations recorded")}
	}
	tl := r.tl
	const labelW = 14
	cols := max(w-labelW-1, 10)
	bs := tl.Resample(cols)
	span := time.Duration(int64(len(tl.Buckets)) * int64(tl.Bucket))
	okv, errv, p99 := make([]float64, cols), make([]float64, cols), make([]float64, cols)
	for c := range cols {
		b := bs[c*len(bs)/cols]
		okv[c], errv[c] = b.Rate(b.Completed()), b.Rate(b.Errors())
		p99[c] = math.NaN()
		if b.Completed() > 0 {
			p99[c] = float64(b.P99) / 1e6
		}
	}
	perCol := span / time.Duration(cols)
	out := []string{s.dim.Render(fmt.Sprintf("%s of run · 1 column ≈ %s · %d invoked · %d ok · %d fail · %d info · p50 %s · p99 %s",
		dur(span), dur(perCol), tl.Totals.Invoked, tl.Totals.Ok, tl.Totals.Fail, tl.Totals.Info, dur(tl.Totals.P50), dur(tl.Totals.P99))), ""}
	plot := func(name string, top string, vals []float64, rows int, render func(...string) string) {
		for i, row := range barRows(vals, rows, 0) {
			label := ""
			switch i {
			case 0:
				label = name
			case 1:
				label = s.dim.Render(top)
			}
			out = append(out, fit(label, labelW)+" "+render(row))
		}
	}
	plot("ops/s", "max "+rate(maxOf(okv, 0)), okv, 4, s.ok.Render)
	plot("errors/s", "max "+rate(maxOf(errv, 0)), errv, 3, s.fail.Render)
	plot("p99 latency", "max "+dur(time.Duration(maxOf(p99, 0)*1e6)), p99, 3, s.accent.Render)

	// The time axis, with a label about every 12 columns.
	axis := []rune(strings.Repeat("─", cols))
	labels := []rune(strings.Repeat(" ", cols+8))
	step := max(cols/6, 8)
	for c := 0; c < cols; c += step {
		axis[c] = '┬'
		for i, ch := range dur(time.Duration(c) * perCol) {
			if c+i < len(labels) {
				labels[c+i] = ch
			}
		}
	}
	out = append(out, fit("", labelW)+" "+s.dim.Render(string(axis)), fit("", labelW)+" "+s.dim.Render(strings.TrimRight(string(labels), " ")))

	if len(r.faults) > 0 {
		out = append(out, s.bold.Render("faults"))
		for _, fw := range r.faults {
			cells := []rune(strings.Repeat("·", cols))
			for c := range cols {
				t0, t1 := int64(time.Duration(c)*perCol), int64(time.Duration(c+1)*perCol)
				if fw.Start < t1 && fw.Until(tl.End) >= t0 {
					cells[c] = '█'
				}
			}
			out = append(out, fit(fw.Label(), labelW)+" "+s.active.Render(string(cells)))
		}
	}
	return out
}

func (p *timelinePage) key(*Explorer, tea.KeyMsg) tea.Cmd { return nil }

// ---- search ----

type searchPage struct {
	run   *openRun
	query string
	done  bool
	hits  []int
	exact bool
	err   error
	list  list
	cache map[int]history.Op
}

// searchMsg carries a search's result.
type searchMsg struct {
	page  *searchPage
	hits  []int
	exact bool
	err   error
}

func (p *searchPage) crumb() string { return "/" + p.query }

// start returns the command that searches, once the run's index is ready.
func (p *searchPage) start() tea.Cmd {
	r, q := p.run, p.query
	ready := r.readyCh
	return func() tea.Msg {
		<-ready
		if r.hist == nil {
			return searchMsg{page: p, err: fmt.Errorf("history unavailable: %v", r.histErr)}
		}
		hits, exact, err := r.hist.search(q, searchLimit)
		return searchMsg{page: p, hits: hits, exact: exact, err: err}
	}
}

func (p *searchPage) body(e *Explorer, w, h int) []string {
	s := e.st
	switch {
	case !p.done:
		return []string{s.dim.Render("searching history.jsonl for " + p.query + "…")}
	case p.err != nil:
		return []string{s.fail.Render(p.err.Error())}
	case len(p.hits) == 0:
		return []string{fmt.Sprintf("no record has the id or key %q, nor one starting with it", p.query)}
	}
	head := fmt.Sprintf("%d records whose id or key is %q", len(p.hits), p.query)
	if !p.exact {
		head = fmt.Sprintf("no exact match; %d records whose id or key starts with %q", len(p.hits), p.query)
	}
	if len(p.hits) == searchLimit {
		head += fmt.Sprintf(" (the first %d)", searchLimit)
	}
	out := []string{s.bold.Render(head)}
	if p.cache == nil {
		p.cache = map[int]history.Op{}
	}
	from, to := p.list.window(len(p.hits), h-1)
	for i := from; i < to; i++ {
		k := p.hits[i]
		op, ok := p.cache[k]
		if !ok {
			ops, err := p.run.hist.read(k, k+1)
			if err != nil || len(ops) == 0 {
				op = history.Op{Index: -1, Error: fmt.Sprintf("record %d unreadable: %v", k, err)}
			} else {
				op = ops[0]
			}
			p.cache[k] = op
		}
		out = append(out, e.row(i == p.list.cursor, fmt.Sprintf("#%-7d %s", k, opText(op)), w))
	}
	return out
}

func (p *searchPage) key(e *Explorer, k tea.KeyMsg) tea.Cmd {
	if p.list.handle(k, len(p.hits), e.height-4) {
		return nil
	}
	if key.Matches(k, keys.Open) && p.list.cursor < len(p.hits) {
		rec := p.hits[p.list.cursor]
		e.push(&contextPage{run: p.run, name: fmt.Sprintf("#%d", rec), record: rec})
	}
	return nil
}
