package tui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
	"github.com/mscli/mscli/reports"
	"github.com/mscli/mscli/runner"
)

// Files of a run directory, as the runner writes them.
const (
	resultFile  = runner.ResultFile
	historyFile = runner.HistoryFile
	faultsFile  = runner.FaultsFile
	effectsFile = runner.EffectsFile
)

// runSummary is one line of the runs list: only what result.json's head says.
type runSummary struct {
	dir      string
	scenario string
	seed     int64
	started  time.Time
	verdict  invariants.Verdict
	failing  int
	total    int
	// faultFailures counts the planned faults that failed to apply or heal.
	faultFailures int
	runErr        string
	readErr       string
}

// isRunDir reports whether dir holds a result.json.
func isRunDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, resultFile))
	return err == nil && st.Mode().IsRegular()
}

// listRuns reads the runs under root: every directory below it (two levels at most,
// so both .mscli/runs and .mscli work) that holds a result.json, newest first.
func listRuns(root string) ([]runSummary, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		depth := strings.Count(strings.TrimPrefix(path, root), string(filepath.Separator))
		if isRunDir(path) {
			dirs = append(dirs, path)
			return filepath.SkipDir
		}
		if depth >= 2 || d.Name() == "logs" {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]runSummary, 0, len(dirs))
	for _, dir := range dirs {
		out = append(out, readSummary(dir))
	}
	sort.SliceStable(out, func(a, b int) bool {
		if !out[a].started.Equal(out[b].started) {
			return out[a].started.After(out[b].started)
		}
		return out[a].dir > out[b].dir
	})
	return out, nil
}

func readSummary(dir string) runSummary {
	s := runSummary{dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, resultFile))
	if err != nil {
		s.readErr = err.Error()
		return s
	}
	// Only the head of the record: witnesses are decoded when the run is opened.
	var head struct {
		Scenario string             `json:"scenario"`
		Seed     int64              `json:"seed"`
		Started  time.Time          `json:"started"`
		Verdict  invariants.Verdict `json:"verdict"`
		Error    string             `json:"error"`
		Results  []struct {
			Verdict invariants.Verdict `json:"verdict"`
		} `json:"results"`
		FaultFailures []reports.FaultFailure `json:"fault_failures"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		s.readErr = err.Error()
		return s
	}
	s.scenario, s.seed, s.started, s.verdict, s.runErr = head.Scenario, head.Seed, head.Started, head.Verdict, head.Error
	s.total = len(head.Results)
	s.faultFailures = len(head.FaultFailures)
	// What the reports show (reports.RunVerdict): nothing checked is no pass, nor is a
	// run whose planned faults failed or that could not complete.
	rs := make([]invariants.Result, s.total)
	for i, r := range head.Results {
		rs[i].Verdict = r.Verdict
	}
	s.verdict = reports.RunVerdict(&reports.Run{Verdict: s.verdict, Results: rs, FaultFailures: head.FaultFailures, Error: head.Error})
	for _, r := range head.Results {
		if r.Verdict != invariants.Pass {
			s.failing++
		}
	}
	return s
}

// historyIndex locates the records of history.jsonl without holding them: one byte
// offset per record, built by one scan. A screen of history decodes only its lines.
type historyIndex struct {
	path string
	// starts[k] is the offset of record k; starts[len-1] is the file's size.
	starts []int64
	// byI maps an op's "i" to its record number where they differ (a history not
	// written by mscli's workload, which numbers records from 0 in file order); nil
	// when every record's i is its number.
	byI       map[int64]int
	malformed int
	torn      bool // the file's last line was cut short, and is left out
	took      time.Duration
}

// records is the number of records.
func (h *historyIndex) records() int { return len(h.starts) - 1 }

// record returns the record number of the op numbered i.
func (h *historyIndex) record(i int64) (int, bool) {
	if h.byI != nil {
		k, ok := h.byI[i]
		return k, ok
	}
	return int(i), i >= 0 && i < int64(h.records())
}

var scanSz = 4 << 20

// scanHistory indexes a history file and feeds the timeline in the same pass. Records
// written by history.Writer start with i, t, proc and type in that order (the Op
// struct's field order), so those fields are cut out of the bytes; any other line is
// decoded with encoding/json.
func scanHistory(path string, tb *reports.TimelineBuilder) (*historyIndex, error) {
	began := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := &historyIndex{path: path}
	if st, err := f.Stat(); err == nil {
		h.starts = make([]int64, 0, st.Size()/100+1)
	}
	buf := make([]byte, scanSz)
	var base int64 // file offset of buf[0]
	carry := 0
	for {
		n, rerr := io.ReadFull(f, buf[carry:])
		data := buf[:carry+n]
		eof := errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF)
		if rerr != nil && !eof {
			return nil, rerr
		}
		p := 0
		for {
			nl := bytes.IndexByte(data[p:], '\n')
			if nl < 0 {
				break
			}
			h.add(base+int64(p), data[p:p+nl], tb)
			p += nl + 1
		}
		if eof {
			end := len(data)
			if tail := bytes.TrimSpace(data[p:]); len(tail) > 0 && !json.Valid(tail) {
				// A last line cut short with no newline (a killed run's buffered
				// writer): not a record.
				h.torn, end = true, p
			} else if p < len(data) {
				h.add(base+int64(p), data[p:], tb)
			}
			h.starts = append(h.starts, base+int64(end))
			break
		}
		carry = copy(buf, data[p:])
		base += int64(p)
		if carry == len(buf) { // a line longer than the buffer
			buf = append(buf, make([]byte, len(buf))...)
		}
	}
	h.took = time.Since(began)
	return h, nil
}

func (h *historyIndex) add(off int64, line []byte, tb *reports.TimelineBuilder) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	k := len(h.starts)
	h.starts = append(h.starts, off)
	i, t, proc, typ, err := history.DecodeOpHead(line)
	if err != nil {
		h.malformed++
		i = -1
	}
	if i != int64(k) && h.byI == nil {
		h.byI = make(map[int64]int, k+1)
		for j := range k {
			h.byI[int64(j)] = j
		}
	}
	if h.byI != nil && i >= 0 {
		h.byI[i] = k
	}
	if tb != nil && i >= 0 {
		tb.Op(t, proc, typ)
	}
}

// read decodes records [from, to).
func (h *historyIndex) read(from, to int) ([]history.Op, error) {
	from, to = max(from, 0), min(to, h.records())
	if from >= to {
		return nil, nil
	}
	f, err := os.Open(h.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, h.starts[to]-h.starts[from])
	if _, err := f.ReadAt(buf, h.starts[from]); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	out := make([]history.Op, 0, to-from)
	var in history.Interner
	for k := from; k < to; k++ {
		line := bytes.TrimSpace(buf[h.starts[k]-h.starts[from] : h.starts[k+1]-h.starts[from]])
		var op history.Op
		if err := in.DecodeOp(line, &op); err != nil {
			op = history.Op{Index: -1, Error: fmt.Sprintf("malformed record %d: %v", k, err)}
		}
		out = append(out, op)
	}
	return out, nil
}

// search returns the records whose id or key is q (exact), or, when none is, those
// whose id or key starts with q; at most limit of them.
func (h *historyIndex) search(q string, limit int) (hits []int, exact bool, err error) {
	quoted := jsonString(q)
	exactNeedles := [][]byte{append([]byte(`"id":`), quoted...), append([]byte(`"key":`), quoted...)}
	if hits, err = h.find(exactNeedles, limit); err != nil || len(hits) > 0 {
		return hits, true, err
	}
	open := quoted[:len(quoted)-1] // without the closing quote: a prefix
	prefix := [][]byte{append([]byte(`"id":`), open...), append([]byte(`"key":`), open...)}
	hits, err = h.find(prefix, limit)
	return hits, false, err
}

// jsonString is s as history.Writer writes a string: quoted, with no HTML escaping.
func jsonString(s string) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(s)
	return bytes.TrimSpace(b.Bytes())
}

// find streams the file and returns the records holding any needle, in order.
func (h *historyIndex) find(needles [][]byte, limit int) ([]int, error) {
	f, err := os.Open(h.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	overlap := 0
	for _, n := range needles {
		overlap = max(overlap, len(n)-1)
	}
	buf := make([]byte, scanSz+overlap)
	var base int64
	carry := 0
	seen := map[int]bool{}
	var hits []int
	for {
		n, rerr := io.ReadFull(f, buf[carry:])
		data := buf[:carry+n]
		for _, nd := range needles {
			for p := 0; ; {
				at := bytes.Index(data[p:], nd)
				if at < 0 {
					break
				}
				pos := base + int64(p+at)
				p += at + 1
				k := sort.Search(h.records(), func(k int) bool { return h.starts[k+1] > pos })
				if k < h.records() && !seen[k] {
					seen[k] = true
					hits = append(hits, k)
				}
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
				break
			}
			return nil, rerr
		}
		// Keep the tail: a needle may straddle two reads.
		keep := min(overlap, len(data))
		carry = copy(buf, data[len(data)-keep:])
		base += int64(len(data) - keep)
	}
	sort.Ints(hits)
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}

// openRun is a run the explorer opened: result.json at once, the records when the
// background scan is done.
type openRun struct {
	dir string
	run *reports.Run
	// Filled in by recordsMsg, in Update; readyCh is closed then, so a search running
	// in a command can wait for the index.
	ready   bool
	readyCh chan struct{}
	hist    *historyIndex
	histErr error
	tl      *reports.Timeline
	faults  []reports.FaultWindow
	fErr    error
}

func openRunDir(dir string) (*openRun, error) {
	r, err := reports.ReadFile(filepath.Join(dir, resultFile))
	if err != nil {
		return nil, err
	}
	return &openRun{dir: dir, run: r, readyCh: make(chan struct{})}, nil
}

// recordsMsg carries the result of loading a run's records in the background.
type recordsMsg struct {
	dir    string
	hist   *historyIndex
	hErr   error
	tl     *reports.Timeline
	faults []reports.FaultWindow
	fErr   error
}

// timelineBucket is the explorer timeline's resolution for a run that lasted wall:
// about 200 buckets, between 10ms and reports.DefaultBucket, so a short run is not
// drawn in a handful of wide steps and a long one stays cheap.
func timelineBucket(wall time.Duration) time.Duration {
	if wall <= 0 {
		return reports.DefaultBucket
	}
	return min(max((wall/200).Round(time.Millisecond), 10*time.Millisecond), reports.DefaultBucket)
}

// loadRecords indexes history.jsonl and builds the timeline in one streaming pass,
// and reads faults.jsonl (small: one record per fault start and stop).
func loadRecords(dir string, bucket time.Duration) recordsMsg {
	msg := recordsMsg{dir: dir}
	tb := reports.NewTimelineBuilder(bucket)
	fs, ferr := history.ReadFile[history.Fault](filepath.Join(dir, faultsFile))
	if ferr != nil && !errors.Is(ferr, os.ErrNotExist) {
		msg.fErr = ferr
	}
	for _, f := range fs {
		tb.AddFault(f)
	}
	msg.hist, msg.hErr = scanHistory(filepath.Join(dir, historyFile), tb)
	msg.tl = tb.Timeline()
	msg.faults = msg.tl.Faults
	return msg
}
