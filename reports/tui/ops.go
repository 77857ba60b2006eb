package tui

import (
	"slices"
	"sync"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/stats"
)

// maxLatencies bounds the latencies an OpCounter keeps between two snapshots.
const maxLatencies = 1 << 17

// OpCounter turns history records into OpsMsg for the dashboard: totals, operations
// in flight, and the rate and latency percentiles of the completions since the last
// snapshot. The runner hands it every record (thousands per second); the dashboard
// gets one OpsMsg per snapshot, so its cost does not follow the operation rate. Safe
// for concurrent use; the zero value is ready.
type OpCounter struct {
	mu       sync.Mutex
	counts   history.Counts
	open     map[int]int64 // process → time of its open invoke
	lats     []time.Duration
	last     time.Time
	lastDone int
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Add counts one history record. Latency pairs a completion with its process's open
// invoke: a process has at most one operation in flight.
func (c *OpCounter) Add(op history.Op) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open == nil {
		c.open = map[int]int64{}
	}
	if !c.counts.Add(op.Type) {
		if op.Type == history.Invoke {
			c.open[op.Process] = op.Time
		}
		return
	}
	if t, ok := c.open[op.Process]; ok {
		delete(c.open, op.Process)
		if len(c.lats) < maxLatencies {
			c.lats = append(c.lats, time.Duration(op.Time-t))
		}
	}
}

// Snapshot returns the totals and the rate and latencies since the previous snapshot
// (the first one's rate is 0), and starts a new interval.
func (c *OpCounter) Snapshot() OpsMsg {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := now()
	c.mu.Lock()
	n := c.counts
	m := OpsMsg{Ok: int64(n.Ok), Fail: int64(n.Fail), Info: int64(n.Info), InFlight: int64(n.InFlight())}
	done := n.Completed()
	lats := c.lats
	c.lats = make([]time.Duration, 0, len(lats))
	last, lastDone := c.last, c.lastDone
	c.last, c.lastDone = t, done
	c.mu.Unlock()

	if !last.IsZero() {
		if d := t.Sub(last).Seconds(); d > 0 {
			m.OpsPerSec = float64(done-lastDone) / d
		}
	}
	if len(lats) > 0 {
		slices.Sort(lats)
		m.P50, m.P99 = stats.NearestRank(lats, 0.50), stats.NearestRank(lats, 0.99)
	}
	return m
}
