package invariants

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

const ms = int64(time.Millisecond)

// sagaRun builds a recorded run of the saga fixture as its services report it: orders
// (write view: an order effect per confirmed order, an operation record per saga),
// inventory and payments (view "saga": openings, one effect per step and per
// compensation). Orders start a second apart.
type sagaRun struct {
	in *Input
	t  int64
}

func newSagaRun() *sagaRun {
	r := &sagaRun{in: &Input{Views: map[string][]string{
		"orders": {history.WriteView}, "inventory": {"saga"}, "payments": {"saga"}}}}
	for k := 1; k <= 3; k++ {
		item, customer := fmt.Sprintf("item-%d", k), fmt.Sprintf("c-%d", k)
		r.in.Effects = append(r.in.Effects,
			history.Effect{Service: "inventory", View: "saga", Kind: "restock", Key: item, ID: "open/" + item, Amount: 1000},
			history.Effect{Service: "payments", View: "saga", Kind: "deposit", Key: customer, ID: "open/" + customer, Amount: 500})
	}
	return r
}

// order is the client's request for saga id, invoked at the next second and completed
// 50 ms later; it returns the invoke's time.
func (r *sagaRun) order(id, customer, item string, qty, amount int64, outcome history.OpType) int64 {
	r.t += int64(time.Second)
	value := json.RawMessage(fmt.Sprintf(`{"amount":%d,"item":%q,"qty":%d}`, amount, item, qty))
	n := int64(len(r.in.Ops))
	r.in.Ops = append(r.in.Ops,
		history.Op{Index: n + 1, Time: r.t, Process: int(n / 2), Type: history.Invoke, F: "order", Key: customer, ID: id, Value: value},
		history.Op{Index: n + 2, Time: r.t + 50*ms, Process: int(n / 2), Type: outcome, F: "order", Key: customer, ID: id, Value: value})
	return r.t
}

func (r *sagaRun) step(svc, kind, saga, step string, undo bool, key string, amount, at int64) {
	r.in.Effects = append(r.in.Effects, history.Effect{Service: svc, View: "saga", Kind: kind, Saga: saga, Step: step, Undo: undo,
		Key: key, ID: saga + "/" + kind, Amount: amount, At: at})
}

func (r *sagaRun) reserve(saga, item string, qty, at int64) {
	r.step("inventory", "reserve", saga, "reserve", false, item, -qty, at)
}
func (r *sagaRun) release(saga, item string, qty, at int64) {
	r.step("inventory", "release", saga, "reserve", true, item, qty, at)
}
func (r *sagaRun) charge(saga, customer string, price, at int64) {
	r.step("payments", "charge", saga, "charge", false, customer, -price, at)
}
func (r *sagaRun) refund(saga, customer string, price, at int64) {
	r.step("payments", "refund", saga, "charge", true, customer, price, at)
}

// end records the saga's state in orders' write view; a confirmed order also has its
// order effect there.
func (r *sagaRun) end(saga, state string, at int64) {
	if state == history.StateApplied {
		for _, o := range r.in.Ops {
			if o.ID == saga && o.Type == history.Invoke {
				amount, _ := requestField(&o, "amount")
				r.in.Effects = append(r.in.Effects, history.Effect{Service: "orders", View: history.WriteView, Kind: "order",
					Key: o.Key, ID: saga, Amount: amount, At: at})
			}
		}
	}
	r.in.Effects = append(r.in.Effects, history.Effect{Service: "orders", View: history.WriteView, Kind: history.KindOperation,
		ID: saga, State: state, At: at})
}

// finish adds every key's final state (the sum of its effects, as a correct service
// reports it) and a partition of the client's link healed a second after the last
// order, when the system goes quiet.
func (r *sagaRun) finish() *Input {
	type vk struct{ svc, view, key string }
	sums, seqs := map[vk]int64{}, map[vk]int64{}
	var order []vk
	for _, e := range r.in.Effects {
		if e.Kind == history.KindState || e.Kind == history.KindOperation {
			continue
		}
		k := vk{e.Service, e.View, e.Key}
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		sums[k] += e.Amount
		seqs[k]++
	}
	for _, k := range order {
		v := sums[k]
		r.in.Effects = append(r.in.Effects, history.Effect{Service: k.svc, View: k.view, Kind: history.KindState, Key: k.key, Value: &v, Seq: seqs[k]})
	}
	r.in.Faults = append(r.in.Faults,
		history.Fault{Time: 500 * ms, Phase: history.Start, Fault: "partition", Target: "client->orders"},
		history.Fault{Time: r.t + int64(time.Second), Phase: history.Stop, Fault: "partition", Target: "client->orders"})
	return r.in
}

// The three clean sagas: confirmed, compensated after the charge, and out of stock.
func (r *sagaRun) confirmed(id string) {
	t := r.order(id, "c-1", "item-1", 2, 50, history.Ok)
	r.reserve(id, "item-1", 2, t+100*ms)
	r.charge(id, "c-1", 50, t+200*ms)
	r.end(id, history.StateApplied, t+300*ms)
}

func (r *sagaRun) compensated(id string) {
	t := r.order(id, "c-2", "item-2", 1, 30, history.Ok)
	r.reserve(id, "item-2", 1, t+100*ms)
	r.charge(id, "c-2", 30, t+200*ms)
	r.refund(id, "c-2", 30, t+300*ms) // shipping refused, say: undo in reverse order
	r.release(id, "item-2", 1, t+400*ms)
	r.end(id, history.StateRejected, t+500*ms)
}

func (r *sagaRun) outOfStock(id string) {
	t := r.order(id, "c-3", "item-3", 5000, 10, history.Ok)
	r.end(id, history.StateRejected, t+100*ms)
}

func cleanSagas() *sagaRun {
	r := newSagaRun()
	r.confirmed("o-1")
	r.compensated("o-2")
	r.outOfStock("o-3")
	return r
}

var sagaSpecs = []Spec{{Name: "saga-atomic"}, {Name: "saga-conservation"}}

func sagaResults(in *Input, specs ...Spec) map[string]Result {
	if specs == nil {
		specs = sagaSpecs
	}
	out := map[string]Result{}
	for _, r := range Check(context.Background(), in, specs) {
		out[r.Name] = r
	}
	return out
}

func TestSagaCleanRunPasses(t *testing.T) {
	in := cleanSagas().finish()
	// The effects as the fixture reports them satisfy the per-key invariants too.
	specs := append([]Spec{{Name: "idempotent"}, {Name: "durable"}, {Name: "conservation"}}, sagaSpecs...)
	rs := sagaResults(in, specs...)
	for _, s := range specs {
		if r := rs[s.Name]; r.Verdict != Pass || r.Checked == 0 {
			t.Errorf("%s = %s (%s), %d checked: %+v", s.Name, r.Verdict, r.Summary, r.Checked, r.Witnesses)
		}
	}
	m := rs["saga-atomic"].Measures
	if m["sagas"] != 3 || m["completed"] != 1 || m["compensated"] != 2 || m["last_end_after_quiet_ns"] != 0 {
		t.Errorf("measures %v: want 3 sagas, 1 completed, 2 compensated, ended before quiet", m)
	}
}

// Each known bug of the saga fixture, as its effects show it, fails both invariants
// (or the one named) with a witness that tells the saga's story in order.
func TestSagaBugsFail(t *testing.T) {
	for _, tc := range []struct {
		name         string
		saga         string
		plant        func(r *sagaRun)
		atomic, cons string // a substring of the failing witness's note; "" when it must pass
	}{
		{"skip-compensation", "o-4", func(r *sagaRun) {
			// The payment is declined; the stock it reserved is never released.
			t := r.order("o-4", "c-1", "item-1", 3, 20, history.Ok)
			r.reserve("o-4", "item-1", 3, t+100*ms)
			r.end("o-4", history.StateRejected, t+300*ms)
		}, `o-4 was cancelled (rejected) but its reserve was never compensated`, `o-4 was cancelled (rejected), yet its reserve nets -3 (want 0)`},
		{"double-compensation", "o-4", func(r *sagaRun) {
			t := r.order("o-4", "c-1", "item-1", 1, 40, history.Ok)
			r.reserve("o-4", "item-1", 1, t+100*ms)
			r.charge("o-4", "c-1", 40, t+200*ms)
			r.refund("o-4", "c-1", 40, t+300*ms)
			r.refund("o-4", "c-1", 40, t+350*ms) // the refund command, redelivered
			r.release("o-4", "item-1", 1, t+400*ms)
			r.end("o-4", history.StateRejected, t+500*ms)
		}, `o-4: charge was compensated 2 times (refund)`, `o-4 was cancelled (rejected), yet its charge nets +40 (want 0)`},
		{"compensate-undone-step", "o-4", func(r *sagaRun) {
			// The charge was declined, and the compensation refunds it anyway.
			t := r.order("o-4", "c-1", "item-1", 1, 40, history.Ok)
			r.reserve("o-4", "item-1", 1, t+100*ms)
			r.refund("o-4", "c-1", 40, t+300*ms)
			r.release("o-4", "item-1", 1, t+400*ms)
			r.end("o-4", history.StateRejected, t+500*ms)
		}, `o-4: charge was compensated (refund) but never done`, `o-4 was cancelled (rejected), yet its charge nets +40 (want 0)`},
		{"no-step-dedup", "o-4", func(r *sagaRun) {
			t := r.order("o-4", "c-1", "item-1", 2, 50, history.Ok)
			r.reserve("o-4", "item-1", 2, t+100*ms)
			r.reserve("o-4", "item-1", 2, t+150*ms) // the reserve command, redelivered
			r.charge("o-4", "c-1", 50, t+200*ms)
			r.end("o-4", history.StateApplied, t+300*ms)
		}, `o-4: reserve took effect 2 times`, `o-4 completed with its reserve netting -4, for a request of qty 2 (want -2)`},
		{"orchestrator-in-memory", "o-4", func(r *sagaRun) {
			// The orchestrator restarted mid-saga and forgot it.
			t := r.order("o-4", "c-1", "item-1", 2, 50, history.Ok)
			r.reserve("o-4", "item-1", 2, t+100*ms)
			r.charge("o-4", "c-1", 50, t+200*ms)
			r.end("o-4", "charging", t+200*ms)
		}, `o-4 left half-way in state "charging": reserve done, charge done, no compensation`, `over all sagas charge nets -100, but the completed sagas asked for amount 50 (want -50); off in o-4`},
		{"acknowledged saga nobody knows", "o-4", func(r *sagaRun) {
			r.order("o-4", "c-1", "item-1", 2, 50, history.Ok)
		}, `acknowledged o-4 never ended: the service does not know it`, ""},
		{"failed at the client yet reserved", "o-4", func(r *sagaRun) {
			t := r.order("o-4", "c-1", "item-1", 2, 50, history.Fail)
			r.reserve("o-4", "item-1", 2, t+100*ms)
			r.release("o-4", "item-1", 2, t+200*ms)
			r.end("o-4", history.StateAborted, t+300*ms)
		}, `o-4 failed at the client, yet its reserve took effect`, ""},
		{"completed after a compensation", "o-4", func(r *sagaRun) {
			t := r.order("o-4", "c-1", "item-1", 2, 50, history.Ok)
			r.reserve("o-4", "item-1", 2, t+100*ms)
			r.charge("o-4", "c-1", 50, t+200*ms)
			r.refund("o-4", "c-1", 50, t+300*ms)
			r.end("o-4", history.StateApplied, t+400*ms)
		}, `o-4 completed, yet its charge was compensated (refund)`, `o-4 completed with its charge netting +0, for a request of amount 50 (want -50)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cleanSagas()
			tc.plant(r)
			rs := sagaResults(r.finish())
			for name, want := range map[string]string{"saga-atomic": tc.atomic, "saga-conservation": tc.cons} {
				res := rs[name]
				if want == "" {
					if name == "saga-conservation" && res.Verdict == Unknown {
						t.Errorf("%s = unknown (%s)", name, res.Summary)
					}
					continue
				}
				if res.Verdict != Fail || res.Violations == 0 {
					t.Fatalf("%s = %s (%s), want fail", name, res.Verdict, res.Summary)
				}
				w := findWitness(res.Witnesses, want)
				if w == nil {
					t.Fatalf("%s: no witness note contains %q: %s", name, want, notes(res.Witnesses))
				}
				if w.ID != "" {
					checkSagaWitness(t, w, tc.saga)
				}
			}
			// The clean sagas beside it are not blamed.
			for _, w := range rs["saga-atomic"].Witnesses {
				if w.ID != tc.saga {
					t.Errorf("saga-atomic blames %s: %s", w.ID, w.Note)
				}
			}
		})
	}
}

func findWitness(ws []Witness, note string) *Witness {
	for i := range ws {
		if strings.Contains(ws[i].Note, note) {
			return &ws[i]
		}
	}
	return nil
}

func notes(ws []Witness) string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Note)
	}
	return strings.Join(out, " | ")
}

// checkSagaWitness holds a saga's witness to its shape: the client's lines, the saga's
// steps and compensations in the order they happened, then its operation records.
func checkSagaWitness(t *testing.T, w *Witness, saga string) {
	t.Helper()
	if w.ID != saga {
		t.Errorf("witness of %s, want %s", w.ID, saga)
	}
	if len(w.Ops) == 0 || w.Ops[0].ID != saga || w.Ops[0].Type != history.Invoke {
		t.Errorf("witness ops %+v: want the saga's invoke first", w.Ops)
	}
	var last int64
	records := false
	for _, e := range w.Effects {
		switch {
		case e.Kind == history.KindOperation:
			records = true
			if e.ID != saga {
				t.Errorf("witness has the operation record of %s", e.ID)
			}
		case records:
			t.Errorf("effect %+v after the operation records", e)
		case e.Saga != saga || e.Step == "":
			t.Errorf("effect %+v is no step of %s", e, saga)
		case e.At < last:
			t.Errorf("effects out of order: %+v after %d", e, last)
		default:
			last = e.At
		}
	}
}

func TestSagaWitnessTellsTheStoryWithItsFaults(t *testing.T) {
	r := cleanSagas()
	at := r.order("o-4", "c-1", "item-1", 1, 40, history.Ok)
	// Written out of time order, as services interleave in effects.jsonl.
	r.release("o-4", "item-1", 1, at+400*ms)
	r.refund("o-4", "c-1", 40, at+300*ms)
	r.refund("o-4", "c-1", 40, at+350*ms)
	r.charge("o-4", "c-1", 40, at+200*ms)
	r.reserve("o-4", "item-1", 1, at+100*ms)
	r.end("o-4", history.StateRejected, at+500*ms)
	in := r.finish()
	// A kill of payments after the client had its answer, before the second refund.
	in.Faults = append(in.Faults,
		history.Fault{Time: at + 250*ms, Phase: history.Start, Fault: "kill", Target: "payments/0", N: 7},
		history.Fault{Time: at + 260*ms, Phase: history.Stop, Fault: "kill", Target: "payments/0", N: 7})
	w := sagaResults(in)["saga-atomic"].Witnesses[0]
	checkSagaWitness(t, &w, "o-4")
	var kinds []string
	for _, e := range w.Effects {
		kinds = append(kinds, e.Kind)
	}
	if got := strings.Join(kinds, ","); got != "reserve,charge,refund,refund,release,operation" {
		t.Errorf("witness effects %s, want the steps in time order, then the end", got)
	}
	killed := false
	for _, f := range w.Faults {
		killed = killed || f.Fault == "kill"
	}
	if !killed {
		t.Errorf("witness faults %+v: want the kill active just before the second refund", w.Faults)
	}
}

func TestSagaEndedTooLongAfterQuiet(t *testing.T) {
	r := cleanSagas()
	in := r.finish()
	quiet := NewIndex(in).Quiet()
	for i := range in.Effects {
		if e := &in.Effects[i]; e.Saga == "o-2" && e.Kind == "release" {
			e.At = quiet + int64(30*time.Second)
		}
	}
	res := sagaResults(in, Spec{Name: "saga-atomic", Params: map[string]string{"within": "10s"}})["saga-atomic"]
	if res.Verdict != Fail || findWitness(res.Witnesses, "o-2 ended 30s after the system went quiet, later than 10s") == nil {
		t.Fatalf("%s (%s): %s", res.Verdict, res.Summary, notes(res.Witnesses))
	}
	if got := res.Measures["last_end_after_quiet_ns"]; got != int64(30*time.Second) {
		t.Errorf("last_end_after_quiet_ns = %d, want 30s", got)
	}
	if res := sagaResults(in, Spec{Name: "saga-atomic", Params: map[string]string{"within": "1m"}})["saga-atomic"]; res.Verdict != Pass {
		t.Errorf("within 1m: %s (%s)", res.Verdict, res.Summary)
	}
}

func TestSagaBalanceOrStockBelowZero(t *testing.T) {
	t.Run("final", func(t *testing.T) {
		r := cleanSagas()
		// A charge the balance could not cover, confirmed.
		at := r.order("o-4", "c-1", "item-1", 1, 520, history.Ok)
		r.reserve("o-4", "item-1", 1, at+100*ms)
		r.charge("o-4", "c-1", 520, at+200*ms)
		r.end("o-4", history.StateApplied, at+300*ms)
		rs := sagaResults(r.finish(), append([]Spec{{Name: "conservation"}}, sagaSpecs...)...)
		res := rs["saga-conservation"]
		w := findWitness(res.Witnesses, "payments saga view: c-1 ends at -70, below zero")
		if res.Verdict != Fail || w == nil {
			t.Fatalf("%s (%s): %s", res.Verdict, res.Summary, notes(res.Witnesses))
		}
		if w.Key != "c-1" || w.View != "payments/saga" || w.Effects[len(w.Effects)-1].Kind != history.KindState {
			t.Errorf("witness %+v: want c-1's effects and its state", w)
		}
		if rs["conservation"].Verdict != Pass || rs["saga-atomic"].Verdict != Pass {
			t.Errorf("conservation %s, saga-atomic %s: the sums add up, every saga is whole", rs["conservation"].Verdict, rs["saga-atomic"].Verdict)
		}
	})
	t.Run("snapshot", func(t *testing.T) {
		in := cleanSagas().finish()
		v := int64(-5)
		in.Effects = append(in.Effects, history.Effect{Service: "inventory", View: "saga", Kind: history.KindState, Key: "item-2", Value: &v, Time: 9 * int64(time.Second)})
		res := sagaResults(in)["saga-conservation"]
		if res.Verdict != Fail || findWitness(res.Witnesses, "item-2 stood at -5, below zero, at 9s") == nil {
			t.Fatalf("%s (%s): %s", res.Verdict, res.Summary, notes(res.Witnesses))
		}
	})
}

func TestSagaNothingToJudgeIsUnknown(t *testing.T) {
	for name, in := range map[string]*Input{
		"no saga effects": synth(200, 5, 1),
		"no sagas at all": newSagaRun().finish(),
		"a declared view never observed": func() *Input {
			in := cleanSagas().finish()
			in.Effects = dropEffects(in.Effects, func(e history.Effect) bool { return e.Service == "payments" })
			return in
		}(),
	} {
		for _, r := range Check(context.Background(), in, sagaSpecs) {
			if r.Verdict != Unknown {
				t.Errorf("%s: %s = %s (%s), want unknown", name, r.Name, r.Verdict, r.Summary)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, r := range Check(ctx, cleanSagas().finish(), sagaSpecs) {
		if r.Verdict == Pass {
			t.Errorf("%s passed with its context cancelled", r.Name)
		}
	}
}

func TestSagaSteps(t *testing.T) {
	in := cleanSagas().finish()
	for _, tc := range []struct {
		spec    Spec
		verdict Verdict
		note    string
	}{
		// A completed saga must have done every step named, seen or not.
		{Spec{Name: "saga-atomic", Params: map[string]string{"steps": "reserve,charge,ship"}}, Fail, "o-1 completed without ship"},
		{Spec{Name: "saga-atomic", Params: map[string]string{"steps": `["reserve","charge","ship"]`}}, Fail, "o-1 completed without ship"},
		{Spec{Name: "saga-atomic", Params: map[string]string{"steps": `"reserve, charge"`}}, Pass, ""},
		{Spec{Name: "saga-atomic", Params: map[string]string{"steps": "reserve=qty"}}, Unknown, "step names"},
		{Spec{Name: "saga-conservation", Params: map[string]string{"steps": `{"charge":"amount"}`}}, Pass, ""},
		{Spec{Name: "saga-conservation", Params: map[string]string{"steps": `"charge=amount,reserve=qty"`}}, Pass, ""},
		// The reserve's amounts answer qty, not amount.
		{Spec{Name: "saga-conservation", Params: map[string]string{"steps": "reserve=amount"}}, Fail, "o-1 completed with its reserve netting -2, for a request of amount 50"},
		{Spec{Name: "saga-conservation", Params: map[string]string{"steps": "charge=price"}}, Unknown, `carries no whole number "price"`},
		{Spec{Name: "saga-conservation", Params: map[string]string{"steps": "charge"}}, Unknown, "step=field pairs"},
	} {
		res := sagaResults(in, tc.spec)[tc.spec.Name]
		if res.Verdict != tc.verdict {
			t.Errorf("%v: %s (%s), want %s", tc.spec, res.Verdict, res.Summary, tc.verdict)
			continue
		}
		if tc.note != "" && !strings.Contains(res.Summary, tc.note) && findWitness(res.Witnesses, tc.note) == nil {
			t.Errorf("%v: %s, %s: want %q", tc.spec, res.Summary, notes(res.Witnesses), tc.note)
		}
	}
}

// The declarations are valid for a scenario: defaults parse, and the schema of a
// steps value takes what the checkers read.
func TestSagaDeclarations(t *testing.T) {
	for name, valid := range map[string][]string{
		"saga-atomic":       {"reserve,charge", " reserve , charge "},
		"saga-conservation": {"charge=amount,reserve=qty", "charge = amount"},
	} {
		k, ok := plan.LookupInvariantKind(name)
		if !ok {
			t.Fatalf("%s is not declared", name)
		}
		p := k.Params["steps"]
		if p.Default != "" {
			if _, err := sagaSteps(p.Default, name == "saga-conservation"); err != nil {
				t.Errorf("%s: default %s: %v", name, p.Default, err)
			}
		}
		re := regexp.MustCompile(p.Schema["anyOf"].([]any)[0].(map[string]any)["pattern"].(string))
		for _, v := range valid {
			if !re.MatchString(v) {
				t.Errorf("%s: schema refuses %q", name, v)
			}
			if _, err := sagaSteps(v, name == "saga-conservation"); err != nil {
				t.Errorf("%s: %q: %v", name, v, err)
			}
		}
		if re.MatchString("a,,b") {
			t.Errorf("%s: schema takes a,,b", name)
		}
	}
}

// The example in docs/effects.md ("Sagas") is valid records that pass: the contract as
// a service's author reads it.
func TestSagaDocExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/effects.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Sagas\n")
	section, _, _ = strings.Cut(section, "\n## ")
	if !ok {
		t.Fatal("docs/effects.md has no section Sagas")
	}
	schema, err := jsonschema.UnmarshalJSON(bytes.NewReader(history.EffectSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("effect.schema.json", schema); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("effect.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	// The services report Unix ns; the runner records them on the run clock.
	const start = int64(1764658330_000_000_000)
	in := &Input{Views: map[string][]string{"orders": {history.WriteView}, "inventory": {"saga"}, "payments": {"saga"}}}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(line))
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("%s: %v", line, err)
		}
		var e history.Effect
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.At != 0 {
			e.At -= start
		}
		in.Effects = append(in.Effects, e)
	}
	if len(in.Effects) < 10 {
		t.Fatalf("%d records in the example", len(in.Effects))
	}
	for i, o := range []struct {
		id    string
		value string
	}{{"o-12", `{"amount":50,"item":"item-3","qty":2}`}, {"o-13", `{"amount":30,"item":"item-3","qty":1}`}} {
		for j, typ := range []history.OpType{history.Invoke, history.Ok} {
			in.Ops = append(in.Ops, history.Op{Index: int64(2*i + j + 1), Time: int64(i+1)*int64(time.Second) + int64(j)*ms,
				Process: i, Type: typ, F: "order", Key: "c-4", ID: o.id, Value: json.RawMessage(o.value)})
		}
	}
	specs := append([]Spec{{Name: "idempotent"}, {Name: "durable"}, {Name: "conservation"},
		{Name: "saga-atomic", Params: map[string]string{"steps": `["reserve","charge"]`}}},
		Spec{Name: "saga-conservation", Params: map[string]string{"steps": `{"charge":"amount","reserve":"qty"}`}})
	for _, r := range Check(context.Background(), in, specs) {
		if r.Verdict != Pass {
			t.Errorf("%s = %s (%s): %s", r.Name, r.Verdict, r.Summary, notes(r.Witnesses))
		}
	}
}

// A saga no client asked for is judged all the same: the system owes it an end, and
// whatever it moved counts against no request.
func TestSagaNoClientInvoked(t *testing.T) {
	r := cleanSagas()
	r.reserve("x-1", "item-1", 4, 2*int64(time.Second))
	rs := sagaResults(r.finish())
	w := findWitness(rs["saga-atomic"].Witnesses, "x-1 left half-way, with no operation state: reserve done, no compensation")
	if rs["saga-atomic"].Verdict != Fail || w == nil {
		t.Fatalf("saga-atomic = %s: %s", rs["saga-atomic"].Verdict, notes(rs["saga-atomic"].Witnesses))
	}
	if w.ID != "x-1" || len(w.Ops) != 0 || len(w.Effects) != 1 || w.Key != "item-1" {
		t.Errorf("witness %+v: want x-1's reserve and no history lines", w)
	}
	if len(w.Faults) != 1 || w.Faults[0].Fault != "partition" {
		t.Errorf("witness faults %+v: want the partition active when it reserved, only", w.Faults)
	}
	if r := rs["saga-conservation"]; r.Verdict != Fail || findWitness(r.Witnesses, "over all sagas reserve nets -6, but the completed sagas asked for qty 2 (want -2); off in x-1") == nil {
		t.Errorf("saga-conservation = %s: %s", r.Verdict, notes(r.Witnesses))
	}
}
