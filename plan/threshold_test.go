package plan

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func init() {
	RegisterMetricKind(MetricKind{Name: "t-lat", Unit: UnitDuration, Scoped: true})
	RegisterMetricKind(MetricKind{Name: "t-share", Unit: UnitRatio, Scoped: true})
	RegisterMetricKind(MetricKind{Name: "t-n", Unit: UnitCount, Scoped: true})
	RegisterMetricKind(MetricKind{Name: "t-wait", Unit: UnitDuration})
}

func TestParseThreshold(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Threshold
	}{
		{"t-lat < 2s", Threshold{Text: "t-lat < 2s", Metric: "t-lat", Op: "<", Unit: UnitDuration, Bound: "2s"}},
		{"  t-lat<=1500ms ", Threshold{Text: "t-lat<=1500ms", Metric: "t-lat", Op: "<=", Unit: UnitDuration, Bound: "1.5s"}},
		{"t-lat during faults > 0", Threshold{Text: "t-lat during faults > 0", Metric: "t-lat", During: DuringFaults, Op: ">", Unit: UnitDuration, Bound: "0s"}},
		{"t-share < 5%", Threshold{Text: "t-share < 5%", Metric: "t-share", Op: "<", Unit: UnitRatio, Bound: "0.05"}},
		{"t-share >= 0.25", Threshold{Text: "t-share >= 0.25", Metric: "t-share", Op: ">=", Unit: UnitRatio, Bound: "0.25"}},
		{"t-share == 100%", Threshold{Text: "t-share == 100%", Metric: "t-share", Op: "==", Unit: UnitRatio, Bound: "1"}},
		{"t-n   during   faults >= 100", Threshold{Text: "t-n   during   faults >= 100", Metric: "t-n", During: DuringFaults, Op: ">=", Unit: UnitCount, Bound: "100"}},
		{"t-wait < 10s", Threshold{Text: "t-wait < 10s", Metric: "t-wait", Op: "<", Unit: UnitDuration, Bound: "10s"}},
	} {
		got, err := ParseThreshold(tc.text)
		if err != nil {
			t.Errorf("ParseThreshold(%q): %v", tc.text, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseThreshold(%q) = %+v, want %+v", tc.text, got, tc.want)
		}
	}
}

func TestParseThresholdRefuses(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"", "invalid threshold"},
		{"t-lat", "write <metric> [during faults] <op> <bound>"},
		{"t-latt < 2s", `unknown metric "t-latt"`},
		{"t-lat = 2s", `unknown comparison "="`},
		{"t-lat != 2s", `unknown comparison "!="`},
		{"t-lat <", "no bound after <"},
		{"t-lat < 5%", `t-lat is a duration: invalid duration "5%"`},
		{"t-lat < 500", `invalid duration "500": give a unit`},
		{"t-lat < -1s", "must not be negative"},
		{"t-lat < 2s or so", `invalid duration "2s or so"`},
		{"t-share < 2s", `t-share is a ratio: invalid ratio "2s"`},
		{"t-share < 5", "a fraction is from 0 to 1 (or write a percentage: 5%)"},
		{"t-share < 101%", "a percentage is from 0% to 100%"},
		{"t-n > 1.5", `t-n is a count: invalid count "1.5"`},
		{"t-n > 1s", `invalid count "1s"`},
		{"t-wait during faults < 1s", "t-wait cannot be narrowed with during faults (it can: t-lat, t-share, t-n)"},
		{"t-lat during < 1s", "after the metric only `during faults` may come, not \"during\""},
		{"t-lat while faults < 1s", "not \"while faults\""},
	} {
		_, err := ParseThreshold(tc.text)
		if err == nil {
			t.Errorf("ParseThreshold(%q) accepted it", tc.text)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseThreshold(%q) = %q, want it to say %q", tc.text, err, tc.want)
		}
	}
	_, err := ParseThreshold("t-latt < 2s")
	var te *ThresholdError
	if !errors.As(err, &te) || te.UnknownMetric != "t-latt" {
		t.Errorf("an unknown metric's error %#v does not name it", err)
	}
}

func TestThresholdHolds(t *testing.T) {
	for _, tc := range []struct {
		op        string
		v, b      float64
		holds     bool
		holdsFlip bool // with v and b swapped
	}{
		{"<", 1, 2, true, false},
		{"<=", 2, 2, true, true},
		{">", 1, 2, false, true},
		{">=", 2, 2, true, true},
		{"==", 2, 2, true, true},
		{"==", 1, 2, false, false},
		{"~", 1, 1, false, false},
	} {
		th := Threshold{Op: tc.op}
		if got := th.Holds(tc.v, tc.b); got != tc.holds {
			t.Errorf("%v %s %v = %v", tc.v, tc.op, tc.b, got)
		}
		if got := th.Holds(tc.b, tc.v); got != tc.holdsFlip {
			t.Errorf("%v %s %v = %v", tc.b, tc.op, tc.v, got)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		unit MetricUnit
		v    float64
		want string
	}{
		{UnitDuration, float64(41234567 * time.Nanosecond), "41.2ms"},
		{UnitDuration, float64(2345678901 * time.Nanosecond), "2.35s"},
		{UnitDuration, float64(time.Millisecond), "1ms"},
		{UnitRatio, 0.0123, "1.23%"},
		{UnitRatio, 1, "100%"},
		{UnitCount, 975, "975"},
	} {
		if got := FormatValue(tc.unit, tc.v); got != tc.want {
			t.Errorf("FormatValue(%s, %v) = %q, want %q", tc.unit, tc.v, got, tc.want)
		}
	}
}

func TestRegisterMetricKindRefuses(t *testing.T) {
	for _, k := range []MetricKind{
		{Name: "t-bad-unit", Unit: "seconds"},
		{Name: "Bad Name", Unit: UnitCount},
		{Name: "t-lat", Unit: UnitDuration},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterMetricKind(%+v) did not panic", k)
				}
			}()
			RegisterMetricKind(k)
		}()
	}
}

func TestTimelineListsThresholds(t *testing.T) {
	p := &Plan{Scenario: "x", Duration: Duration(time.Second), Invariants: []Invariant{{Name: "durable"}},
		Thresholds: []Threshold{{Text: "t-lat < 2s"}, {Text: "t-share during faults < 5%"}}}
	var b bytes.Buffer
	if err := p.WriteTimeline(&b); err != nil {
		t.Fatal(err)
	}
	if want := "\nthresholds\n  t-lat < 2s\n  t-share during faults < 5%\n"; !strings.Contains(b.String(), want) {
		t.Errorf("timeline lacks %q:\n%s", want, b.String())
	}
	p.Thresholds = nil
	b.Reset()
	if err := p.WriteTimeline(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "thresholds") {
		t.Errorf("a plan without thresholds lists them:\n%s", b.String())
	}
}
