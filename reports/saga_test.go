package reports

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

// sagaInput is a run of two orders across three services: o-12 is cancelled (its
// charge refunded and its reservation released while a latency fault slowed the path
// to payments), o-13 completes. A withdrawal of the bank and a kill after both are
// records of no saga.
func sagaInput() *invariants.Input {
	sec := int64(time.Second)
	op := func(i int64, t int64, proc int, typ history.OpType, f, key, id string) history.Op {
		return history.Op{Index: i, Time: t, Process: proc, Type: typ, F: f, Key: key, ID: id}
	}
	in := &invariants.Input{
		Ops: []history.Op{
			op(0, sec, 0, history.Invoke, "order", "c-4", "o-12"),
			op(1, sec+20*ms1, 1, history.Invoke, "withdraw", "acct-a", "w-1"),
			op(2, sec+40*ms1, 1, history.Ok, "withdraw", "acct-a", "w-1"),
			op(3, sec+800*ms1, 0, history.Fail, "order", "c-4", "o-12"),
			op(4, 2*sec, 0, history.Invoke, "order", "c-5", "o-13"),
			op(5, 2*sec+400*ms1, 0, history.Ok, "order", "c-5", "o-13"),
		},
		Faults: []history.Fault{
			{Time: sec + 200*ms1, Phase: history.Start, Fault: "latency", Target: "orders->payments", Params: map[string]string{"latency": "300ms"}, N: 0},
			{Time: sec + 450*ms1, Phase: history.Stop, Fault: "latency", Target: "orders->payments", N: 0},
			{Time: 3 * sec, Phase: history.Start, Fault: "kill", Target: "inventory/0", N: 1},
			{Time: 4 * sec, Phase: history.Stop, Fault: "kill", Target: "inventory/0", N: 1},
		},
		// As the observer records them: service by service, not in time order.
		Effects: []history.Effect{
			{Service: "inventory", View: "saga", Kind: "reserve", Saga: "o-12", Step: "reserve", Key: "item-3", ID: "o-12/reserve", Amount: -2, At: sec + 100*ms1},
			{Service: "inventory", View: "saga", Kind: "release", Saga: "o-12", Step: "reserve", Undo: true, Key: "item-3", ID: "o-12/release", Amount: 2, At: sec + 600*ms1},
			{Service: "inventory", View: "saga", Kind: "reserve", Saga: "o-13", Step: "reserve", Key: "item-1", ID: "o-13/reserve", Amount: -1, At: 2*sec + 100*ms1},
			{Service: "orders", View: "write", Kind: "operation", ID: "o-12", State: "rejected", At: sec + 700*ms1},
			{Service: "orders", View: "write", Kind: "operation", ID: "o-13", State: "applied", At: 2*sec + 300*ms1},
			{Service: "orders", View: "write", Kind: "order", Key: "c-5", ID: "o-13", Amount: 20, At: 2*sec + 300*ms1},
			{Service: "payments", View: "saga", Kind: "charge", Saga: "o-12", Step: "charge", Key: "c-4", ID: "o-12/charge", Amount: -50, At: sec + 250*ms1},
			{Service: "payments", View: "saga", Kind: "refund", Saga: "o-12", Step: "charge", Undo: true, Key: "c-4", ID: "o-12/refund", Amount: 50, At: sec + 500*ms1},
			{Service: "payments", View: "saga", Kind: "charge", Saga: "o-13", Step: "charge", Key: "c-5", ID: "o-13/charge", Amount: -20, At: 2*sec + 200*ms1},
			{Service: "bank", View: "write", Kind: "debit", Key: "acct-a", ID: "w-1", Amount: -10, At: sec + 30*ms1},
		},
	}
	return in
}

// sagaEffectsOf are a saga's step effects by time, then its operation record, as the
// saga invariants put them in a witness.
func sagaEffectsOf(in *invariants.Input, saga string) []history.Effect {
	var steps, ends []history.Effect
	for _, e := range in.Effects {
		switch {
		case e.Saga == saga:
			steps = append(steps, e)
		case e.ID == saga && e.Kind == history.KindOperation:
			ends = append(ends, e)
		}
	}
	slices.SortStableFunc(steps, func(a, b history.Effect) int { return int(a.At - b.At) })
	return append(steps, ends...)
}

func sagaRun(in *invariants.Input) *Run {
	var ops []history.Op
	for _, o := range in.Ops {
		if o.ID == "o-12" {
			ops = append(ops, o)
		}
	}
	return &Run{Scenario: "saga-orders", Seed: 5, Testbed: "local",
		Results: []invariants.Result{
			{Name: "saga-atomic", Verdict: invariants.Fail, Summary: "1 of 2 sagas violate it", Violations: 1, Checked: 2,
				Witnesses: []invariants.Witness{{ID: "o-12", Key: "c-4", Note: "cancelled, but its charge was refunded twice <test>",
					Ops: ops, Effects: sagaEffectsOf(in, "o-12"), Faults: []history.Fault{in.Faults[0]}}}},
			{Name: "saga-conservation", Verdict: invariants.Pass, Summary: "2 sagas checked", Checked: 2},
		},
		Verdict: invariants.Fail}
}

func TestSagaRows(t *testing.T) {
	in := sagaInput()
	tl := BuildSaga("o-12", SagaInput{Effects: in.Effects, Ops: in.Ops, Faults: FaultWindows(in.Faults)})
	if want := []string{"client", "inventory", "payments", "orders"}; !slices.Equal(tl.Lanes, want) {
		t.Errorf("lanes %v, want %v: the client's, then the services in the order of their first record", tl.Lanes, want)
	}
	if tl.End != "rejected" || !tl.Compensated() || tl.Request == nil || tl.Request.Done == nil || tl.Request.Done.Type != history.Fail {
		t.Errorf("end %q, compensated %v, request %+v", tl.End, tl.Compensated(), tl.Request)
	}
	rows := tl.Rows()
	lw, kw := RowWidths(rows)
	var got []string
	for _, r := range rows {
		got = append(got, r.Text(lw, kw))
	}
	want := []string{
		"  +1.000s  client     invoke   order c-4 o-12",
		"  +1.100s  inventory  reserve  item-3 -2",
		"  +1.200s  fault      start    latency orders->payments (latency: 300ms)",
		"  +1.250s  payments   charge   c-4 -50",
		"  +1.450s  fault      heal     latency orders->payments",
		"  +1.500s  payments   refund   c-4 +50 ↩ undo of charge",
		"  +1.600s  inventory  release  item-3 +2 ↩ undo of reserve",
		"  +1.700s  orders     end      state rejected",
		"  +1.800s  client     fail     order c-4 o-12",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSampleSaga(t *testing.T) {
	in := sagaInput()
	if s, why := SampleSaga(in.Effects); s != "o-12" || !strings.Contains(why, "compensated") {
		t.Errorf("sample %q (%s), want the compensated o-12", s, why)
	}
	var plain []history.Effect
	for _, e := range in.Effects {
		if !e.Undo {
			plain = append(plain, e)
		}
	}
	if s, why := SampleSaga(plain); s != "o-13" || !strings.Contains(why, "completed") {
		t.Errorf("sample %q (%s), want o-13, the first completed one", s, why)
	}
	if s, _ := SampleSaga(in.Effects[9:]); s != "" {
		t.Errorf("a run without saga effects has no sample, got %q", s)
	}
	// Of the compensated sagas, the first one that reached the most services.
	wide := []history.Effect{
		{Service: "inventory", View: "saga", Kind: "reserve", Saga: "o-1", Step: "reserve", ID: "o-1/reserve", At: 1},
		{Service: "inventory", View: "saga", Kind: "release", Saga: "o-1", Step: "reserve", Undo: true, ID: "o-1/release", At: 2},
		{Service: "inventory", View: "saga", Kind: "reserve", Saga: "o-2", Step: "reserve", ID: "o-2/reserve", At: 3},
		{Service: "payments", View: "saga", Kind: "charge", Saga: "o-2", Step: "charge", ID: "o-2/charge", At: 4},
		{Service: "payments", View: "saga", Kind: "refund", Saga: "o-2", Step: "charge", Undo: true, ID: "o-2/refund", At: 5},
	}
	if s, _ := SampleSaga(wide); s != "o-2" {
		t.Errorf("sample %q, want o-2, compensated across two services", s)
	}
}

var (
	laneRe = regexp.MustCompile(`<text class="lane"[^>]*>([^<]*)</text>`)
	markRe = regexp.MustCompile(`<text class="ml sg-[^"]*"[^>]*>([^<]*)</text>`)
)

// sagaFigureHTML is the part of the page that draws saga s.
func sagaFigureHTML(t *testing.T, page, s string) string {
	t.Helper()
	i := strings.Index(page, `<h3 id="saga-`+s+`">`)
	if i < 0 {
		t.Fatalf("the page has no figure of saga %s", s)
	}
	j := strings.Index(page[i:], "</figure>")
	return page[i : i+j]
}

func submatches(re *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestWriteHTMLSagaOfAWitness(t *testing.T) {
	in := sagaInput()
	var b bytes.Buffer
	if err := WriteHTML(&b, sagaRun(in), in); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !strings.Contains(page, `<h2 id="sagas">Sagas</h2>`) {
		t.Fatal("a run with saga witnesses has a Sagas section")
	}
	if !strings.Contains(page, `<dt>saga</dt><dd><a href="#saga-o-12"><code>o-12</code></a>`) {
		t.Error("the witness links to its saga's timeline")
	}
	if strings.Contains(page, `id="saga-o-13"`) {
		t.Error("only the sagas the witnesses name are drawn when there are any")
	}
	fig := sagaFigureHTML(t, page, "o-12")
	if got, want := submatches(laneRe, fig), []string{"client", "inventory", "payments", "orders"}; !slices.Equal(got, want) {
		t.Errorf("lanes %v, want %v", got, want)
	}
	if got, want := submatches(markRe, fig), []string{"reserve", "charge", "refund↩", "release↩", "rejected"}; !slices.Equal(got, want) {
		t.Errorf("step labels %v, want %v in time order", got, want)
	}
	for _, want := range []string{
		"witness 1 of saga-atomic: cancelled, but its charge was refunded twice &lt;test&gt;",
		`<text class="ml" x=`, ">order c-4 → fail</text>", `<rect class="req fail"`,
		`>latency orders-&gt;payments</text>`, `<polygon class="sg-end sg-rejected"`,
		"saga o-12 · ends rejected · compensated · request took 800ms",
		"&#43;1.500s  payments   refund   c-4 &#43;50 ↩ undo of charge",
	} {
		if !strings.Contains(fig, want) {
			t.Errorf("the figure of o-12 lacks %s", want)
		}
	}
	if strings.Contains(fig, "kill inventory/0") {
		t.Error("the kill came after the saga: it is not on its timeline")
	}
	// Each mark sits on its service's lane, later records further right.
	var xs []string
	for _, m := range regexp.MustCompile(`<circle class="sg-(?:step|undo)" cx="([0-9.]+)"`).FindAllStringSubmatch(fig, -1) {
		xs = append(xs, m[1])
	}
	if len(xs) != 4 || !slices.IsSortedFunc(xs, func(a, b string) int { return strings.Compare(pad(a), pad(b)) }) {
		t.Errorf("marks at x %v: want four, left to right", xs)
	}
	for _, banned := range []string{"<script", "http://", "https://"} {
		if strings.Contains(page, banned) {
			t.Errorf("report.html is not self-contained: it has %q", banned)
		}
	}
}

func pad(x string) string {
	if i := strings.IndexByte(x, '.'); i >= 0 {
		x = x[:i]
	}
	return strings.Repeat("0", 8-len(x)) + x
}

// Without saga witnesses the section shows a sample saga; without records, the
// witness's own effects still draw its saga; a run without sagas has no section.
func TestWriteHTMLSagaSampleAndWithoutRecords(t *testing.T) {
	in := sagaInput()
	r := sagaRun(in)
	r.Results[0].Witnesses = nil
	var b bytes.Buffer
	if err := WriteHTML(&b, r, in); err != nil {
		t.Fatal(err)
	}
	if fig := sagaFigureHTML(t, b.String(), "o-12"); !strings.Contains(fig, "the run&#39;s first compensated saga") {
		t.Errorf("the sample is the first compensated saga:\n%s", fig)
	}

	b.Reset()
	if err := WriteHTML(&b, sagaRun(in), nil); err != nil {
		t.Fatal(err)
	}
	fig := sagaFigureHTML(t, b.String(), "o-12")
	if got, want := submatches(markRe, fig), []string{"reserve", "charge", "refund↩", "release↩", "rejected"}; !slices.Equal(got, want) {
		t.Errorf("without records, step labels %v, want %v", got, want)
	}
	if !strings.Contains(fig, ">latency orders-&gt;payments</text>") {
		t.Error("without records, the witness's faults are shaded")
	}

	b.Reset()
	run, rin := synthRun()
	if err := WriteHTML(&b, run, rin); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `id="sagas"`) {
		t.Error("a run without saga effects has no Sagas section")
	}
}
