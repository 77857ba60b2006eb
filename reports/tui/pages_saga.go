package tui

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
)

// sagaOffer is a page that can show the saga timelines of what it shows (a saga
// witness, or the witness under the cursor): `s` opens them and the key line lists
// `s` only there.
type sagaOffer interface {
	sagaWitness() (name string, w *invariants.Witness)
}

func (p *contextPage) sagaWitness() (string, *invariants.Witness) { return p.name, p.wit }

func (p *invariantPage) sagaWitness() (string, *invariants.Witness) {
	if p.list.cursor >= len(p.res.Witnesses) {
		return "", nil
	}
	return fmt.Sprintf("witness %d", p.list.cursor+1), &p.res.Witnesses[p.list.cursor]
}

// offeredSagas are the sagas the page offers to show, if any.
func offeredSagas(p page) []string {
	if o, ok := p.(sagaOffer); ok {
		if _, w := o.sagaWitness(); w != nil {
			return reports.SagasOf(w)
		}
	}
	return nil
}

// openSaga pushes the saga page of the top page's witness and returns the command that
// reads its records.
func (e *Explorer) openSaga() tea.Cmd {
	o, ok := e.top().(sagaOffer)
	r := e.currentRun()
	if !ok || r == nil {
		e.status = "no saga here: s shows the sagas of a witness whose effects name one"
		return nil
	}
	name, w := o.sagaWitness()
	if w == nil || len(reports.SagasOf(w)) == 0 {
		e.status = "this witness names no saga: its effects carry none"
		return nil
	}
	sp := &sagaPage{run: r, name: name, wit: w, sagas: reports.SagasOf(w)}
	e.push(sp)
	return sp.start()
}

// sagaPage shows each saga of a witness as rows in time order across the services:
// the client's invoke and completion, every step and compensation the services
// reported, the saga's end, and the faults started and healed meanwhile.
type sagaPage struct {
	run    *openRun
	name   string
	wit    *invariants.Witness
	sagas  []string
	done   bool
	tls    []*reports.SagaTimeline
	notes  []string
	lines  []string
	scroll int
}

// sagaMsg carries a saga page's timelines, built in the background.
type sagaMsg struct {
	page  *sagaPage
	tls   []*reports.SagaTimeline
	notes []string
}

func (p *sagaPage) crumb() string {
	if len(p.sagas) == 1 {
		return "saga " + p.sagas[0]
	}
	return fmt.Sprintf("%d sagas", len(p.sagas))
}

// start returns the command that reads the sagas' records once the run is indexed:
// the client's lines from history.jsonl, every record of theirs in effects.jsonl
// (the witness holds only those that show the violation), and the fault windows.
func (p *sagaPage) start() tea.Cmd {
	r, w, sagas := p.run, p.wit, p.sagas
	ready := r.readyCh
	return func() tea.Msg {
		<-ready
		var notes []string
		effects, err := sagaEffects(filepath.Join(r.dir, effectsFile), sagas)
		if err != nil {
			notes = append(notes, "effects.jsonl: "+err.Error()+"; the witness's effects only")
		}
		effects = append(append([]history.Effect(nil), w.Effects...), effects...)
		more, err := sagaOps(r.hist, sagas)
		if err != nil {
			notes = append(notes, "history.jsonl: "+err.Error())
		}
		ops := append(append([]history.Op(nil), w.Ops...), more...)
		msg := sagaMsg{page: p, notes: notes}
		for _, s := range sagas {
			msg.tls = append(msg.tls, reports.BuildSaga(s, reports.SagaInput{Effects: effects, Ops: ops, Faults: r.faults, Active: w.Faults}))
		}
		return msg
	}
}

// sagaEffects streams an effects file and returns the records that mention one of
// the sagas by name (BuildSaga keeps those of each).
func sagaEffects(path string, sagas []string) ([]history.Effect, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("not recorded")
		}
		return nil, err
	}
	defer f.Close()
	needles := make([][]byte, len(sagas))
	for i, s := range sagas {
		needles[i] = jsonString(s)
	}
	var out []history.Effect
	var in history.Interner
	br := bufio.NewReaderSize(f, 1<<20)
	for {
		line, rerr := br.ReadSlice('\n')
		if errors.Is(rerr, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it whole.
			long := append([]byte(nil), line...)
			for errors.Is(rerr, bufio.ErrBufferFull) {
				line, rerr = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		for _, nd := range needles {
			if bytes.Contains(line, nd) {
				var e history.Effect
				if in.DecodeEffect(bytes.TrimSpace(line), &e) == nil {
					out = append(out, e)
				}
				break
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return out, nil
			}
			return out, rerr
		}
	}
}

// sagaOps are the history records of the sagas' ids (the client's requests), found
// in one pass over the file.
func sagaOps(h *historyIndex, sagas []string) ([]history.Op, error) {
	if h == nil {
		return nil, errors.New("not indexed")
	}
	needles := make([][]byte, len(sagas))
	for i, s := range sagas {
		needles[i] = append([]byte(`"id":`), jsonString(s)...)
	}
	hits, err := h.find(needles, searchLimit)
	if err != nil {
		return nil, err
	}
	var out []history.Op
	for _, k := range hits {
		ops, err := h.read(k, k+1)
		if err != nil {
			return out, err
		}
		out = append(out, ops...)
	}
	return out, nil
}

func (p *sagaPage) build(e *Explorer) {
	s := e.st
	out := []string{s.bold.Render(p.wit.Note), s.dim.Render(p.name + " · its sagas across the services, in time order on the run's clock"), ""}
	for _, n := range p.notes {
		out = append(out, s.info.Render(n))
	}
	for i, tl := range p.tls {
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, s.bold.Render("saga "+tl.Saga)+s.dim.Render(" · "+sagaFacts(tl)))
		if svcs := sagaServices(tl); len(svcs) > 0 {
			out = append(out, s.dim.Render("across "+strings.Join(svcs, ", ")))
		}
		rows := tl.Rows()
		if len(rows) == 0 {
			out = append(out, s.dim.Render("  no record of it"))
			continue
		}
		lw, kw := reports.RowWidths(rows)
		for _, r := range rows {
			out = append(out, sagaRowStyle(s, r).Render(r.Text(lw, kw)))
		}
	}
	p.lines = out
}

// sagaFacts sums a saga up in one line: its end, its request.
func sagaFacts(tl *reports.SagaTimeline) string {
	var f []string
	switch {
	case tl.End != "":
		f = append(f, "ends "+tl.End)
	default:
		f = append(f, "no end reported")
	}
	if tl.Compensated() {
		f = append(f, "compensated")
	}
	if rq := tl.Request; rq != nil {
		if rq.Done != nil {
			f = append(f, fmt.Sprintf("request %s %s after %s", rq.Invoke.F, rq.Done.Type, dur(time.Duration(rq.Done.Time-rq.Invoke.Time))))
		} else {
			f = append(f, "request "+rq.Invoke.F+" never completed")
		}
	}
	return strings.Join(f, " · ")
}

// sagaServices are the services that reported the saga's records, in the order
// they first did.
func sagaServices(tl *reports.SagaTimeline) []string {
	var svcs []string
	for _, l := range tl.Lanes {
		if l != reports.ClientLane {
			svcs = append(svcs, l)
		}
	}
	return svcs
}

func sagaRowStyle(s styles, r reports.SagaRow) lipgloss.Style {
	switch r.What {
	case reports.FaultLane:
		return s.info
	case reports.SagaUndo:
		return s.active
	case reports.SagaClient:
		return s.accent
	case reports.SagaEnd:
		switch state := strings.TrimPrefix(r.Detail, "state "); {
		case state == history.StateApplied:
			return s.ok
		case history.Terminal(state):
			return s.info // cancelled
		}
		return s.fail // no end yet
	}
	return lipgloss.Style{}
}

func (p *sagaPage) body(e *Explorer, w, h int) []string {
	if !p.done {
		return []string{e.st.dim.Render("reading the saga's records…")}
	}
	if p.lines == nil {
		p.build(e)
	}
	p.scroll = min(max(p.scroll, 0), max(len(p.lines)-h, 0))
	return p.lines[p.scroll:min(p.scroll+h, len(p.lines))]
}

func (p *sagaPage) key(e *Explorer, k tea.KeyMsg) tea.Cmd {
	scrollKey(&p.scroll, len(p.lines), k, e.height-3)
	return nil
}
