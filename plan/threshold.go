package plan

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mscli/mscli/internal/registry"
)

// MetricUnit is what a metric measures, and so how a threshold on it writes its bound.
type MetricUnit string

// The units of metrics.
const (
	// UnitDuration: a Go duration ("250ms", "2s"), by ParseDuration.
	UnitDuration MetricUnit = "duration"
	// UnitRatio: a share, written as a percentage ("5%") or a fraction from 0 to 1
	// ("0.05").
	UnitRatio MetricUnit = "ratio"
	// UnitCount: a whole number, 0 or more.
	UnitCount MetricUnit = "count"
)

// MetricKind declares a metric a scenario's thresholds can name: its unit and
// whether it can be narrowed to the time faults were active. Package invariants
// registers each one with the function that measures it (invariants.RegisterMetric).
type MetricKind struct {
	Name string
	Unit MetricUnit
	Doc  string
	// Scoped: the metric measures operations, and `during faults` narrows it to those
	// in flight while a fault was active.
	Scoped bool
}

var metricKinds = registry.New[MetricKind]("plan: metric")

var metricNameRE = regexp.MustCompile(`^[a-z][a-z0-9._-]*$`)

// RegisterMetricKind declares a metric; invariants.RegisterMetric calls it. It panics
// when the name is taken, empty or not a plain lower-case name, or the unit is none of
// the three.
func RegisterMetricKind(k MetricKind) {
	if k.Name != "" && !metricNameRE.MatchString(k.Name) {
		panic(fmt.Sprintf("plan: metric %q: use lower-case letters, digits, '.', '-' and '_'", k.Name))
	}
	switch k.Unit {
	case UnitDuration, UnitRatio, UnitCount:
	default:
		panic(fmt.Sprintf("plan: metric %s has unit %q (want duration, ratio or count)", k.Name, k.Unit))
	}
	metricKinds.Register(k.Name, k)
}

// LookupMetricKind returns a registered metric's declaration.
func LookupMetricKind(name string) (MetricKind, bool) { return metricKinds.Lookup(name) }

// MetricKindNames lists the registered metrics in the order they registered.
func MetricKindNames() []string { return metricKinds.Ordered() }

// ThresholdOps are the comparisons a threshold may make, longest first (the order a
// parser must try them in).
var ThresholdOps = []string{"<=", ">=", "==", "<", ">"}

// DuringFaults is the scope of a threshold written `<metric> during faults …`.
const DuringFaults = "faults"

// Threshold is a bound on a metric of the run, which the run must keep (k6's
// thresholds): `p99 < 2s`, `error-rate during faults < 5%`. It is judged like an
// invariant, and a breach fails the run.
type Threshold struct {
	// Text is the threshold as the scenario writes it; its result is named
	// "threshold: " + Text.
	Text   string `json:"text"`
	Metric string `json:"metric"`
	// During is DuringFaults when the metric is measured over the operations in
	// flight while a fault was active only; "" over the whole run.
	During string `json:"during,omitempty"`
	Op     string `json:"op"`
	// Unit is the metric's, which says how Bound is written.
	Unit MetricUnit `json:"unit"`
	// Bound is written one canonical way per unit: a duration ("1ms"), a ratio as a
	// fraction ("0.05"), a count ("100").
	Bound string `json:"bound"`
}

// ThresholdError is a threshold that cannot be read. UnknownMetric is the metric it
// names when no metric of that name is registered, for a caller to suggest one.
type ThresholdError struct {
	Text          string
	UnknownMetric string
	Msg           string
}

func (e *ThresholdError) Error() string { return e.Msg }

var thresholdRE = regexp.MustCompile(`^([^\s<>=!]+)((?:\s+[^\s<>=!]+)*?)\s*(<=|>=|==|!=|=<|=>|<|>|=)\s*(.*)$`)

// ParseThreshold reads a threshold as a scenario writes it, `<metric> [during faults]
// <op> <bound>`, against the registered metrics: the op one of ThresholdOps, the
// bound of the metric's unit (ParseBound).
func ParseThreshold(text string) (Threshold, error) {
	text = strings.TrimSpace(text)
	bad := func(format string, args ...any) (Threshold, error) {
		return Threshold{}, &ThresholdError{Text: text, Msg: fmt.Sprintf(format, args...)}
	}
	shape := "write <metric> [during faults] <op> <bound>, e.g. p99 < 2s or error-rate during faults < 5%"
	m := thresholdRE.FindStringSubmatch(text)
	if m == nil {
		return bad("invalid threshold %q: %s (op one of %s)", text, shape, strings.Join(ThresholdOps, " "))
	}
	name, scope, op, bound := m[1], strings.Fields(m[2]), m[3], strings.TrimSpace(m[4])
	kind, ok := LookupMetricKind(name)
	if !ok {
		return Threshold{}, &ThresholdError{Text: text, UnknownMetric: name,
			Msg: fmt.Sprintf("unknown metric %q in threshold %q (known: %s)", name, text, strings.Join(MetricKindNames(), ", "))}
	}
	t := Threshold{Text: text, Metric: name, Op: op, Unit: kind.Unit}
	switch {
	case len(scope) == 0:
	case len(scope) == 2 && scope[0] == "during" && scope[1] == "faults":
		if !kind.Scoped {
			return bad("threshold %q: %s cannot be narrowed with during faults (it can: %s)", text, name, strings.Join(scopedMetrics(), ", "))
		}
		t.During = DuringFaults
	default:
		return bad("threshold %q: after the metric only `during faults` may come, not %q", text, strings.Join(scope, " "))
	}
	if !isThresholdOp(op) {
		return bad("threshold %q: unknown comparison %q (one of %s)", text, op, strings.Join(ThresholdOps, " "))
	}
	if bound == "" {
		return bad("threshold %q: no bound after %s: %s", text, op, shape)
	}
	canon, _, err := ParseBound(kind.Unit, bound)
	if err != nil {
		return bad("threshold %q: %s is a %s: %v", text, name, kind.Unit, err)
	}
	t.Bound = canon
	return t, nil
}

func isThresholdOp(op string) bool {
	for _, o := range ThresholdOps {
		if o == op {
			return true
		}
	}
	return false
}

func scopedMetrics() []string {
	var out []string
	for _, n := range MetricKindNames() {
		if k, _ := LookupMetricKind(n); k.Scoped {
			out = append(out, n)
		}
	}
	return out
}

// ParseBound reads a threshold's bound of a unit: its canonical text and its value
// (nanoseconds for a duration, a fraction from 0 to 1 for a ratio, the count).
func ParseBound(unit MetricUnit, s string) (string, float64, error) {
	switch unit {
	case UnitDuration:
		if _, err := strconv.ParseFloat(s, 64); err == nil && s != "0" {
			return "", 0, fmt.Errorf("invalid duration %q: give a unit, e.g. %sms or %ss", s, s, s)
		}
		d, err := ParseDuration(s)
		if err != nil {
			return "", 0, err
		}
		return d.String(), float64(d), nil
	case UnitRatio:
		num, pct := strings.CutSuffix(s, "%")
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		switch {
		case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
			return "", 0, fmt.Errorf("invalid ratio %q: write a percentage (5%%) or a fraction from 0 to 1 (0.05)", s)
		case pct && (f < 0 || f > 100):
			return "", 0, fmt.Errorf("invalid ratio %q: a percentage is from 0%% to 100%%", s)
		case !pct && (f < 0 || f > 1):
			return "", 0, fmt.Errorf("invalid ratio %q: a fraction is from 0 to 1 (or write a percentage: %s%%)", s, num)
		}
		if pct {
			f /= 100
		}
		return FormatRatio(f), f, nil
	case UnitCount:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return "", 0, fmt.Errorf("invalid count %q: want a whole number, 0 or more", s)
		}
		return strconv.FormatInt(n, 10), float64(n), nil
	}
	return "", 0, fmt.Errorf("unknown unit %q", unit)
}

// Value is the threshold's bound as a number (ParseBound).
func (t Threshold) Value() (float64, error) {
	_, v, err := ParseBound(t.Unit, t.Bound)
	return v, err
}

// Holds says whether a measured value keeps the threshold's comparison with its bound.
func (t Threshold) Holds(value, bound float64) bool {
	switch t.Op {
	case "<":
		return value < bound
	case "<=":
		return value <= bound
	case ">":
		return value > bound
	case ">=":
		return value >= bound
	case "==":
		return value == bound
	}
	return false
}

// Label is the metric and its scope: "p99", "p99 during faults".
func (t Threshold) Label() string {
	if t.During != "" {
		return t.Metric + " during " + t.During
	}
	return t.Metric
}

// FormatValue writes a value of a unit for a person: a duration rounded to what a
// person reads ("41.2ms"), a ratio as a percentage ("1.25%"), a count as it is.
func FormatValue(unit MetricUnit, v float64) string {
	switch unit {
	case UnitDuration:
		d := time.Duration(v)
		switch {
		case d >= time.Second:
			d = d.Round(10 * time.Millisecond)
		case d >= time.Millisecond:
			d = d.Round(100 * time.Microsecond)
		case d >= time.Microsecond:
			d = d.Round(100 * time.Nanosecond)
		}
		return d.String()
	case UnitRatio:
		return strconv.FormatFloat(math.Round(v*1e6)/1e4, 'f', -1, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
