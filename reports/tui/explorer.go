package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// ExplorerOptions configure an explorer.
type ExplorerOptions struct {
	// Renderer makes the styles; nil is lipgloss's default renderer.
	Renderer *lipgloss.Renderer
	// Width and Height are the screen size until the terminal reports it (100×30).
	Width, Height int
}

// keyMap is every key of the explorer; `?` shows them all.
type keyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
	Open, Back, Search, Timeline, Saga    key.Binding
	Help, Quit                            key.Binding
}

var keys = keyMap{
	Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
	Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
	PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
	PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d", " "), key.WithHelp("pgdn", "page down")),
	Home:     key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "first")),
	End:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "last")),
	Open:     key.NewBinding(key.WithKeys("enter", "right", "l"), key.WithHelp("enter", "open")),
	Back:     key.NewBinding(key.WithKeys("esc", "left", "h", "backspace"), key.WithHelp("esc", "back")),
	Search:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search op id or key")),
	Timeline: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "timeline")),
	Saga:     key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "saga timeline")),
	Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "keys")),
	Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
}

// ShortHelp and FullHelp make keyMap a help.KeyMap.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Back, k.Search, k.Timeline, k.Saga, k.Help, k.Quit}
}

func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
		{k.Open, k.Back, k.Search, k.Timeline, k.Saga, k.Help, k.Quit},
	}
}

// page is one screen of the explorer; the explorer keeps a stack of them and esc pops.
type page interface {
	// crumb names the page in the breadcrumb line.
	crumb() string
	// body draws the page in w×h cells.
	body(e *Explorer, w, h int) []string
	// key handles a key the explorer did not; it may push pages and return commands.
	key(e *Explorer, k tea.KeyMsg) tea.Cmd
}

// Explorer browses recorded runs: the runs under a root, a run's invariants, a failing
// invariant's witnesses, the history around a witness with the faults active then,
// a saga witness's saga across its services (s), and the run's timeline. Build it
// with NewExplorer.
type Explorer struct {
	st        styles
	help      help.Model
	width     int
	height    int
	stack     []page
	runs      map[string]*openRun
	showHelp  bool
	searching bool
	input     textinput.Model
	status    string
	pending   tea.Cmd // Init's command
}

// NewExplorer opens path: a run directory (one with result.json) opens on its
// invariants; any other directory lists the runs below it. Only result.json is read
// here; the history is indexed in the background by Init's command.
func NewExplorer(path string, opts ExplorerOptions) (Explorer, error) {
	if opts.Width <= 0 {
		opts.Width = 100
	}
	if opts.Height <= 0 {
		opts.Height = 30
	}
	e := Explorer{st: newStyles(opts.Renderer), help: help.New(), width: opts.Width, height: opts.Height, runs: map[string]*openRun{}}
	e.help.Styles.ShortKey = e.st.key
	e.help.Styles.FullKey = e.st.key
	e.help.Styles.ShortDesc = e.st.dim
	e.help.Styles.FullDesc = e.st.dim
	e.help.Styles.ShortSeparator = e.st.dim
	e.help.Styles.FullSeparator = e.st.dim
	e.input = textinput.New()
	e.input.Prompt = "/"
	e.input.Placeholder = "op id or key"
	e.input.CharLimit = 200

	st, err := os.Stat(path)
	if err != nil {
		return e, err
	}
	if !st.IsDir() {
		return e, fmt.Errorf("%s is not a directory: give a run directory or a folder of runs", path)
	}
	if isRunDir(path) {
		cmd, err := e.openRun(path)
		if err != nil {
			return e, err
		}
		e.pending = cmd
		return e, nil
	}
	rp := &runsPage{root: path, loading: true}
	e.stack = []page{rp}
	e.pending = func() tea.Msg {
		runs, err := listRuns(path)
		return runsMsg{root: path, runs: runs, err: err}
	}
	return e, nil
}

// runsMsg carries the runs list, read in the background.
type runsMsg struct {
	root string
	runs []runSummary
	err  error
}

// openRun reads a run's result.json, pushes its page and returns the command that
// indexes its records.
func (e *Explorer) openRun(dir string) (tea.Cmd, error) {
	r, ok := e.runs[dir]
	var cmd tea.Cmd
	if !ok {
		var err error
		if r, err = openRunDir(dir); err != nil {
			return nil, err
		}
		e.runs[dir] = r
		bucket := timelineBucket(r.run.Wall)
		cmd = func() tea.Msg { return loadRecords(dir, bucket) }
	}
	e.push(&runPage{run: r})
	return cmd, nil
}

func (e *Explorer) push(p page) { e.stack = append(e.stack, p) }

func (e *Explorer) top() page { return e.stack[len(e.stack)-1] }

// currentRun is the run the top page belongs to, if any.
func (e *Explorer) currentRun() *openRun {
	for i := len(e.stack) - 1; i >= 0; i-- {
		if rp, ok := e.stack[i].(*runPage); ok {
			return rp.run
		}
	}
	return nil
}

// Init starts reading the runs list or the opened run's records.
func (e Explorer) Init() tea.Cmd { return e.pending }

// Update handles one message.
func (e Explorer) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := e.update(msg)
	return e, cmd
}

func (e *Explorer) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		e.width, e.height = max(msg.Width, 20), max(msg.Height, 5)
		e.help.Width = e.width
		return nil
	case runsMsg:
		for _, p := range e.stack {
			if rp, ok := p.(*runsPage); ok && rp.root == msg.root {
				rp.loading, rp.runs, rp.err = false, msg.runs, msg.err
			}
		}
		return nil
	case recordsMsg:
		if r := e.runs[msg.dir]; r != nil && !r.ready {
			r.hist, r.histErr, r.tl, r.faults, r.fErr = msg.hist, msg.hErr, msg.tl, msg.faults, msg.fErr
			r.ready = true
			close(r.readyCh)
		}
		return nil
	case sagaMsg:
		msg.page.done, msg.page.tls, msg.page.notes = true, msg.tls, msg.notes
		return nil
	case searchMsg:
		for _, p := range e.stack {
			if sp, ok := p.(*searchPage); ok && sp == msg.page {
				sp.done, sp.hits, sp.exact, sp.err = true, msg.hits, msg.exact, msg.err
			}
		}
		return nil
	case tea.KeyMsg:
		return e.keyMsg(msg)
	}
	if e.searching {
		var cmd tea.Cmd
		e.input, cmd = e.input.Update(msg)
		return cmd
	}
	return nil
}

func (e *Explorer) keyMsg(k tea.KeyMsg) tea.Cmd {
	if e.searching {
		switch k.Type {
		case tea.KeyEsc:
			e.searching = false
			e.input.Blur()
			return nil
		case tea.KeyEnter:
			e.searching = false
			e.input.Blur()
			q := strings.TrimSpace(e.input.Value())
			r := e.currentRun()
			if q == "" || r == nil {
				return nil
			}
			sp := &searchPage{run: r, query: q}
			e.push(sp)
			return sp.start()
		case tea.KeyCtrlC:
			return tea.Quit
		}
		var cmd tea.Cmd
		e.input, cmd = e.input.Update(k)
		return cmd
	}
	e.status = ""
	if e.showHelp {
		if key.Matches(k, keys.Quit) && k.String() == "ctrl+c" {
			return tea.Quit
		}
		e.showHelp = false
		return nil
	}
	switch {
	case key.Matches(k, keys.Quit):
		return tea.Quit
	case key.Matches(k, keys.Help):
		e.showHelp = true
		return nil
	case key.Matches(k, keys.Back):
		if len(e.stack) > 1 {
			e.stack = e.stack[:len(e.stack)-1]
		}
		return nil
	case key.Matches(k, keys.Search):
		if e.currentRun() == nil {
			e.status = "open a run first: search looks through its history"
			return nil
		}
		e.searching = true
		e.input.SetValue("")
		return e.input.Focus()
	case key.Matches(k, keys.Timeline):
		r := e.currentRun()
		if r == nil {
			e.status = "open a run first: the timeline is a run's"
			return nil
		}
		if _, ok := e.top().(*timelinePage); !ok {
			e.push(&timelinePage{run: r})
		}
		return nil
	case key.Matches(k, keys.Saga):
		return e.openSaga()
	}
	return e.top().key(e, k)
}

// View draws the screen: breadcrumb, page, and the key line (or the search prompt).
func (e Explorer) View() string {
	w, h := e.width, e.height
	var crumbs []string
	for _, p := range e.stack {
		crumbs = append(crumbs, p.crumb())
	}
	head := e.st.title.Render("mscli explore") + e.st.dim.Render(" › ") + strings.Join(crumbs, e.st.dim.Render(" › "))
	// s is listed only where it opens something: a witness that names a saga.
	km := keys
	km.Saga.SetEnabled(len(offeredSagas(e.top())) > 0)
	var body []string
	if e.showHelp {
		body = append([]string{e.st.bold.Render("keys"), ""}, strings.Split(e.help.FullHelpView(km.FullHelp()), "\n")...)
		body = append(body, "", e.st.dim.Render("any key closes this help"))
	} else {
		body = e.top().body(&e, w, h-3)
	}
	var foot string
	switch {
	case e.searching:
		foot = e.input.View()
	case e.status != "":
		foot = e.st.info.Render(e.status)
	default:
		foot = e.help.ShortHelpView(km.ShortHelp())
	}
	var b strings.Builder
	b.WriteString(clip(head, w))
	b.WriteString("\n\n")
	for i := range h - 3 {
		if i < len(body) {
			b.WriteString(strings.TrimRight(clip(body[i], w), " "))
		}
		b.WriteByte('\n')
	}
	b.WriteString(clip(foot, w))
	return b.String()
}

// list is a cursor over n rows that scrolls to keep the cursor in view.
type list struct{ cursor, offset int }

func (l *list) handle(k tea.KeyMsg, n, h int) bool {
	switch {
	case key.Matches(k, keys.Up):
		l.cursor--
	case key.Matches(k, keys.Down):
		l.cursor++
	case key.Matches(k, keys.PageUp):
		l.cursor -= max(h-1, 1)
	case key.Matches(k, keys.PageDown):
		l.cursor += max(h-1, 1)
	case key.Matches(k, keys.Home):
		l.cursor = 0
	case key.Matches(k, keys.End):
		l.cursor = n - 1
	default:
		return false
	}
	l.cursor = min(max(l.cursor, 0), max(n-1, 0))
	return true
}

// window returns the rows [from, to) to draw in h lines.
func (l *list) window(n, h int) (int, int) {
	h = max(h, 1)
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+h {
		l.offset = l.cursor - h + 1
	}
	l.offset = min(max(l.offset, 0), max(n-h, 0))
	return l.offset, min(l.offset+h, n)
}

// row draws a list row with the cursor mark.
func (e *Explorer) row(selected bool, s string, w int) string {
	if selected {
		return e.st.selected.Render(fit("› "+s, w))
	}
	return "  " + s
}

// RunExplorer runs the explorer full-screen on stderr until q.
func RunExplorer(ctx context.Context, path string) error {
	r := lipgloss.NewRenderer(os.Stderr)
	e, err := NewExplorer(path, ExplorerOptions{Renderer: r})
	if err != nil {
		return err
	}
	p := tea.NewProgram(e, tea.WithContext(ctx), tea.WithOutput(os.Stderr), tea.WithAltScreen())
	_, err = p.Run()
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// runName is how a run directory is named on screen: its base name.
func runName(dir string) string { return filepath.Base(filepath.Clean(dir)) }
