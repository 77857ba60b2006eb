package invariants

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// msgRun builds a recorded run of a message-driven service as the telemetry fixture
// reports it: events published through the ingest (f their type), applied by two
// competing replicas (one record per application, with its delivery count and
// replica), parked on the dead-letter stream or in a file, and re-driven.
type msgRun struct {
	in *Input
	t  int64
}

const sec = int64(time.Second)

func newMsgRun() *msgRun {
	return &msgRun{in: &Input{Views: map[string][]string{"telemetry": {"delivery"}}, Replicas: map[string]int{"telemetry": 2}}}
}

// publish is the client's publish of an event, invoked 100 ms after the last one and
// completed 10 ms later with outcome; it returns the invoke's time.
func (r *msgRun) publish(f, id, device string, outcome history.OpType) int64 {
	r.t += 100 * ms
	n := int64(len(r.in.Ops))
	proc := int(n/2) % 4
	r.in.Ops = append(r.in.Ops,
		history.Op{Index: n + 1, Time: r.t, Process: proc, Type: history.Invoke, F: f, Key: device, ID: id},
		history.Op{Index: n + 2, Time: r.t + 10*ms, Process: proc, Type: outcome, F: f, Key: device, ID: id})
	return r.t
}

func (r *msgRun) typeOf(id string) string {
	for _, o := range r.in.Ops {
		if o.ID == id {
			return o.F
		}
	}
	return "location"
}

func (r *msgRun) apply(id string, deliveries int, replica string, at int64) {
	r.in.Effects = append(r.in.Effects, history.Effect{Service: "telemetry", View: "delivery", Kind: r.typeOf(id), Key: "d-1", ID: id,
		Deliveries: deliveries, Replica: replica, At: at})
}

func (r *msgRun) park(kind, id, reason string, deliveries int, replica string, at int64) {
	r.in.Effects = append(r.in.Effects, history.Effect{Service: "telemetry", View: "delivery", Kind: kind, Key: "d-1", ID: id,
		Reason: reason, Deliveries: deliveries, Replica: replica, At: at})
}

func (r *msgRun) redrive(id string, at int64) {
	r.in.Effects = append(r.in.Effects, history.Effect{Service: "telemetry", View: "delivery", Kind: history.KindRedrive, ID: id, At: at})
}

func (r *msgRun) state(id, state string) {
	r.in.Effects = append(r.in.Effects, history.Effect{Service: "telemetry", View: "delivery", Kind: history.KindOperation, ID: id, State: state})
}

func (r *msgRun) kill(target string, at int64, restart int64, err string) {
	n := len(r.in.Faults)
	r.in.Faults = append(r.in.Faults, history.Fault{Time: at, Phase: history.Start, Fault: "kill", Target: target, N: n, Error: err})
	if restart > 0 {
		r.in.Faults = append(r.in.Faults, history.Fault{Time: restart, Phase: history.Stop, Fault: "kill", Target: target, N: n})
	}
}

const badCode = "rule: unknown alert code 99"

// cleanMessages is a run every message invariant passes: each type applied by both
// replicas; a location lost (tolerated); an alert applied twice (allowed); an alert
// parked on the stream after it was parked in a file; a payment parked, re-driven and
// applied once; a publish that failed and one of unknown outcome; and replica 0 killed
// while working, its alert redelivered to replica 1 (applied twice: allowed).
func cleanMessages() *msgRun {
	r := newMsgRun()
	for i := range 12 {
		f := []string{"location", "alert", "payment"}[i%3]
		id := fmt.Sprintf("e-%d", i)
		at := r.publish(f, id, fmt.Sprintf("d-%d", i%4), history.Ok)
		r.apply(id, 1, fmt.Sprintf("telemetry/%d", i%2), at+50*ms)
		r.state(id, history.StateApplied)
	}
	r.publish("location", "lost-loc", "d-1", history.Ok)
	at := r.publish("alert", "dup-alert", "d-1", history.Ok)
	r.apply("dup-alert", 1, "telemetry/0", at+20*ms)
	r.apply("dup-alert", 2, "telemetry/1", at+40*ms) // its acknowledgement was lost
	at = r.publish("alert", "bad-alert", "d-2", history.Ok)
	r.park(history.KindDeadLetterFile, "bad-alert", badCode, 3, "telemetry/0", at+60*ms)
	r.park(history.KindDeadLetter, "bad-alert", badCode, 3, "telemetry/0", at+60*ms) // moved from the file
	r.state("bad-alert", history.StateDeadLettered)
	at = r.publish("payment", "rd-pay", "d-3", history.Ok)
	r.park(history.KindDeadLetter, "rd-pay", "store: connection refused", 4, "telemetry/1", at+70*ms)
	r.redrive("rd-pay", at+2*sec)
	r.apply("rd-pay", 1, "telemetry/1", at+2*sec+30*ms)
	r.publish("payment", "failed-pay", "d-3", history.Fail)
	at = r.publish("alert", "info-alert", "d-3", history.Info)
	r.apply("info-alert", 1, "telemetry/0", at+30*ms)
	// Replica 0, busy, is killed; replica 1 takes over its unacknowledged message.
	at = r.publish("alert", "kill-alert", "d-0", history.Ok)
	r.apply("kill-alert", 1, "telemetry/0", at+10*ms)
	r.kill("telemetry/0", at+20*ms, at+3*sec, "")
	r.apply("kill-alert", 2, "telemetry/1", at+320*ms)
	r.publish("location", "last-loc", "d-0", history.Ok)
	r.apply("last-loc", 1, "telemetry/1", r.t+40*ms)
	return r
}

var messageSpecs = []Spec{{Name: "delivery"}, {Name: "dead-letters-accounted"}, {Name: "spread"}}

func messageResults(in *Input, specs ...Spec) map[string]Result {
	if specs == nil {
		specs = messageSpecs
	}
	out := map[string]Result{}
	for _, r := range Check(context.Background(), in, specs) {
		out[r.Name] = r
	}
	return out
}

// one runs one spec and returns its result.
func one(in *Input, name string, params map[string]string) Result {
	return messageResults(in, Spec{Name: name, Params: params})[name]
}

func TestMessagesCleanRunPasses(t *testing.T) {
	in := cleanMessages().in
	rs := messageResults(in)
	for _, s := range messageSpecs {
		if r := rs[s.Name]; r.Verdict != Pass || r.Checked == 0 {
			t.Errorf("%s = %s (%s), %d checked: %s", s.Name, r.Verdict, r.Summary, r.Checked, notes(r.Witnesses))
		}
	}
	wantMeasures(t, "delivery", rs["delivery"].Measures, map[string]int64{
		"events_at_most_once": 6, "events_at_least_once": 8, "events_exactly_once": 6,
		"lost_at_most_once": 1, "duplicates_at_least_once": 2, "redelivered_applied": 2})
	wantMeasures(t, "dead-letters-accounted", rs["dead-letters-accounted"].Measures, map[string]int64{
		"parked": 2, "parked_in_file": 1, "redriven": 1, "applied": 17})
	wantMeasures(t, "spread", rs["spread"].Measures, map[string]int64{
		"replicas": 2, "events": 19, "takeovers": 1, "takeover_max_ns": 300 * ms, "takeover_p50_ns": 300 * ms, "busiest_share_pct": 53})
	for _, want := range []string{"1 at-most-once lost (tolerated)", "2 at-least-once applied more than once"} {
		if !strings.Contains(rs["delivery"].Summary, want) {
			t.Errorf("delivery summary %q: want %q", rs["delivery"].Summary, want)
		}
	}
	if s := rs["spread"].Summary; !strings.Contains(s, "telemetry: 19 applied records, 9 by telemetry/0, 10 by telemetry/1") {
		t.Errorf("spread summary %q", s)
	}
}

func wantMeasures(t *testing.T, name string, got, want map[string]int64) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: measure %s = %d (present %v), want %d; all %v", name, k, g, ok, v, got)
		}
	}
}

// failsWith holds a result to one violation whose witness names the event and
// contains each of the notes' parts.
func failsWith(t *testing.T, res Result, id string, parts ...string) *Witness {
	t.Helper()
	if res.Verdict != Fail || res.Violations != 1 || len(res.Witnesses) != 1 {
		t.Fatalf("%s = %s (%s), %d violations: %s; want one violation", res.Name, res.Verdict, res.Summary, res.Violations, notes(res.Witnesses))
	}
	w := &res.Witnesses[0]
	for _, p := range parts {
		if !strings.Contains(w.Note, p) {
			t.Errorf("%s: witness note %q: want %q", res.Name, w.Note, p)
		}
	}
	if id != "" && (w.ID != id || len(w.Ops) == 0 || w.Ops[0].ID != id) {
		t.Errorf("%s: witness of %s with ops %+v, want %s's history lines", res.Name, w.ID, w.Ops, id)
	}
	return w
}

func TestMessageParams(t *testing.T) {
	for _, tc := range []struct {
		params map[string]string
		want   map[string]guarantee
		err    string
	}{
		{nil, map[string]guarantee{"location": atMostOnce, "alert": atLeastOnce, "payment": exactlyOnce}, ""},
		// As a plan carries them: canonical JSON.
		{map[string]string{"at-most-once": `"location,ping"`, "at-least-once": `["alert"]`, "exactly-once": `""`},
			map[string]guarantee{"location": atMostOnce, "ping": atMostOnce, "alert": atLeastOnce}, ""},
		{map[string]string{"at-most-once": "null", "at-least-once": " location , alert "},
			map[string]guarantee{"location": atLeastOnce, "alert": atLeastOnce, "payment": exactlyOnce}, ""},
		{map[string]string{"at-least-once": "location,alert"}, nil, "parameters at-most-once and at-least-once both name location"},
		{map[string]string{"exactly-once": "alert"}, nil, "parameters at-least-once and exactly-once both name alert"},
		{map[string]string{"exactly-once": "a,,b"}, nil, "parameter exactly-once"},
		{map[string]string{"exactly-once": `{"payment":1}`}, nil, "parameter exactly-once"},
		{map[string]string{"exactly-once": `[1]`}, nil, "parameter exactly-once"},
		{map[string]string{"at-most-once": "loc ation"}, nil, "parameter at-most-once"},
	} {
		got, err := guarantees(tc.params)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want %q", tc.params, err, tc.err)
			}
		case err != nil:
			t.Errorf("%v: %v", tc.params, err)
		case fmt.Sprint(got) != fmt.Sprint(tc.want):
			t.Errorf("%v: %v, want %v", tc.params, got, tc.want)
		}
	}
	// A checker given bad parameters cannot judge.
	in := cleanMessages().in
	for _, name := range []string{"delivery", "dead-letters-accounted"} {
		res := one(in, name, map[string]string{"exactly-once": "alert"})
		if res.Verdict != Unknown || !strings.Contains(res.Summary, "both name alert") {
			t.Errorf("%s = %s (%s), want unknown naming the parameter clash", name, res.Verdict, res.Summary)
		}
	}
	if res := one(in, "spread", map[string]string{"service": "tele metry"}); res.Verdict != Unknown || !strings.Contains(res.Summary, "parameter service") {
		t.Errorf("spread = %s (%s), want unknown", res.Verdict, res.Summary)
	}
}

// The declarations are valid for a scenario: defaults pass plan's check and parse, the
// schema of a list takes what the checkers read and refuses what they refuse.
func TestMessageDeclarations(t *testing.T) {
	for _, name := range []string{"delivery", "dead-letters-accounted"} {
		k, ok := plan.LookupInvariantKind(name)
		if !ok {
			t.Fatalf("%s is not declared", name)
		}
		defaults := map[string]string{}
		for g := atMostOnce; g <= exactlyOnce; g++ {
			p, ok := k.Params[g.String()]
			if !ok || p.Type != plan.ParamObject || p.Doc == "" {
				t.Fatalf("%s: parameter %s: %+v", name, g, p)
			}
			if err := p.Check(p.Default); err != nil {
				t.Errorf("%s: default of %s %s: %v", name, g, p.Default, err)
			}
			norm, err := p.Norm(g.String(), p.Default)
			if err != nil {
				t.Fatal(err)
			}
			defaults[g.String()] = norm
			re := regexp.MustCompile(p.Schema["anyOf"].([]any)[0].(map[string]any)["pattern"].(string))
			for _, v := range []string{"location", " location , ping ", ""} {
				if !re.MatchString(v) {
					t.Errorf("%s: schema refuses %q", name, v)
				}
				if _, err := nameList(g.String(), v); err != nil {
					t.Errorf("%s: %q: %v", name, v, err)
				}
			}
			for _, v := range []string{"a,,b", "a b", "a,"} {
				if re.MatchString(v) {
					t.Errorf("%s: schema takes %q", name, v)
				}
				if _, err := nameList(g.String(), v); err == nil {
					t.Errorf("%s: %q read without an error", name, v)
				}
			}
			// A value that is JSON but no list of names passes plan's check; the
			// checker refuses it.
			if err := p.Check(`{"a":1}`); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if gs, err := guarantees(defaults); err != nil || len(gs) != 3 {
			t.Errorf("%s: the planned defaults %v read as %v, %v", name, defaults, gs, err)
		}
	}
	k, ok := plan.LookupInvariantKind("spread")
	if !ok {
		t.Fatal("spread is not declared")
	}
	p := k.Params["service"]
	if p.Type != plan.ParamName || !p.Optional || p.Default != "" {
		t.Errorf("spread service: %+v, want an optional name", p)
	}
	if p.Check("telemetry") != nil || p.Check("tele metry") == nil || p.Check("svc/0") == nil {
		t.Errorf("spread service: want telemetry valid, 'tele metry' and svc/0 not")
	}
}
