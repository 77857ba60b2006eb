package invariants

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/stats"
	"github.com/mscli/mscli/plan"
)

// Competing consumers: a service's replicas take messages from one queue, each a share
// of the work, and a replica that dies leaves its unacknowledged messages to the
// others, which the broker redelivers to them. Each applied record names the replica
// that applied it ("<service>/<n>") and how many times the message had been delivered.

func init() {
	Register(plan.InvariantKind{Name: "spread",
		Doc: "competing consumers: every replica of a service applied some of its messages, and how long after a kill its redelivered messages were taken over (measured)",
		Params: map[string]plan.Param{
			"service": {Type: plan.ParamName, Optional: true,
				Doc: "the service whose replicas compete; by default every service whose applied records name a replica"},
		}}, checkSpread)
}

// consumers is one service's applied records that name a replica.
type consumers struct {
	service  string
	records  []int32 // effect record numbers (history.Records), by At
	counts   map[string]int
	replicas []string // the replicas that must take work: "<service>/0" … "/<n-1>"
}

// spread: for each service (the parameter, or every service whose applied records name
// a replica) run with n ≥ 2 replicas (Input.Replicas, else 0 … the highest replica its
// records name), each replica "<service>/<i>" applied at least one record. For each
// kill that took effect of a replica ("<service>/<i>") or the whole service at t: the
// first applied record after t of a redelivered message (deliveries ≥ 2), by any
// replica (the killed one, restarted, competes for its messages too), is the
// takeover, At − t: measured, not judged (a loss is delivery's to judge). A service of
// one replica is not judged; unknown when none is.
func checkSpread(ctx context.Context, ix *Index, params map[string]string) Result {
	only := params["service"]
	if only != "" && !validName(only) {
		return UnknownResult(fmt.Sprintf("parameter service: invalid service name %q", only))
	}
	bySvc := map[string]*consumers{}
	for i := range ix.recs.NumEffects() {
		if cancelled(ctx, i) {
			return UnknownResult("ran out of time")
		}
		e := ix.recs.Effect(i)
		if e.Replica == "" || !history.Applies(e.Kind) || (only != "" && e.Service != only) {
			continue
		}
		c := bySvc[e.Service]
		if c == nil {
			c = &consumers{service: e.Service, counts: map[string]int{}}
			bySvc[e.Service] = c
		}
		c.records = append(c.records, int32(i))
		c.counts[e.Replica]++
	}
	if len(bySvc) == 0 {
		if only != "" {
			return UnknownResult(fmt.Sprintf("no applied record of %s names a replica: nothing to judge", only))
		}
		return UnknownResult("no applied record names a replica: nothing to judge")
	}
	var ws []Witness
	var notes, single []string
	var takeovers []int64
	violations, checked, replicas, events, busiest := 0, 0, 0, 0, 0
	add := func(w Witness) {
		violations++
		if len(ws) < MaxWitnesses {
			ws = append(ws, w)
		}
	}
	for _, svc := range sortedKeys(bySvc) {
		c := bySvc[svc]
		n := ix.In.Replicas[svc]
		if n <= 0 {
			n = c.highest() + 1
		}
		if n < 2 {
			single = append(single, svc)
			continue
		}
		for i := range n {
			c.replicas = append(c.replicas, fmt.Sprintf("%s/%d", svc, i))
		}
		slices.SortStableFunc(c.records, func(a, b int32) int { return cmp.Compare(ix.recs.EffectAt(int(a)), ix.recs.EffectAt(int(b))) })
		checked += n
		replicas += n
		events += len(c.records)
		top := 0
		for _, r := range c.replicas {
			top = max(top, c.counts[r])
			if c.counts[r] == 0 {
				add(ix.idleWitness(c, r))
			}
		}
		busiest = max(busiest, (top*100+len(c.records)/2)/len(c.records))
		notes = append(notes, c.String())
		for _, f := range ix.In.Faults {
			if f.Phase != history.Start || f.Error != "" || f.Fault != "kill" || (f.Target != svc && !slices.Contains(c.replicas, f.Target)) {
				continue
			}
			checked++
			// Measured, not judged: whether the killed replica held any message at
			// that instant is not in the records (a replica's batch fills from the
			// broker in bursts), and a message it held that nobody applied afterwards
			// is a loss, which delivery judges.
			if at, ok := ix.takeover(c, f); ok {
				takeovers = append(takeovers, at-f.Time)
			}
		}
	}
	if checked == 0 {
		return UnknownResult(fmt.Sprintf("%s runs one replica: nothing competes", strings.Join(single, ", ")))
	}
	res := NewResult(violations, checked, ws, "replicas and kills")
	res.Measures = map[string]int64{"replicas": int64(replicas), "events": int64(events),
		"busiest_share_pct": int64(busiest), "takeovers": int64(len(takeovers))}
	if len(takeovers) > 0 {
		slices.Sort(takeovers)
		res.Measures["takeover_max_ns"] = takeovers[len(takeovers)-1]
		res.Measures["takeover_p50_ns"] = stats.NearestRank(takeovers, 0.5)
		notes = append(notes, fmt.Sprintf("%d takeover(s) after a kill, the slowest %s", len(takeovers), time.Duration(takeovers[len(takeovers)-1]).Round(time.Millisecond)))
	}
	if len(single) > 0 {
		notes = append(notes, strings.Join(single, ", ")+" not judged: one replica, nothing competes")
	}
	res.Summary += "; " + strings.Join(notes, "; ")
	return res
}

// highest is the highest replica number the records name, -1 for none.
func (c *consumers) highest() int {
	h := -1
	for r := range c.counts {
		if i, err := strconv.Atoi(strings.TrimPrefix(r, c.service+"/")); err == nil && strings.HasPrefix(r, c.service+"/") {
			h = max(h, i)
		}
	}
	return h
}

// String says how the service's work spread: "telemetry: 1210 of 2400 applied records
// by telemetry/0, 1190 by telemetry/1".
func (c *consumers) String() string {
	parts := make([]string, 0, len(c.counts))
	for _, r := range c.names() {
		parts = append(parts, fmt.Sprintf("%d by %s", c.counts[r], r))
	}
	return fmt.Sprintf("%s: %d applied records, %s", c.service, len(c.records), strings.Join(parts, ", "))
}

// names are the replicas that must take work, then any other the records name.
func (c *consumers) names() []string {
	out := slices.Clone(c.replicas)
	for _, r := range sortedKeys(c.counts) {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// idleWitness is the evidence that a replica took no work: a few records of each
// replica that did, and the faults that targeted the idle one or its service.
func (ix *Index) idleWitness(c *consumers, idle string) Witness {
	var others []string
	var sample []int32
	for _, r := range c.names() {
		if c.counts[r] == 0 {
			continue
		}
		others = append(others, fmt.Sprintf("%s applied %d", r, c.counts[r]))
		taken := 0
		for _, e := range c.records {
			if ix.recs.Effect(int(e)).Replica == r && taken < 3 {
				sample = append(sample, e)
				taken++
			}
		}
	}
	note := fmt.Sprintf("%s applied none of %d events; %s", idle, len(c.records), strings.Join(others, ", "))
	if len(others) == 1 {
		note = fmt.Sprintf("%s applied none of %d events; %s applied all", idle, len(c.records), strings.Fields(others[0])[0])
	}
	w := Witness{View: c.view(ix), Note: note, Effects: ix.effects(sample)}
	for _, f := range ix.In.Faults {
		if f.Phase == history.Start && f.Error == "" && (f.Target == idle || f.Target == c.service) {
			w.Faults = append(w.Faults, f)
		}
	}
	return w
}

// view names the service's view of its first record: "telemetry/delivery".
func (c *consumers) view(ix *Index) string {
	e := ptrTo(ix.recs.Effect(int(c.records[0])))
	return e.Service + "/" + e.View
}

// takeover finds when a replica first applied a redelivered message after a kill.
func (ix *Index) takeover(c *consumers, kill history.Fault) (int64, bool) {
	from, _ := slices.BinarySearchFunc(c.records, kill.Time, func(e int32, t int64) int {
		return cmp.Compare(ix.recs.EffectAt(int(e)), t+1)
	})
	for _, n := range c.records[from:] {
		// Any replica: the killed one, restarted within the ack wait, competes for its
		// own messages like the others.
		if e := ptrTo(ix.recs.Effect(int(n))); e.Deliveries >= 2 {
			return e.At, true
		}
	}
	return 0, false
}
