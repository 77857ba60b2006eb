package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

// The breaker chart: one lane per dependency, each state a span from its change to
// the next, the last to the end of the run; none without breaker records.
func TestBreakerChart(t *testing.T) {
	in := &invariants.Input{Ops: []history.Op{
		{Time: 0, Process: 0, Type: history.Invoke, F: "browse"},
		{Time: 10e9, Process: 0, Type: history.Ok, F: "browse"},
	}}
	tl := BuildTimeline(in, DefaultBucket)
	if c := breakerChart(tl, nil); c != nil {
		t.Fatalf("a chart without breaker records: %+v", c)
	}
	effects := []history.Effect{
		{Service: "gateway", View: "breaker", Kind: history.KindBreaker, Key: "catalog", State: history.BreakerOpen, At: 4e9},
		{Service: "gateway", View: "breaker", Kind: history.KindBreaker, Key: "catalog", State: history.BreakerClosed, At: 0},
		{Service: "gateway", View: "breaker", Kind: history.KindBreaker, Key: "bank", State: history.BreakerClosed, At: 0},
		{Service: "gateway", View: "breaker", Kind: history.KindBreaker, Key: "catalog", State: history.BreakerHalfOpen, At: 5e9},
		{Service: "gateway", View: "breaker", Kind: history.KindBreaker, Key: "catalog", State: history.BreakerClosed, At: 5.2e9},
		{Service: "bank", View: "write", Kind: "debit", Key: "a", ID: "w1", Amount: 1},
	}
	deps, spans := breakerSpans(effects, 10e9)
	if strings.Join(deps, ",") != "bank,catalog" {
		t.Fatalf("lanes %v, want bank,catalog", deps)
	}
	var got []string
	for _, s := range spans {
		got = append(got, s.dependency+" "+s.state+" "+secs(s.from)+"-"+secs(s.to))
	}
	want := "bank closed 0.000s-10.000s|catalog closed 0.000s-4.000s|catalog open 4.000s-5.000s|catalog half-open 5.000s-5.200s|catalog closed 5.200s-10.000s"
	if strings.Join(got, "|") != want {
		t.Fatalf("spans\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	// Two gateway replicas guarding one dependency: a lane each.
	two := []history.Effect{
		{Service: "gateway", Kind: history.KindBreaker, Key: "catalog", State: history.BreakerClosed, Replica: "gateway/0"},
		{Service: "gateway", Kind: history.KindBreaker, Key: "catalog", State: history.BreakerClosed, Replica: "gateway/1"},
		{Service: "gateway", Kind: history.KindBreaker, Key: "catalog", State: history.BreakerOpen, Replica: "gateway/1", At: 3e9},
	}
	if deps, _ := breakerSpans(two, 10e9); strings.Join(deps, ",") != "catalog gateway/0,catalog gateway/1" {
		t.Errorf("lanes of two replicas: %v", deps)
	}
	c := breakerChart(tl, effects)
	if c == nil || len(c.Rects) != 5 || len(c.YTicks) != 2 {
		t.Fatalf("chart: %+v", c)
	}
	in.Effects = effects
	var b bytes.Buffer
	if err := WriteHTML(&b, &Run{Scenario: "circuit-breaker"}, in); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`id="breakers"`, "Circuit breakers", `class="br open"`, "catalog breaker open from 4.000s to 5.000s"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("report.html lacks %q", s)
		}
	}
	// Under the latency chart.
	if i, j := strings.Index(b.String(), `id="latency"`), strings.Index(b.String(), `id="breakers"`); i < 0 || j < i {
		t.Errorf("the breaker chart is not under the latency chart (%d, %d)", i, j)
	}
}
