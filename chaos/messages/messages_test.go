package messages_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/fixtures/broker/brokertest"
	"github.com/mscli/mscli/plan"
)

// The two targets of the test stream TELE: the faults act on alerts, and locations,
// in the same stream, must come through untouched.
const (
	alerts    = "tele.alert"
	locations = "tele.location"
)

// tele runs a broker with the stream TELE (subjects of both targets, a dedup window)
// holding n alerts and n locations, interleaved, each with a Nats-Msg-Id and an
// application header. Message i of a target has the data "<target>-<i>".
func tele(t *testing.T, n int) (string, jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	url := jetStream(t)
	_, js := brokertest.JetStream(t, url)
	ctx := context.Background()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "TELE", Subjects: []string{alerts + ".>", locations + ".>"},
		Duplicates: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for _, target := range []string{alerts, locations} {
			id := fmt.Sprintf("%s-%03d", target, i)
			m := nats.NewMsg(fmt.Sprintf("%s.robot-%d", target, i%3))
			m.Data = []byte(id)
			m.Header.Set(nats.MsgIdHdr, id)
			m.Header.Set("Telemetry-Event", id)
			if _, err := js.PublishMsg(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	return url, js, st
}

// durable creates a durable pull consumer of target's messages.
func durable(t *testing.T, js jetstream.JetStream, name, target string, ack jetstream.AckPolicy) jetstream.Consumer {
	t.Helper()
	c, err := js.CreateConsumer(context.Background(), "TELE", jetstream.ConsumerConfig{Durable: name,
		FilterSubject: target + ".>", AckPolicy: ack, AckWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// delivery is one message a consumer got.
type delivery struct {
	data  string
	times uint64 // its delivery count
}

// drain takes what the consumer has for it (acknowledging each message when the
// consumer acknowledges), at most max messages (0: all), and checks that every message
// is a whole copy: its data, its application header, no Nats-Msg-Id but on originals.
func drain(t *testing.T, c jetstream.Consumer, max int) []delivery {
	t.Helper()
	var out []delivery
	for max == 0 || len(out) < max {
		want := 100
		if max > 0 {
			want = min(want, max-len(out))
		}
		b, err := c.Fetch(want, jetstream.FetchMaxWait(300*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		n := len(out)
		for m := range b.Messages() {
			md, err := m.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			if ev := m.Headers().Get("Telemetry-Event"); ev != string(m.Data()) {
				t.Errorf("message %s has the application header %q", m.Data(), ev)
			}
			if id := m.Headers().Get(nats.MsgIdHdr); id != "" && id != string(m.Data()) {
				t.Errorf("message %s has the Nats-Msg-Id %q", m.Data(), id)
			}
			if c.CachedInfo().Config.AckPolicy != jetstream.AckNonePolicy {
				if err := m.DoubleAck(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			out = append(out, delivery{string(m.Data()), md.NumDelivered})
		}
		if len(out) == n {
			break
		}
	}
	return out
}

func data(ds []delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.data
	}
	return out
}

// ids are the data of messages from to to-1 of a target.
func ids(target string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s-%03d", target, i))
	}
	return out
}

// apply applies a fault through its registered kind.
func apply(t *testing.T, url, kind, target string, params map[string]string) chaos.Heal {
	t.Helper()
	heal, err := chaos.Apply(context.Background(), &env{broker: url}, fault(kind, target, params))
	if err != nil {
		t.Fatalf("%s on %s: %v", kind, target, err)
	}
	return heal
}

// share is round(ratio × n), as the kinds count.
func share(ratio float64, n int) int { return int(math.Round(ratio * float64(n))) }

// missing lists the ids of want not in got, and fails on a message got twice or not
// wanted.
func missing(t *testing.T, want, got []string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g] {
			t.Errorf("%s delivered twice", g)
		}
		if !slices.Contains(want, g) {
			t.Errorf("%s delivered, not published", g)
		}
		seen[g] = true
	}
	var out []string
	for _, w := range want {
		if !seen[w] {
			out = append(out, w)
		}
	}
	return out
}

func TestRedeliverDeliversAgain(t *testing.T) {
	const n = 50
	for _, tc := range []struct {
		ratio, times string
		k, again     int
	}{
		{"0.2", "2", 10, 2},
		{"0.3", "", 15, 1}, // times defaults to 1
	} {
		t.Run(tc.ratio+"x"+tc.times, func(t *testing.T) {
			url, js, _ := tele(t, n)
			al := durable(t, js, "alerts", alerts, jetstream.AckExplicitPolicy)
			loc := durable(t, js, "locations", locations, jetstream.AckExplicitPolicy)
			params := map[string]string{"ratio": tc.ratio}
			if tc.times != "" {
				params["times"] = tc.times
			}
			if heal := apply(t, url, "redeliver", alerts, params); heal != nil {
				t.Error("redeliver returned a heal: it is instantaneous")
			}
			got := drain(t, al, 0)
			if m := missing(t, ids(alerts, 0, n), data(got)); len(m) > 0 {
				t.Errorf("lost %v", m)
			}
			// The k oldest come back, each delivered times+1 times, before the others.
			for i, d := range got {
				want := uint64(1)
				if i < tc.k {
					want = uint64(tc.again + 1)
				}
				if d.times != want || d.data != ids(alerts, i, i+1)[0] {
					t.Errorf("delivery %d: %s delivered %d times, want %s %d times", i, d.data, d.times, ids(alerts, i, i+1)[0], want)
				}
			}
			for _, d := range drain(t, loc, 0) {
				if d.times != 1 {
					t.Errorf("location %s delivered %d times: outside the target", d.data, d.times)
				}
			}
		})
	}
}

// A consumer that acknowledges nothing has nothing redelivered: the kind says so when
// it is the only consumer, and leaves it alone next to one that acknowledges.
func TestRedeliverNeedsAnAcknowledgingConsumer(t *testing.T) {
	url, js, _ := tele(t, 10)
	none := durable(t, js, "alerts-none", alerts, jetstream.AckNonePolicy)
	durable(t, js, "locations", locations, jetstream.AckExplicitPolicy) // another target's
	_, err := chaos.Apply(context.Background(), &env{broker: url}, fault("redeliver", alerts, map[string]string{"ratio": "0.5"}))
	if err == nil || !strings.Contains(err.Error(), "alerts-none acknowledges nothing") || !strings.Contains(err.Error(), "stream TELE") {
		t.Fatalf("redeliver on an ack-none consumer: %v, want an error naming it", err)
	}
	t.Log(err)
	all := durable(t, js, "alerts-all", alerts, jetstream.AckAllPolicy)
	apply(t, url, "redeliver", alerts, map[string]string{"ratio": "0.5"})
	for _, d := range drain(t, none, 0) {
		if d.times != 1 {
			t.Errorf("ack-none consumer: %s delivered %d times", d.data, d.times)
		}
	}
	again := 0
	for _, d := range drain(t, all, 0) {
		if d.times == 2 {
			again++
		}
	}
	if again != 5 {
		t.Errorf("ack-all consumer: %d of 10 redelivered at ratio 0.5, want 5", again)
	}
}

// A paused consumer hands out nothing: redeliver says so rather than do nothing.
func TestRedeliverOnAPausedConsumer(t *testing.T) {
	url, js, _ := tele(t, 10)
	durable(t, js, "alerts", alerts, jetstream.AckExplicitPolicy)
	if _, err := js.PauseConsumer(context.Background(), "TELE", "alerts", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err := chaos.Apply(context.Background(), &env{broker: url}, fault("redeliver", alerts, nil))
	if err == nil || !strings.Contains(err.Error(), "alerts is paused") {
		t.Fatalf("redeliver on a paused consumer: %v, want an error naming it", err)
	}
	if _, err := js.ResumeConsumer(context.Background(), "TELE", "alerts"); err != nil {
		t.Fatal(err)
	}
	apply(t, url, "redeliver", alerts, nil)
}

// A consumer with a max deliver still gets each message once.
func TestRedeliverKeepsOneDeliveryUnderMaxDeliver(t *testing.T) {
	url, js, _ := tele(t, 10)
	c, err := js.CreateConsumer(context.Background(), "TELE", jetstream.ConsumerConfig{Durable: "alerts",
		FilterSubject: alerts + ".>", AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 3})
	if err != nil {
		t.Fatal(err)
	}
	apply(t, url, "redeliver", alerts, map[string]string{"ratio": "0.2", "times": "5"})
	got := drain(t, c, 0)
	if m := missing(t, ids(alerts, 0, 10), data(got)); len(m) > 0 {
		t.Errorf("lost %v under max deliver 3", m)
	}
	if got[0].times != 3 || got[1].times != 3 || got[2].times != 1 {
		t.Errorf("deliveries %v, want the first two 3 times (max deliver 3)", got)
	}
}

// Drop deletes only what no consumer has had: a consumer that already took the first
// messages finds the rest short by the ratio, and the stream still holds the first.
func TestDropDeletesUndeliveredMessages(t *testing.T) {
	const n, consumed = 50, 10
	dropped := func() []string {
		url, js, st := tele(t, n)
		al := durable(t, js, "alerts", alerts, jetstream.AckExplicitPolicy)
		loc := durable(t, js, "locations", locations, jetstream.AckExplicitPolicy)
		// A replay that stopped at the start (an ephemeral consumer) is not waited for.
		if _, err := js.CreateConsumer(context.Background(), "TELE", jetstream.ConsumerConfig{FilterSubject: alerts + ".>",
			InactiveThreshold: time.Minute}); err != nil {
			t.Fatal(err)
		}
		first := drain(t, al, consumed)
		if heal := apply(t, url, "drop", alerts, map[string]string{"ratio": "0.1"}); heal != nil {
			t.Error("drop returned a heal: it is instantaneous")
		}
		rest := drain(t, al, 0)
		if want := n - consumed - share(0.1, n-consumed); len(rest) != want {
			t.Errorf("%d alerts arrived after the drop, want %d", len(rest), want)
		}
		gone := missing(t, ids(alerts, 0, n), append(data(first), data(rest)...))
		// What was delivered before is still in the stream: only undelivered ones go.
		info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(alerts+".>"))
		if err != nil {
			t.Fatal(err)
		}
		var kept uint64
		for _, c := range info.State.Subjects {
			kept += c
		}
		if kept != uint64(n-len(gone)) {
			t.Errorf("the stream holds %d alerts, want %d", kept, n-len(gone))
		}
		if m := missing(t, ids(locations, 0, n), data(drain(t, loc, 0))); len(m) > 0 {
			t.Errorf("locations lost: %v", m)
		}
		return gone
	}
	first := dropped()
	if len(first) != share(0.1, n-consumed) {
		t.Fatalf("dropped %v, want %d", first, share(0.1, n-consumed))
	}
	if second := dropped(); !slices.Equal(first, second) {
		t.Errorf("two runs dropped different messages: %v, %v", first, second)
	}
}

// With no consumer at all every target message may go.
func TestDropWithoutConsumers(t *testing.T) {
	const n = 40
	url, _, st := tele(t, n)
	apply(t, url, "drop", alerts, map[string]string{"ratio": "0.25"})
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(">"))
	if err != nil {
		t.Fatal(err)
	}
	var al, loc uint64
	for subj, c := range info.State.Subjects {
		if strings.HasPrefix(subj, alerts+".") {
			al += c
		} else {
			loc += c
		}
	}
	if al != n-10 || loc != n {
		t.Errorf("%d alerts and %d locations left, want %d and %d", al, loc, n-10, n)
	}
}

func TestDelayHoldsMessagesForTheWindow(t *testing.T) {
	const n = 50
	delayed := func() []string {
		url, js, _ := tele(t, n)
		al := durable(t, js, "alerts", alerts, jetstream.AckExplicitPolicy)
		loc := durable(t, js, "locations", locations, jetstream.AckExplicitPolicy)
		heal := apply(t, url, "delay", alerts, map[string]string{"ratio": "0.2"})
		if heal == nil {
			t.Fatal("delay returned no heal")
		}
		during := drain(t, al, 0)
		held := missing(t, ids(alerts, 0, n), data(during))
		if len(held) != share(0.2, n) {
			t.Errorf("%d alerts missing during the window, want %d", len(held), share(0.2, n))
		}
		if err := heal(context.Background()); err != nil {
			t.Fatal(err)
		}
		after := drain(t, al, 0)
		// They come back after the window, in their order, each once.
		if !slices.Equal(data(after), held) {
			t.Errorf("after the heal %v arrived, want %v", data(after), held)
		}
		if m := missing(t, ids(alerts, 0, n), append(data(during), data(after)...)); len(m) > 0 {
			t.Errorf("lost %v", m)
		}
		if m := missing(t, ids(locations, 0, n), data(drain(t, loc, 0))); len(m) > 0 {
			t.Errorf("locations lost: %v", m)
		}
		return held
	}
	if first, second := delayed(), delayed(); !slices.Equal(first, second) {
		t.Errorf("two runs delayed different messages: %v, %v", first, second)
	}
}

// A heal that cannot put the messages back says how many it holds, and puts them back
// when called again.
func TestDelayNeverLosesHeldMessagesSilently(t *testing.T) {
	const n = 20
	url, js, st := tele(t, n)
	al := durable(t, js, "alerts", alerts, jetstream.AckExplicitPolicy)
	heal := apply(t, url, "delay", alerts, map[string]string{"ratio": "0.5"})
	full := apply(t, url, "stream-full", alerts, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	err := heal(ctx)
	if err == nil || !strings.Contains(err.Error(), "10 of 10 held messages not published again") || !strings.Contains(err.Error(), "stream TELE") {
		t.Fatalf("heal into a full stream: %v, want an error counting the held messages", err)
	}
	t.Log(err)
	if err := full(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := missing(t, ids(alerts, 0, n), data(drain(t, al, 0))); len(m) > 0 {
		t.Errorf("lost %v", m)
	}
	if info, _ := st.Info(context.Background()); info.State.Msgs != 2*n {
		t.Errorf("the stream holds %d messages, want %d", info.State.Msgs, 2*n)
	}
}

func TestReorderMovesMessagesToTheEndReversed(t *testing.T) {
	const n = 50
	k := share(0.2, n)
	moved := func() []string {
		url, js, _ := tele(t, n)
		al := durable(t, js, "alerts", alerts, jetstream.AckExplicitPolicy)
		loc := durable(t, js, "locations", locations, jetstream.AckExplicitPolicy)
		if heal := apply(t, url, "reorder", alerts, map[string]string{"ratio": "0.2"}); heal != nil {
			t.Error("reorder returned a heal: it is instantaneous")
		}
		got := data(drain(t, al, 0))
		if m := missing(t, ids(alerts, 0, n), got); len(m) > 0 {
			t.Errorf("lost %v", m)
		}
		if len(got) != n {
			t.Fatalf("%d alerts arrived, want %d", len(got), n)
		}
		stay, tail := got[:n-k], got[n-k:]
		if !slices.IsSorted(stay) {
			t.Errorf("the messages not moved arrived out of order: %v", stay)
		}
		if !slices.IsSortedFunc(tail, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Errorf("the moved messages arrived %v, want the held ones last in reverse order", tail)
		}
		if m := missing(t, ids(locations, 0, n), data(drain(t, loc, 0))); len(m) > 0 {
			t.Errorf("locations lost: %v", m)
		}
		return tail
	}
	if first, second := moved(), moved(); !slices.Equal(first, second) {
		t.Errorf("two runs moved different messages: %v, %v", first, second)
	}
}

// When the broker does not take the moved messages back, reorder fails counting them
// and returns a heal that puts them back.
func TestReorderNeverLosesMovedMessagesSilently(t *testing.T) {
	const n = 20
	url, js, _ := tele(t, n)
	al := durable(t, js, "alerts", alerts, jetstream.AckExplicitPolicy)
	full := apply(t, url, "stream-full", alerts, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	heal, err := chaos.Apply(ctx, &env{broker: url}, fault("reorder", alerts, map[string]string{"ratio": "0.5"}))
	if err == nil || heal == nil || !strings.Contains(err.Error(), "reorder: stream TELE: 10 of 10 held messages not published again") {
		t.Fatalf("reorder into a full stream: %v, want an error counting the held messages and a heal", err)
	}
	if err := full(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := data(drain(t, al, 0))
	if m := missing(t, ids(alerts, 0, n), got); len(m) > 0 {
		t.Errorf("lost %v", m)
	}
	if tail := got[n/2:]; !slices.IsSortedFunc(tail, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("the moved messages arrived %v, want them last in reverse order", tail)
	}
}

func TestStreamFullRefusesPublishesForTheWindow(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  jetstream.StreamConfig
		n    int
	}{
		{"holding messages", jetstream.StreamConfig{Duplicates: time.Hour}, 5},
		{"empty", jetstream.StreamConfig{}, 0},
		{"per-subject limit", jetstream.StreamConfig{MaxMsgsPerSubject: 1}, 3},
		// A work queue emptied by its consumer during the window still refuses.
		{"work queue", jetstream.StreamConfig{Retention: jetstream.WorkQueuePolicy}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := jetStream(t)
			_, js := brokertest.JetStream(t, url)
			cfg := tc.cfg
			cfg.Name, cfg.Subjects = "DLQ", []string{"dlq.>"}
			st, err := js.CreateStream(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.n {
				if _, err := js.Publish(ctx, fmt.Sprintf("dlq.m%d", i), []byte("parked")); err != nil {
					t.Fatal(err)
				}
			}
			before, err := st.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			heal := apply(t, url, "stream-full", "dlq", nil)
			if heal == nil {
				t.Fatal("stream-full returned no heal")
			}
			if cfg.Retention == jetstream.WorkQueuePolicy {
				c, err := js.CreateConsumer(ctx, "DLQ", jetstream.ConsumerConfig{Durable: "w", AckPolicy: jetstream.AckExplicitPolicy})
				if err != nil {
					t.Fatal(err)
				}
				b, err := c.Fetch(tc.n, jetstream.FetchMaxWait(time.Second))
				if err != nil {
					t.Fatal(err)
				}
				for m := range b.Messages() {
					if err := m.DoubleAck(ctx); err != nil {
						t.Fatal(err)
					}
				}
			} else if info, _ := st.Info(ctx); info.State.Msgs != uint64(tc.n) {
				t.Errorf("the full stream holds %d messages, want its %d", info.State.Msgs, tc.n)
			}
			for _, subj := range []string{"dlq.new", "dlq.m0"} {
				if _, err := js.Publish(ctx, subj, []byte("refused")); err == nil {
					t.Errorf("a publish on %s during the window succeeded", subj)
				} else {
					t.Log(err)
				}
			}
			if err := heal(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := js.Publish(ctx, "dlq.new", []byte("taken")); err != nil {
				t.Errorf("a publish after the heal: %v", err)
			}
			after, err := st.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(after.Config, before.Config) {
				t.Errorf("config after the heal:\n%+v\nwant\n%+v", after.Config, before.Config)
			}
		})
	}
}

// A target with no stream is an error that says so, for every kind; so are parameters
// out of range.
func TestMessageFaultErrors(t *testing.T) {
	url, _, _ := tele(t, 1)
	e := &env{broker: url}
	for _, kind := range []string{"redeliver", "drop", "delay", "reorder", "stream-full"} {
		heal, err := chaos.Apply(context.Background(), e, fault(kind, "nothing.here", nil))
		if err == nil || heal != nil || !strings.Contains(err.Error(), kind+": find the stream of nothing.here.>") {
			t.Errorf("%s on a subject with no stream: %v, want an error naming the subject", kind, err)
		}
	}
	for _, f := range []plan.Fault{
		fault("drop", alerts, map[string]string{"ratio": "2"}),
		fault("delay", alerts, map[string]string{"ratio": "-0.1"}),
		fault("reorder", alerts, map[string]string{"ratio": "x"}),
		fault("redeliver", alerts, map[string]string{"times": "0"}),
	} {
		if _, err := chaos.Apply(context.Background(), e, f); err == nil {
			t.Errorf("%s %v accepted", f.Kind, f.Params)
		}
	}
}

// A fault that finds nothing to act on did not apply: it says so, rather than pass as
// applied. Here every alert was delivered already, and then one waits where a share of
// 0.2 of it rounds to none.
func TestMessageFaultsActingOnNothingFail(t *testing.T) {
	const n = 5
	url, js, _ := tele(t, n)
	al := durable(t, js, "alerts", alerts, jetstream.AckExplicitPolicy)
	drain(t, al, n)
	e := &env{broker: url}
	for _, kind := range []string{"drop", "delay", "reorder"} {
		heal, err := chaos.Apply(context.Background(), e, fault(kind, alerts, map[string]string{"ratio": "1"}))
		if err == nil || heal != nil || !strings.Contains(err.Error(), "nothing to act on: 0 of the target's messages wait undelivered") {
			t.Errorf("%s with every message delivered: heal %v, error %v; want an error saying it acted on nothing", kind, heal != nil, err)
		}
	}
	m := nats.NewMsg(alerts + ".robot-9")
	m.Data = []byte("late")
	m.Header.Set("Telemetry-Event", "late")
	if _, err := js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"drop", "delay", "reorder"} {
		_, err := chaos.Apply(context.Background(), e, fault(kind, alerts, map[string]string{"ratio": "0.2"}))
		if err == nil || !strings.Contains(err.Error(), "1 of the target's messages wait undelivered, and a share of 0.2 of them is none") {
			t.Errorf("%s of a share that rounds to none: %v; want an error saying so", kind, err)
		}
	}
	if got := drain(t, al, 0); len(got) != 1 || got[0].data != "late" {
		t.Errorf("after the faults that acted on nothing, the consumer got %v, want the one late alert", data(got))
	}
}

// Every new kind is declared as the scenarios expect: on a stream, everywhere.
func TestMessageKindsDeclared(t *testing.T) {
	for name, window := range map[string]bool{"redeliver": false, "drop": false, "delay": true, "reorder": false, "stream-full": true} {
		k, ok := plan.LookupFaultKind(name)
		if !ok {
			t.Fatalf("%s not registered", name)
		}
		if k.Window != window || k.Target != plan.TargetStream || !k.ActsEverywhere(plan.RoleStream) || k.Doc == "" {
			t.Errorf("%s declared %+v", name, k)
		}
		for p, d := range k.Params {
			if d.Doc == "" || d.Default == "" {
				t.Errorf("%s: parameter %s undocumented or without a default", name, p)
			}
		}
	}
}
