package messages

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/internal/timing"
	"github.com/mscli/mscli/plan"
)

// A stream update through the broker's NATS URL, the same on every testbed.
func init() {
	chaos.Register(plan.FaultKind{Name: "stream-full", Target: plan.TargetStream, Window: true,
		Doc:  "the stream refuses every new message for the fault's window, as a full or down stream does",
		Acts: streamReach}, chaos.FaultFunc(streamFull))
}

// streamFull makes the stream refuse every publish for the window, as a dead-letter
// stream that is down (or full) does: publishers get an error from the broker, and
// only those that keep what they could not publish lose nothing. It updates the
// stream's limits to discard new messages with room for none: MaxBytes 1, which no
// message fits (a stored message is its subject and data and some 30 bytes more), so
// the stream refuses whatever it holds — even empty, or emptied by a work queue's
// consumers during the window — and keeps every message it has (limits with discard
// new never remove any). A stream with a per-subject limit also gets discard new per
// subject, so a message that would replace its subject's oldest is refused too. The
// heal puts back the configuration read at apply.
//
// The stream's consumers go on delivering what it holds; the fault is on publishing.
func streamFull(ctx context.Context, env chaos.Env, f plan.Fault) (chaos.Heal, error) {
	t, err := openTarget(ctx, env, f)
	if err != nil {
		return nil, err
	}
	defer t.nc.Close()
	info, err := t.st.Info(ctx)
	if err != nil {
		return nil, t.errorf("info: %w", err)
	}
	orig := info.Config
	full := orig
	full.Discard = jetstream.DiscardNew
	full.MaxBytes = 1
	if full.MaxMsgsPerSubject > 0 {
		full.DiscardNewPerSubject = true
	}
	if _, err := t.js.UpdateStream(ctx, full); err != nil {
		return nil, t.errorf("update to refuse new messages: %w", err)
	}
	url, name := env.BrokerURL(), t.name
	return func(ctx context.Context) error {
		nc, err := connectBroker(ctx, url)
		if err != nil {
			return fmt.Errorf("%s: stream %s: connect to broker to restore its configuration: %w", f.Kind, name, err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return fmt.Errorf("%s: stream %s: %w", f.Kind, name, err)
		}
		// The broker may be back from a restart with JetStream not yet ready: try
		// again until ctx ends rather than leave the stream refusing.
		wait := 100 * time.Millisecond
		for {
			_, err := js.UpdateStream(ctx, orig)
			if err == nil {
				return nil
			}
			if errors.Is(err, jetstream.ErrStreamNotFound) {
				return fmt.Errorf("%s: stream %s: restore its configuration: %w", f.Kind, name, err)
			}
			if !timing.Sleep(ctx, wait) {
				return fmt.Errorf("%s: stream %s: restore its configuration: %w", f.Kind, name, err)
			}
			wait = min(2*wait, time.Second)
		}
	}, nil
}
