package scenarios

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mscli/mscli/plan"

	"github.com/goccy/go-yaml/ast"
)

// thresholds reads `thresholds:`, a list of strings, each `<metric> [during faults]
// <op> <bound>`; validate reads each against the registered metrics.
func (d *decoder) thresholds(s *Scenario, raw ast.Node) {
	items, ok := d.sequence("thresholds", raw, true)
	if !ok {
		return
	}
	for i, it := range items {
		p := index("thresholds", i)
		d.mark(p, it)
		n, ok := d.resolve(p, it)
		if !ok {
			s.Thresholds = append(s.Thresholds, "") // keeps the indexes of the file
			continue
		}
		switch v := n.(type) {
		case *ast.StringNode:
			s.Thresholds = append(s.Thresholds, v.Value)
			continue
		case *ast.MappingNode, *ast.MappingValueNode:
			// "p99: < 2s" reads as a mapping in YAML.
			d.errorf(it, p, "a threshold is one string, <metric> [during faults] <op> <bound>: write p99 < 2s, not p99: < 2s")
		default:
			d.typeError(p, it, n, "a threshold, <metric> [during faults] <op> <bound> (e.g. p99 < 2s)")
		}
		s.Thresholds = append(s.Thresholds, "") // keeps the indexes of the file
	}
}

// thresholds checks every threshold against the registered metrics, that each can
// both hold and fail (vacuous), and that none is listed twice.
func (v *validator) thresholds() {
	seen := map[plan.Threshold]int{}
	for i, text := range v.s.Thresholds {
		p := index("thresholds", i)
		if v.isBad(p) {
			continue
		}
		t, err := plan.ParseThreshold(text)
		if err != nil {
			msg := err.Error()
			var te *plan.ThresholdError
			if errors.As(err, &te) && te.UnknownMetric != "" {
				msg = fmt.Sprintf("unknown metric %q in threshold %q%s (known: %s)", te.UnknownMetric, te.Text,
					didYouMean(te.UnknownMetric, plan.MetricKindNames()), strings.Join(plan.MetricKindNames(), ", "))
			}
			v.report(p, false, "%s", msg)
			continue
		}
		if why := vacuous(t); why != "" {
			v.report(p, false, "threshold %q %s", text, why)
			continue
		}
		key := t
		key.Text = ""
		if j, dup := seen[key]; dup {
			v.report(p, false, "threshold %q is listed twice (thresholds[%d] says the same)", text, j)
			continue
		}
		seen[key] = i
	}
}

// vacuous says why a threshold can never fail, or never pass, "" when it can do
// both: every metric is 0 or more, and a ratio at most 100%. A check that cannot fail
// gates nothing; one that cannot pass fails every run.
func vacuous(t plan.Threshold) string {
	bound, err := t.Value()
	if err != nil {
		return ""
	}
	zero, top := plan.FormatValue(t.Unit, 0), plan.FormatValue(t.Unit, 1) // 0s, 0%, 0; 100%
	switch {
	case t.Op == ">=" && bound == 0:
		return fmt.Sprintf("can never fail: %s is never below %s, so it holds in every run (a check must be able to fail: did you mean > %s?)", t.Label(), zero, zero)
	case t.Op == "<" && bound == 0:
		return fmt.Sprintf("can never pass: %s is never below %s, so every run would fail it", t.Label(), zero)
	case t.Unit == plan.UnitRatio && t.Op == "<=" && bound == 1:
		return fmt.Sprintf("can never fail: %s is a share, never above %s, so it holds in every run (a check must be able to fail: did you mean < %s?)", t.Label(), top, top)
	case t.Unit == plan.UnitRatio && t.Op == ">" && bound == 1:
		return fmt.Sprintf("can never pass: %s is a share, never above %s, so every run would fail it", t.Label(), top)
	}
	return ""
}

// planThresholds are the scenario's thresholds as the plan carries them; Validate
// passed them.
func (s *Scenario) planThresholds() []plan.Threshold {
	var out []plan.Threshold
	for _, text := range s.Thresholds {
		if t, err := plan.ParseThreshold(text); err == nil {
			out = append(out, t)
		}
	}
	return out
}
