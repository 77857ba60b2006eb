package messages

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/plan"
)

// Pulls and naks on the service's own consumers through the broker's NATS URL, the same
// on every testbed.
func init() {
	chaos.Register(plan.FaultKind{Name: "redeliver", Target: plan.TargetStream, Window: false,
		Doc: "have the broker deliver a share of the messages waiting for the consumers again",
		Params: map[string]plan.Param{
			"ratio": {Type: plan.ParamRatio, Default: "0.2", Doc: "share of the messages waiting for each consumer that are redelivered"},
			"times": {Type: plan.ParamInt, Default: "1", Min: 1, Doc: "how many more times each of them is delivered"},
		}, Acts: streamReach}, chaos.FaultFunc(redeliver))
}

// fetchWait bounds one pull of redeliver's: the messages it asks for are waiting.
const fetchWait = time.Second

// redeliver makes the broker deliver messages again, as after a consumer that took
// them and died before acknowledging: for each durable pull consumer of the stream
// whose filter overlaps "<target>.>" and which acknowledges (ack policy explicit or
// all), it takes k = round(ratio × the consumer's pending messages) from the consumer
// and naks them, `times` times over. Redeliveries come before new messages, so with a
// backlog the same k oldest messages come back each round, and the service's replicas
// then get each of them with a delivery count of times+1.
//
// A consumer with a max deliver gets at most max-deliver − 1 rounds, so that the
// service still sees each message once; ack-none, push, ephemeral and paused consumers
// are left alone, and a stream with no consumer to redeliver on is an error that says
// why each was left. A consumer whose filter is wider than the target redelivers its
// oldest pending messages whatever their subject: a pull cannot choose.
func redeliver(ctx context.Context, env chaos.Env, f plan.Fault) (chaos.Heal, error) {
	ratio, err := f.Args().Ratio("ratio")
	if err != nil {
		return nil, err
	}
	times, err := f.Args().Int("times")
	if err != nil {
		return nil, err
	}
	t, err := openTarget(ctx, env, f)
	if err != nil {
		return nil, err
	}
	defer t.nc.Close()
	cons, err := t.consumers(ctx)
	if err != nil {
		return nil, err
	}
	var on []*jetstream.ConsumerInfo
	var skipped []string
	for _, ci := range cons {
		if why := cannotRedeliver(ci); why != "" {
			skipped = append(skipped, ci.Name+" "+why)
			continue
		}
		on = append(on, ci)
	}
	if len(on) == 0 {
		msg := "no consumer of " + t.subjects() + " to redeliver on: none is a durable pull consumer that acknowledges (ack policy explicit or all)"
		if len(skipped) > 0 {
			msg += "; " + strings.Join(skipped, "; ")
		}
		return nil, t.errorf("%s", msg)
	}
	nakd := 0
	for _, ci := range on {
		k := share(ratio, int(ci.NumPending))
		if k == 0 {
			continue
		}
		rounds := int(times)
		if ci.Config.MaxDeliver > 0 {
			rounds = min(rounds, ci.Config.MaxDeliver-1)
		}
		c, err := t.js.Consumer(ctx, t.name, ci.Name)
		if err != nil {
			return nil, t.errorf("consumer %s: %w (%d messages nak'd before)", ci.Name, err, nakd)
		}
		for range rounds {
			n, err := t.nakOnce(ctx, c, ci.Config, k)
			nakd += n
			if err != nil {
				return nil, t.errorf("consumer %s: %w (%d messages nak'd in all)", ci.Name, err, nakd)
			}
			if n == 0 {
				break // the service's replicas took them all first
			}
		}
	}
	return nil, nil
}

// cannotRedeliver says why a consumer cannot have messages redelivered; "" if it can.
func cannotRedeliver(ci *jetstream.ConsumerInfo) string {
	c := ci.Config
	switch {
	case ci.Paused:
		// It hands out nothing until it resumes, and waiting for that would hold the
		// target (the scheduler's lock) that the resume needs.
		return fmt.Sprintf("is paused (%s more)", ci.PauseRemaining.Round(time.Millisecond))
	case c.Durable == "":
		return "is not durable"
	case c.DeliverSubject != "":
		return "is a push consumer"
	case c.AckPolicy == jetstream.AckNonePolicy:
		return "acknowledges nothing (ack policy none), so a nak means nothing to it"
	case c.MaxDeliver == 1:
		return "delivers each message once (max deliver 1)"
	}
	return ""
}

// nakOnce takes up to k messages from the consumer and naks each of them without delay,
// and returns how many it nak'd. Each nak waits for the broker's answer, so the next
// pull finds the messages back in the consumer's redelivery queue.
func (t *target) nakOnce(ctx context.Context, c jetstream.Consumer, cfg jetstream.ConsumerConfig, k int) (int, error) {
	wait := fetchWait
	if cfg.MaxRequestExpires > 0 {
		wait = min(wait, cfg.MaxRequestExpires)
	}
	var got []jetstream.Msg
	for len(got) < k {
		batch := k - len(got)
		if cfg.MaxRequestBatch > 0 {
			batch = min(batch, cfg.MaxRequestBatch)
		}
		b, err := c.Fetch(batch, jetstream.FetchMaxWait(wait))
		if err != nil {
			return t.nakAll(ctx, got, fmt.Errorf("fetch: %w", err))
		}
		n := len(got)
		for m := range b.Messages() {
			got = append(got, m)
		}
		if err := b.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
			return t.nakAll(ctx, got, fmt.Errorf("fetch: %w", err))
		}
		if len(got) == n {
			break // fewer waiting than asked for
		}
	}
	return t.nakAll(ctx, got, nil)
}

// nakAll naks msgs, each as a request the broker answers once it has the message
// queued for redelivery (jetstream.Msg.Nak does not wait), and returns how many it
// nak'd and prior joined to its own error. A message it could not nak is redelivered
// anyway when its ack wait ends.
func (t *target) nakAll(ctx context.Context, msgs []jetstream.Msg, prior error) (int, error) {
	for i, m := range msgs {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := t.nc.RequestWithContext(rctx, m.Reply(), []byte("-NAK"))
		cancel()
		if err != nil {
			var seq uint64
			if md, _ := m.Metadata(); md != nil {
				seq = md.Sequence.Stream
			}
			return i, errors.Join(prior, fmt.Errorf("nak #%d: %w", seq, err))
		}
	}
	return len(msgs), prior
}
