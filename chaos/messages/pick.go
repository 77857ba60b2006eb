package messages

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/internal/timing"
	"github.com/mscli/mscli/plan"
)

// The helpers the message kinds share: finding the target's stream and consumers,
// listing the target's messages no consumer has had yet, a seeded pick among them, and
// holding (get + delete) and republishing messages.

// ratioParam is the one parameter drop, delay and reorder take.
func ratioParam(def, doc string) map[string]plan.Param {
	return map[string]plan.Param{"ratio": {Type: plan.ParamRatio, Default: def, Doc: doc}}
}

// streamReach is where every message kind acts: a stream, on every testbed, through
// the broker's own URL.
var streamReach = []plan.Reach{{Role: plan.RoleStream, On: plan.Testbeds}}

// target is a fault's stream, opened on a connection of its own.
type target struct {
	kind   string // the fault kind, for errors
	prefix string // "telemetry.alert": the target's messages are on prefix.>
	nc     *nats.Conn
	js     jetstream.JetStream
	st     jetstream.Stream
	name   string // the stream's name
}

// subjects is the subject filter of the target's messages.
func (t *target) subjects() string { return t.prefix + ".>" }

// errorf is an error that names the kind and the stream.
func (t *target) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: stream %s: %w", t.kind, t.name, fmt.Errorf(format, args...))
}

// openTarget connects to the broker (waiting for it as connectBroker does) and finds
// the stream bound to "<target>.>". The caller closes t.nc.
func openTarget(ctx context.Context, env chaos.Env, f plan.Fault) (*target, error) {
	prefix := strings.TrimSuffix(f.Target, ".>")
	if prefix == "" {
		return nil, fmt.Errorf("%s: empty stream subject prefix", f.Kind)
	}
	nc, err := connectBroker(ctx, env.BrokerURL())
	if err != nil {
		return nil, fmt.Errorf("%s: connect to broker: %w", f.Kind, err)
	}
	t := &target{kind: f.Kind, prefix: prefix, nc: nc}
	if t.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: %w", f.Kind, err)
	}
	if t.name, err = t.js.StreamNameBySubject(ctx, t.subjects()); err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: find the stream of %s: %w", f.Kind, t.subjects(), err)
	}
	if t.st, err = t.js.Stream(ctx, t.name); err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: stream %s: %w", f.Kind, t.name, err)
	}
	return t, nil
}

// consumers lists the stream's consumers that take some of the target's messages:
// those whose filter overlaps "<target>.>" (no filter: the whole stream).
func (t *target) consumers(ctx context.Context) ([]*jetstream.ConsumerInfo, error) {
	l := t.st.ListConsumers(ctx)
	var out []*jetstream.ConsumerInfo
	for ci := range l.Info() {
		if slices.ContainsFunc(filters(ci.Config), func(fs string) bool { return overlap(fs, t.subjects()) }) {
			out = append(out, ci)
		}
	}
	if err := l.Err(); err != nil {
		return nil, t.errorf("list consumers: %w", err)
	}
	return out, nil
}

// filters are a consumer's filter subjects; the whole stream (">") when it has none.
func filters(c jetstream.ConsumerConfig) []string {
	switch {
	case len(c.FilterSubjects) > 0:
		return c.FilterSubjects
	case c.FilterSubject != "":
		return []string{c.FilterSubject}
	}
	return []string{">"}
}

// overlap says whether some subject matches both subject filters a and b.
func overlap(a, b string) bool {
	ta, tb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; ; i++ {
		switch {
		case i == len(ta) && i == len(tb):
			return true
		case i == len(ta) || i == len(tb):
			return false // one is a subject (or filter) shorter than any the other matches
		case ta[i] == ">" || tb[i] == ">":
			return true // ">" matches one token or more, and the other has one here
		case ta[i] != "*" && tb[i] != "*" && ta[i] != tb[i]:
			return false
		}
	}
}

// undelivered lists, in stream order, the sequences of the target's messages that no
// consumer of the target's subjects has had delivered yet: those after the smallest
// Delivered.Stream over those consumers, every one of them when there is no consumer.
// Only durable consumers count: an ephemeral one is a reader of the harness's or a
// service's replay (an ordered consumer), which may have stopped anywhere, not one of
// the consumers messages wait for. Messages published while it runs are left out.
func (t *target) undelivered(ctx context.Context) ([]uint64, error) {
	info, err := t.st.Info(ctx)
	if err != nil {
		return nil, t.errorf("info: %w", err)
	}
	state := info.State
	if state.Msgs == 0 {
		return nil, nil
	}
	cons, err := t.consumers(ctx)
	if err != nil {
		return nil, err
	}
	from, low, durable := state.FirstSeq, uint64(math.MaxUint64), false
	for _, ci := range cons {
		if ci.Config.Durable != "" {
			low, durable = min(low, ci.Delivered.Stream), true
		}
	}
	if durable {
		from = max(from, low+1)
	}
	var seqs []uint64
	for seq := from; seq <= state.LastSeq; seq++ {
		// The next message on the target's subjects at or after seq: the broker skips
		// the stream's other subjects.
		m, err := t.st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(t.subjects()))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return nil, t.errorf("get the message at or after #%d on %s: %w", seq, t.subjects(), err)
		}
		if m.Sequence > state.LastSeq {
			break
		}
		seqs = append(seqs, m.Sequence)
		seq = m.Sequence
	}
	return seqs, nil
}

// share is round(ratio × n).
func share(ratio float64, n int) int { return int(math.Round(ratio * float64(n))) }

// pick draws round(ratio × len(seqs)) of seqs without replacement, seeded by the
// fault, and returns them in stream order: the same fault over the same messages picks
// the same ones.
func pick(f plan.Fault, seqs []uint64, ratio float64) []uint64 {
	k := share(ratio, len(seqs))
	s := slices.Clone(seqs)
	rng := rand.New(rand.NewPCG(choiceSeed(f), 0))
	for i := range k { // a partial Fisher–Yates shuffle
		j := i + rng.IntN(len(s)-i)
		s[i], s[j] = s[j], s[i]
	}
	s = s[:k]
	slices.Sort(s)
	return s
}

// copyOf is a plain publish of a stored message: its subject, data and application
// headers, without the Nats-* ones (instructions to the server such as Nats-Msg-Id,
// which would have the de-duplication window swallow it, or metadata of the stored
// original).
func copyOf(m *jetstream.RawStreamMsg) *nats.Msg {
	out := nats.NewMsg(m.Subject)
	out.Data = m.Data
	for k, vs := range m.Header {
		if !strings.HasPrefix(k, "Nats-") {
			out.Header[k] = vs
		}
	}
	return out
}

// hold gets each of seqs and deletes it from the stream, and returns the copies to
// publish again, in stream order. A message already gone (taken from a work queue,
// expired) is skipped. On error it returns what it holds so far: those are out of the
// stream and must be put back.
func (t *target) hold(ctx context.Context, seqs []uint64) ([]*nats.Msg, error) {
	var held []*nats.Msg
	for _, seq := range seqs {
		m, err := t.st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return held, t.errorf("get #%d: %w", seq, err)
		}
		err = t.st.DeleteMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // gone between the get and the delete
		}
		if err != nil {
			return held, t.errorf("delete #%d: %w", seq, err)
		}
		held = append(held, copyOf(m))
	}
	return held, nil
}

// republisher publishes held messages back to their stream, in order, over a
// connection of its own. It remembers how far it got, so a second call after a failed
// one publishes only the rest.
type republisher struct {
	kind, stream, url string
	msgs              []*nats.Msg
	done              int
}

// publish publishes the messages not yet published. A refused or unanswered publish
// is tried again — on a new connection when the broker went away — until ctx ends;
// then it returns an error that says how many messages were not put back.
func (r *republisher) publish(ctx context.Context) error {
	if r.done == len(r.msgs) {
		return nil
	}
	var nc *nats.Conn
	var js jetstream.JetStream
	defer func() {
		if nc != nil {
			nc.Close()
		}
	}()
	wait := 100 * time.Millisecond
	for r.done < len(r.msgs) {
		if nc == nil || nc.IsClosed() {
			var err error
			if nc, err = connectBroker(ctx, r.url); err != nil {
				return r.lost(fmt.Errorf("connect to broker: %w", err))
			}
			if js, err = jetstream.New(nc); err != nil {
				return r.lost(err)
			}
		}
		// A lost acknowledgement (the broker stored the message, the answer did not
		// come back) makes the next try store it twice: better twice than never.
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := js.PublishMsg(pctx, r.msgs[r.done])
		cancel()
		if err == nil {
			r.done++
			wait = 100 * time.Millisecond
			continue
		}
		if !timing.Sleep(ctx, wait) {
			return r.lost(fmt.Errorf("%w (%v)", err, context.Cause(ctx)))
		}
		wait = min(2*wait, time.Second)
	}
	return nil
}

// lost is the error of a publish that gave up.
func (r *republisher) lost(err error) error {
	return fmt.Errorf("%s: stream %s: %d of %d held messages not published again: %w",
		r.kind, r.stream, len(r.msgs)-r.done, len(r.msgs), err)
}

// heal is the republisher as a Heal.
func (r *republisher) heal(ctx context.Context) error { return r.publish(ctx) }

// pickUndelivered opens the fault's target and picks the fault's share ("ratio") of
// the target's undelivered messages, as drop, delay and reorder act on them. A pick of
// none is an error: the fault did not apply. The caller closes t.nc.
func pickUndelivered(ctx context.Context, env chaos.Env, f plan.Fault) (*target, []uint64, error) {
	ratio, err := f.Args().Ratio("ratio")
	if err != nil {
		return nil, nil, err
	}
	t, err := openTarget(ctx, env, f)
	if err != nil {
		return nil, nil, err
	}
	seqs, err := t.undelivered(ctx)
	if err != nil {
		t.nc.Close()
		return nil, nil, err
	}
	picked := pick(f, seqs, ratio)
	if len(picked) == 0 {
		// A fault that acts on nothing did not apply: its run must not pass as if it had.
		t.nc.Close()
		return nil, nil, t.errorf("nothing to act on: %d of the target's messages wait undelivered, and a share of %g of them is none "+
			"(pause the target's consumers first, with pause-consumers, so a backlog piles up)", len(seqs), ratio)
	}
	return t, picked, nil
}
