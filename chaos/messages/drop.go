package messages

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/plan"
)

// A delete through the broker's NATS URL, the same on every testbed.
func init() {
	chaos.Register(plan.FaultKind{Name: "drop", Target: plan.TargetStream, Window: false,
		Doc:    "delete a share of the stream's messages that no consumer has had yet",
		Params: ratioParam("0.1", "share of the target's messages not yet delivered that are deleted"),
		Acts:   streamReach}, chaos.FaultFunc(drop))
}

// drop deletes round(ratio × n) of the n messages on the target's subjects that no
// consumer of those subjects has had delivered yet: they vanish between the publisher,
// which was told they were stored, and the consumer, as messages lost by a broker do.
// The stream's other subjects are untouched. Which messages go is a seeded pick
// (choiceSeed) over their sequence numbers, so the same plan over the same stream
// drops the same ones.
func drop(ctx context.Context, env chaos.Env, f plan.Fault) (chaos.Heal, error) {
	t, seqs, err := pickUndelivered(ctx, env, f)
	if err != nil {
		return nil, err
	}
	defer t.nc.Close()
	for _, seq := range seqs {
		err := t.st.DeleteMsg(ctx, seq)
		if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) { // not found: gone already
			return nil, t.errorf("delete #%d: %w", seq, err)
		}
	}
	return nil, nil
}
