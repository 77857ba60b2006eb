package reports

import (
	"math"
	"slices"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/stats"
	"github.com/mscli/mscli/invariants"
)

// DefaultBucket is the width of a timeline bucket. One second makes a bucket's count
// read directly as operations per second.
const DefaultBucket = time.Second

// Timeline is a run's operations bucketed over the run's time axis, with the fault
// windows on the same axis. The HTML report draws it as charts and the terminal UI as
// sparklines, so both show the same numbers.
type Timeline struct {
	Bucket  time.Duration
	End     int64 // ns since the run's start: the last op or fault record
	Buckets []Bucket
	Faults  []FaultWindow
	Totals  Bucket // the whole run; its P50/P99 are over every completion
}

// Bucket counts what happened in [Start, Start+Bucket). Completions are counted in
// the bucket of their completion time, and so is their latency: a bucket's latency is
// that of the operations that finished in it, which is what a client saw then.
type Bucket struct {
	Start int64         `json:"start"`
	Width time.Duration `json:"width_ns"`
	history.Counts
	// P50 and P99 are nearest-rank percentiles of the completions' latency (invoke to
	// completion of the same process); zero when nothing completed.
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
}

// Rate converts a count of this bucket into a rate per second.
func (b Bucket) Rate(n int) float64 {
	if b.Width <= 0 {
		return 0
	}
	return float64(n) / b.Width.Seconds()
}

// FaultWindow is one fault from its start record to its heal (stop) record.
type FaultWindow struct {
	Fault  string            `json:"fault"`
	Target string            `json:"target"`
	Params map[string]string `json:"params,omitempty"`
	Start  int64             `json:"start"`
	// Stop is the heal time, or -1 if the fault was never healed: it then lasts to the
	// end of the run.
	Stop int64 `json:"stop"`
	// Error is set when starting or healing the fault failed.
	Error string `json:"error,omitempty"`
}

// Healed reports whether a stop record closed the window.
func (w FaultWindow) Healed() bool { return w.Stop >= 0 }

// Until is the end of the window, with an unhealed fault lasting until end.
func (w FaultWindow) Until(end int64) int64 {
	if w.Stop < 0 {
		return max(end, w.Start)
	}
	return w.Stop
}

// Overlaps reports whether the fault was active at any time in [from, to]; an unhealed
// fault stays active forever.
func (w FaultWindow) Overlaps(from, to int64) bool {
	return w.Start <= to && (w.Stop < 0 || w.Stop >= from)
}

// Label names the fault for legends: "latency client->bank".
func (w FaultWindow) Label() string {
	if w.Target == "" {
		return w.Fault
	}
	return w.Fault + " " + w.Target
}

// FaultWindows pairs start and stop records in record order: a stop closes the oldest
// open window of the same fault, target and position in the timeline (the records'
// n, so two overlapping faults of one kind on one target pair up; records written
// before n existed all have 0). A stop without a start is ignored.
func FaultWindows(fs []history.Fault) []FaultWindow {
	type key struct {
		fault, target string
		n             int
	}
	var out []FaultWindow
	open := map[key][]int{}
	for _, f := range fs {
		k := key{f.Fault, f.Target, f.N}
		switch f.Phase {
		case history.Start:
			open[k] = append(open[k], len(out))
			out = append(out, FaultWindow{Fault: f.Fault, Target: f.Target, Params: f.Params, Start: f.Time, Stop: -1, Error: f.Error})
		case history.Stop:
			q := open[k]
			if len(q) == 0 {
				continue
			}
			w := &out[q[0]]
			open[k] = q[1:]
			w.Stop = f.Time
			if f.Error != "" && w.Error == "" {
				w.Error = "heal: " + f.Error
			}
		}
	}
	return out
}

// ActiveFaults returns the windows active at any time in [from, to].
func ActiveFaults(ws []FaultWindow, from, to int64) []FaultWindow {
	var out []FaultWindow
	for _, w := range ws {
		if w.Overlaps(from, to) {
			out = append(out, w)
		}
	}
	return out
}

// TimelineBuilder builds a Timeline in one streaming pass over the history, so a
// run of millions of operations never has to be held as structs: the explorer feeds
// it fields it scanned out of history.jsonl. It keeps counts per bucket and one
// 4-byte latency per completion (for exact percentiles).
//
// Latency pairs a completion with the open invoke of the same process: in a
// Jepsen-style history a process has at most one operation in flight.
type TimelineBuilder struct {
	bucket  int64
	buckets []bucketAcc
	// inflight holds the invoke time of each process's open operation, -1 if none;
	// processes are small dense numbers, so a slice beats a map on the hot path.
	inflight []int64
	far      map[int]int64 // processes too large or negative for inflight
	faults   []history.Fault
	end      int64
}

type bucketAcc struct {
	history.Counts
	lat []uint32 // microseconds
}

// maxDenseProc bounds the slice of in-flight invokes; larger process numbers go to a map.
const maxDenseProc = 1 << 16

// NewTimelineBuilder starts a timeline with buckets of the given width (DefaultBucket
// if ≤ 0).
func NewTimelineBuilder(bucket time.Duration) *TimelineBuilder {
	if bucket <= 0 {
		bucket = DefaultBucket
	}
	return &TimelineBuilder{bucket: int64(bucket)}
}

// AddOp adds one history line.
func (b *TimelineBuilder) AddOp(op history.Op) { b.Op(op.Time, op.Process, op.Type) }

// Op adds one history line given only the fields the timeline needs.
func (b *TimelineBuilder) Op(t int64, proc int, typ history.OpType) {
	if t < 0 {
		t = 0
	}
	b.end = max(b.end, t)
	acc := b.at(t)
	if !acc.Add(typ) {
		if typ == history.Invoke {
			b.setInflight(proc, t)
		}
		return
	}
	if at, ok := b.takeInflight(proc); ok {
		us := (t - at) / 1000
		acc.lat = append(acc.lat, uint32(min(max(us, 0), math.MaxUint32)))
	}
}

func (b *TimelineBuilder) at(t int64) *bucketAcc {
	i := int(t / b.bucket)
	if i >= len(b.buckets) {
		b.buckets = slices.Grow(b.buckets, i+1-len(b.buckets))[:i+1]
	}
	return &b.buckets[i]
}

func (b *TimelineBuilder) setInflight(proc int, t int64) {
	if proc < 0 || proc >= maxDenseProc {
		if b.far == nil {
			b.far = map[int]int64{}
		}
		b.far[proc] = t
		return
	}
	for len(b.inflight) <= proc {
		b.inflight = append(b.inflight, -1)
	}
	b.inflight[proc] = t
}

func (b *TimelineBuilder) takeInflight(proc int) (int64, bool) {
	if proc < 0 || proc >= maxDenseProc {
		t, ok := b.far[proc]
		delete(b.far, proc)
		return t, ok
	}
	if proc >= len(b.inflight) || b.inflight[proc] < 0 {
		return 0, false
	}
	t := b.inflight[proc]
	b.inflight[proc] = -1
	return t, true
}

// AddFault adds one fault record; records must come in file order.
func (b *TimelineBuilder) AddFault(f history.Fault) {
	b.faults = append(b.faults, f)
	b.end = max(b.end, f.Time)
}

// Timeline computes the percentiles and returns the timeline. The builder must not be
// used afterwards: the latencies are sorted in place.
func (b *TimelineBuilder) Timeline() *Timeline {
	tl := &Timeline{Bucket: time.Duration(b.bucket), End: b.end, Faults: FaultWindows(b.faults)}
	if n := int(b.end/b.bucket) + 1; len(b.buckets) < n && (len(b.buckets) > 0 || len(b.faults) > 0) {
		// Faults after the last operation still get an axis to be drawn on.
		b.buckets = append(b.buckets, make([]bucketAcc, n-len(b.buckets))...)
	}
	tl.Buckets = make([]Bucket, len(b.buckets))
	total := 0
	for i := range b.buckets {
		total += len(b.buckets[i].lat)
	}
	all := make([]uint32, 0, total)
	for i := range b.buckets {
		a := &b.buckets[i]
		slices.Sort(a.lat)
		all = append(all, a.lat...)
		tl.Buckets[i] = Bucket{Start: int64(i) * b.bucket, Width: time.Duration(b.bucket), Counts: a.Counts,
			P50: percentile(a.lat, 0.50), P99: percentile(a.lat, 0.99)}
		tl.Totals.Counts = tl.Totals.Plus(a.Counts)
	}
	slices.Sort(all)
	tl.Totals.Width = time.Duration(len(tl.Buckets)) * tl.Bucket
	tl.Totals.P50, tl.Totals.P99 = percentile(all, 0.50), percentile(all, 0.99)
	return tl
}

// percentile is the nearest-rank percentile of sorted microsecond latencies.
func percentile(sorted []uint32, p float64) time.Duration {
	return time.Duration(stats.NearestRank(sorted, p)) * time.Microsecond
}

// BuildTimeline buckets a recorded run held in memory.
func BuildTimeline(in *invariants.Input, bucket time.Duration) *Timeline {
	b := NewTimelineBuilder(bucket)
	recs := in.Columns()
	for i := range recs.NumOps() {
		b.Op(recs.OpTime(i), recs.OpProcess(i), recs.OpType(i))
	}
	for _, f := range in.Faults {
		b.AddFault(f)
	}
	return b.Timeline()
}

// Resample merges buckets so that at most n remain, for a chart narrower than the
// run (a terminal line). Counts add up; P50 and P99 of a merged bucket are the largest
// of its parts — an upper bound, since percentiles do not merge — which keeps a latency
// spike visible however narrow the chart is.
func (tl *Timeline) Resample(n int) []Bucket {
	if n <= 0 || len(tl.Buckets) <= n {
		return slices.Clone(tl.Buckets)
	}
	out := make([]Bucket, n)
	for i := range out {
		lo, hi := i*len(tl.Buckets)/n, (i+1)*len(tl.Buckets)/n
		m := Bucket{Start: tl.Buckets[lo].Start}
		for _, b := range tl.Buckets[lo:hi] {
			m.Width += b.Width
			m.Counts = m.Plus(b.Counts)
			m.P50 = max(m.P50, b.P50)
			m.P99 = max(m.P99, b.P99)
		}
		out[i] = m
	}
	return out
}
