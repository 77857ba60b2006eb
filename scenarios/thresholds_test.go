package scenarios

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/mscli/mscli/plan"
)

func TestThresholdErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"valid", head + "thresholds:\n  - p99 < 2s\n  - p99 during faults < 5s\n  - error-rate < 5%\n  - ok-count > 100\n  - converge-time < 10s\n  - faults-applied == 100%\n", nil},
		{"empty list", head + "thresholds: []\n", nil},
		{"null", head + "thresholds:\n", nil},
		{"unknown metric", head + "thresholds:\n  - p99 < 2s\n  - errror-rate < 2%\n",
			[]string{`9:5: unknown metric "errror-rate" in threshold "errror-rate < 2%"; did you mean "error-rate"? (known: p50, p90, p95, p99, max, error-rate, ok-count, converge-time, faults-applied`}},
		{"unknown op", head + "thresholds: [p99 = 2s]\n", []string{`7:14: threshold "p99 = 2s": unknown comparison "=" (one of <= >= == < >)`}},
		{"wrong unit", head + "thresholds:\n  - error-rate < 2s\n  - p99 < 5%\n  - ok-count > 1.5\n", []string{
			`8:5: threshold "error-rate < 2s": error-rate is a ratio: invalid ratio "2s"`,
			`9:5: threshold "p99 < 5%": p99 is a duration: invalid duration "5%"`,
			`10:5: threshold "ok-count > 1.5": ok-count is a count: invalid count "1.5"`,
		}},
		{"not narrowable", head + "thresholds:\n  - converge-time during faults < 1s\n",
			[]string{`8:5: threshold "converge-time during faults < 1s": converge-time cannot be narrowed with during faults (it can: p50, p90, p95, p99, max, error-rate, ok-count)`}},
		{"no op", head + "thresholds:\n  - p99\n", []string{`8:5: invalid threshold "p99": write <metric> [during faults] <op> <bound>`}},
		{"a mapping", head + "thresholds:\n  - p99: < 2s\n", []string{`8:5: a threshold is one string, <metric> [during faults] <op> <bound>: write p99 < 2s, not p99: < 2s`}},
		{"a number", head + "thresholds:\n  - 42\n", []string{`8:5: expected a threshold, <metric> [during faults] <op> <bound> (e.g. p99 < 2s), got integer 42`}},
		{"not a list", head + "thresholds: p99 < 2s\n", []string{`7:13: thresholds: expected a list, got string "p99 < 2s"`}},
		{"twice", head + "thresholds:\n  - p99 < 2s\n  - p99 <  2000ms\n", []string{`9:5: threshold "p99 <  2000ms" is listed twice (thresholds[0] says the same)`}},
		// A check must be able to fail (and to pass): every metric is 0 or more, a
		// share at most 100%.
		{"never fails", head + "thresholds:\n  - ok-count >= 0\n  - error-rate <= 100%\n  - faults-applied >= 0%\n  - p99 >= 0s\n  - error-rate during faults >= 0\n  - faults-applied <= 1\n  - converge-time >= 0ms\n", []string{
			`8:5: threshold "ok-count >= 0" can never fail: ok-count is never below 0, so it holds in every run (a check must be able to fail: did you mean > 0?)`,
			`9:5: threshold "error-rate <= 100%" can never fail: error-rate is a share, never above 100%, so it holds in every run (a check must be able to fail: did you mean < 100%?)`,
			`10:5: threshold "faults-applied >= 0%" can never fail: faults-applied is never below 0%`,
			`11:5: threshold "p99 >= 0s" can never fail: p99 is never below 0s`,
			`12:5: threshold "error-rate during faults >= 0" can never fail: error-rate during faults is never below 0%`,
			`13:5: threshold "faults-applied <= 1" can never fail: faults-applied is a share, never above 100%`,
			`14:5: threshold "converge-time >= 0ms" can never fail`,
		}},
		{"never passes", head + "thresholds:\n  - ok-count < 0\n  - error-rate > 100%\n  - max < 0s\n", []string{
			`8:5: threshold "ok-count < 0" can never pass: ok-count is never below 0, so every run would fail it`,
			`9:5: threshold "error-rate > 100%" can never pass: error-rate is a share, never above 100%`,
			`10:5: threshold "max < 0s" can never pass`,
		}},
		{"can fail", head + "thresholds:\n  - ok-count > 0\n  - error-rate < 100%\n  - error-rate == 0%\n  - faults-applied >= 1%\n  - p99 > 0s\n  - ok-count <= 0\n  - faults-applied == 100%\n", nil},
		{"misspelt key", head + "threshold: [p99 < 2s]\n", []string{`7:1: unknown key "threshold" in the scenario; did you mean "thresholds"?`}},
		// A bad item does not shift the positions of the ones after it.
		{"after a bad item", head + "thresholds:\n  - {p99: 1}\n  - p9 < 1s\n", []string{
			`8:5: a threshold is one string`,
			`9:5: unknown metric "p9"`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(tc.in))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				if s == nil {
					t.Fatal("nil scenario without error")
				}
				return
			}
			if s != nil {
				t.Errorf("got a scenario along with errors")
			}
			wantErrors(t, err, tc.want)
		})
	}
}

// A scenario built in Go has its thresholds checked too, errors naming their path.
func TestThresholdErrorsOfABuiltScenario(t *testing.T) {
	s, err := Parse("t.yaml", []byte(head))
	if err != nil {
		t.Fatal(err)
	}
	s.pos = nil // as if built in Go: no positions
	s.Thresholds = []string{"p99 < 2s", "p99 < fast"}
	err = s.Validate()
	if err == nil || !strings.Contains(err.Error(), `t.yaml: thresholds[1]: threshold "p99 < fast": p99 is a duration: invalid duration "fast"`) {
		t.Fatalf("Validate = %v", err)
	}
	if _, err := s.Plan(1); err == nil {
		t.Fatal("Plan accepted an invalid threshold")
	}
}

// The plan carries each threshold parsed, its text as written, and the dry run lists
// them; a scenario without thresholds plans as before (no key in plan.json).
func TestThresholdsPlanned(t *testing.T) {
	s, err := Parse("t.yaml", []byte(head+"thresholds:\n  - p99 < 2s\n  - error-rate during faults <= 5%\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Plan(3)
	if err != nil {
		t.Fatal(err)
	}
	want := []plan.Threshold{
		{Text: "p99 < 2s", Metric: "p99", Op: "<", Unit: plan.UnitDuration, Bound: "2s"},
		{Text: "error-rate during faults <= 5%", Metric: "error-rate", During: plan.DuringFaults, Op: "<=", Unit: plan.UnitRatio, Bound: "0.05"},
	}
	if len(p.Thresholds) != len(want) || p.Thresholds[0] != want[0] || p.Thresholds[1] != want[1] {
		t.Fatalf("plan thresholds %+v, want %+v", p.Thresholds, want)
	}
	js, _ := p.JSON()
	if !bytes.Contains(js, []byte(`"text": "error-rate during faults <= 5%"`)) {
		t.Errorf("plan.json lacks the threshold:\n%s", js)
	}
	var tl bytes.Buffer
	if err := p.WriteTimeline(&tl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tl.String(), "thresholds\n  p99 < 2s\n  error-rate during faults <= 5%\n") {
		t.Errorf("the timeline does not list the thresholds:\n%s", tl.String())
	}

	plain, _ := Parse("t.yaml", []byte(head))
	if js := mustPlan(t, plain, 3); bytes.Contains(js, []byte("thresholds")) {
		t.Errorf("a plan without thresholds names them:\n%s", js)
	}
}

// thresholdsSchema is the schema of thresholds:, from the registered metrics: a
// string of a metric, `during faults` where the metric takes it, a comparison and a
// bound written in the metric's unit. It cannot see a ratio out of range.
func thresholdsSchema() obj {
	byUnit := map[plan.MetricUnit][]string{}
	for _, name := range plan.MetricKindNames() {
		k, _ := plan.LookupMetricKind(name)
		m := regexp.QuoteMeta(name)
		if k.Scoped {
			m += `(\s+during\s+faults)?`
		}
		byUnit[k.Unit] = append(byUnit[k.Unit], m)
	}
	bound := map[plan.MetricUnit]string{
		plan.UnitDuration: strings.TrimSuffix(strings.TrimPrefix(durationPattern, "^"), "$"),
		plan.UnitRatio:    `([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*%?`,
		plan.UnitCount:    `[0-9]+`,
	}
	var alts []string
	for _, u := range []plan.MetricUnit{plan.UnitDuration, plan.UnitRatio, plan.UnitCount} {
		if len(byUnit[u]) > 0 {
			alts = append(alts, "("+strings.Join(byUnit[u], "|")+`)\s*(<=|>=|==|<|>)\s*`+bound[u])
		}
	}
	return obj{"type": "array", "description": "bounds on the run's metrics, each judged like an invariant: <metric> [during faults] <op> <bound>, e.g. p99 < 2s",
		"items": obj{"type": "string", "pattern": `^\s*(` + strings.Join(alts, "|") + `)\s*$`}}
}

func TestThresholdsSchema(t *testing.T) {
	sch := compileSchema(t)
	for _, tc := range []struct {
		threshold string
		ok        bool
	}{
		{"p99 < 2s", true},
		{"p99 during faults <= 1500ms", true},
		{"error-rate < 5%", true},
		{"error-rate during faults < 0.05", true},
		{"ok-count > 100", true},
		{"converge-time < 10s", true},
		{"faults-applied == 100%", true},
		{"p99 < 5%", false},
		{"error-rate < 2s", false},
		{"p98 < 2s", false},
		{"p99 = 2s", false},
		{"converge-time during faults < 1s", false},
		{"ok-count > 1.5", false},
	} {
		doc := head + "thresholds: [\"" + tc.threshold + "\"]\n"
		err := sch.Validate(yamlInstance(t, []byte(doc)))
		if (err == nil) != tc.ok {
			t.Errorf("schema on %q: %v, want ok %v", tc.threshold, err, tc.ok)
		}
		if _, err := Parse("t.yaml", []byte(doc)); (err == nil) != tc.ok {
			t.Errorf("loader on %q: %v, want ok %v", tc.threshold, err, tc.ok)
		}
	}
}
