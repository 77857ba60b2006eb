package tui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/mscli/mscli/history"
)

// searchLimit bounds the records a search lists.
const searchLimit = 1000

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
