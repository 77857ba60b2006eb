package messages

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/plan"
)

// Consumers that stop taking messages while producers go on: a backlog builds up on
// the stream, which the other message faults (drop, delay, reorder, redeliver) then
// act on, and which the consumers work through when they resume.
func init() {
	chaos.Register(plan.FaultKind{Name: "pause-consumers", Target: plan.TargetStream, Window: true,
		Doc:  "pause the stream's durable consumers of the target's subjects for the window (JetStream consumer pause): messages pile up undelivered",
		Acts: streamReach}, chaos.FaultFunc(pauseConsumers))
}

// pauseSlack is how long after its planned end a paused consumer resumes by itself, in
// case the heal never comes (mscli killed): the broker keeps the pause's deadline.
const pauseSlack = 5 * time.Second

// pauseConsumers pauses every durable consumer of the target's subjects; the heal
// resumes them.
func pauseConsumers(ctx context.Context, env chaos.Env, f plan.Fault) (chaos.Heal, error) {
	t, err := openTarget(ctx, env, f)
	if err != nil {
		return nil, err
	}
	defer t.nc.Close()
	cs, err := t.consumers(ctx)
	if err != nil {
		return nil, err
	}
	until := time.Now().Add(time.Duration(f.For) + pauseSlack)
	var paused []string
	for _, c := range cs {
		if c.Config.Durable == "" {
			continue // a replay reader, not a consumer messages wait for
		}
		if _, err := t.js.PauseConsumer(ctx, t.name, c.Name, until); err != nil {
			return nil, errors.Join(t.errorf("pause %s: %w", c.Name, err), resume(ctx, env, f, paused))
		}
		paused = append(paused, c.Name)
	}
	if len(paused) == 0 {
		return nil, t.errorf("no durable consumer of %s", t.subjects())
	}
	return func(ctx context.Context) error { return resume(ctx, env, f, paused) }, nil
}

// resume resumes the named consumers of the fault's stream.
func resume(ctx context.Context, env chaos.Env, f plan.Fault, names []string) error {
	if len(names) == 0 {
		return nil
	}
	t, err := openTarget(ctx, env, f)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	defer t.nc.Close()
	var errs []error
	for _, name := range names {
		if _, err := t.js.ResumeConsumer(ctx, t.name, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			errs = append(errs, t.errorf("resume %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
