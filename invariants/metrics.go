package invariants

import (
	"fmt"
	"math"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/stats"
	"github.com/mscli/mscli/plan"
)

// The built-in metrics thresholds can name, in the order a person reads them.
func init() {
	for _, p := range []struct {
		name string
		q    float64
		doc  string
	}{
		{"p50", 0.50, "median latency of the completed operations (invoke to completion, retries included)"},
		{"p90", 0.90, "90th percentile latency of the completed operations"},
		{"p95", 0.95, "95th percentile latency of the completed operations"},
		{"p99", 0.99, "99th percentile latency of the completed operations"},
		{"max", 1, "the longest latency of a completed operation"},
	} {
		RegisterMetric(plan.MetricKind{Name: p.name, Unit: plan.UnitDuration, Scoped: true, Doc: p.doc}, percentile(p.q))
	}
	RegisterMetric(plan.MetricKind{Name: "error-rate", Unit: plan.UnitRatio, Scoped: true,
		Doc: "share of the completed operations that were not ok (fail or info)"}, errorRate)
	RegisterMetric(plan.MetricKind{Name: "ok-count", Unit: plan.UnitCount, Scoped: true,
		Doc: "how many operations completed ok"}, okCount)
	RegisterMetric(plan.MetricKind{Name: "converge-time", Unit: plan.UnitDuration,
		Doc: "from the end of the workload and the last heal until every read model agreed and every operation settled"}, convergeTime)
	RegisterMetric(plan.MetricKind{Name: "faults-applied", Unit: plan.UnitRatio,
		Doc: "share of the planned faults that were applied and healed, as the run's verdict requires (mscli compare's faults applied)"}, faultsApplied)
}

// nothingCompleted is why an operation metric has nothing to measure.
func nothingCompleted(in *MetricInput) string {
	if in.DuringFaults {
		return "no completed operation was in flight while a fault was active"
	}
	return "no operation completed"
}

func opsDetail(n int, in *MetricInput) string {
	if in.DuringFaults {
		return fmt.Sprintf("%d operations in flight during faults", n)
	}
	return fmt.Sprintf("%d operations", n)
}

func percentile(q float64) Metric {
	return func(in *MetricInput) Measure {
		lat := in.Latencies()
		if len(lat) == 0 {
			return Measure{Unknown: nothingCompleted(in)}
		}
		return Measure{Value: float64(stats.NearestRank(lat, q)), Checked: len(lat), Detail: opsDetail(len(lat), in)}
	}
}

func counts(in *MetricInput) history.Counts {
	var c history.Counts
	for _, op := range in.Completions() {
		c.Add(op.Outcome)
	}
	return c
}

func errorRate(in *MetricInput) Measure {
	c := counts(in)
	n := c.Completed()
	if n == 0 {
		return Measure{Unknown: nothingCompleted(in)}
	}
	return Measure{Value: float64(c.Errors()) / float64(n), Checked: n,
		Detail: fmt.Sprintf("%d fail and %d info of %d completed", c.Fail, c.Info, n)}
}

func okCount(in *MetricInput) Measure {
	c := counts(in)
	n := c.Completed()
	if n == 0 {
		return Measure{Unknown: nothingCompleted(in)}
	}
	return Measure{Value: float64(c.Ok), Checked: n, Detail: fmt.Sprintf("of %d completed", n)}
}

func convergeTime(in *MetricInput) Measure {
	c := in.Facts.Converge
	switch {
	case c == nil:
		return Measure{Unknown: "the run never waited for the read models to converge"}
	case !c.Converged:
		// Never is longer than any bound: it breaches `<`, and keeps `>`.
		return Measure{Value: math.Inf(1), Checked: c.Polls, Detail: fmt.Sprintf("did not converge in %d polls", c.Polls)}
	}
	return Measure{Value: float64(c.After), Checked: c.Polls, Detail: fmt.Sprintf("after the last heal, %d polls", c.Polls)}
}

func faultsApplied(in *MetricInput) Measure {
	f := in.Facts
	if f.FaultsPlanned == 0 {
		return Measure{Unknown: "the plan has no faults"}
	}
	return Measure{Value: float64(f.FaultsHealed) / float64(f.FaultsPlanned), Checked: f.FaultsPlanned,
		Detail: fmt.Sprintf("%d of %d planned faults applied and healed", f.FaultsHealed, f.FaultsPlanned)}
}
