package messages

import (
	"context"
	"errors"
	"slices"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/plan"
)

// A get, delete and republish through the broker's NATS URL, the same on every testbed.
func init() {
	chaos.Register(plan.FaultKind{Name: "reorder", Target: plan.TargetStream, Window: false,
		Doc:    "move a share of the stream's undelivered messages to its end, in reverse order",
		Params: ratioParam("0.2", "share of the target's messages not yet delivered that are moved"),
		Acts:   streamReach}, chaos.FaultFunc(reorder))
}

// reorder takes round(ratio × n) of the n messages on the target's subjects that no
// consumer has had delivered yet, picked as drop picks, out of the stream and publishes
// them again at once in reverse order: consumers get them after the messages that
// followed them, and out of order among themselves. The copies keep their subject,
// data and application headers but no Nats-* header, as delay's do.
//
// When the broker does not take the copies back before the apply's context ends, the
// error says how many are missing and the returned heal (run at the end of the run)
// tries again: a moved message is never lost silently.
func reorder(ctx context.Context, env chaos.Env, f plan.Fault) (chaos.Heal, error) {
	t, seqs, err := pickUndelivered(ctx, env, f)
	if err != nil {
		return nil, err
	}
	defer t.nc.Close()
	held, err := t.hold(ctx, seqs)
	if len(held) == 0 {
		return nil, err
	}
	slices.Reverse(held)
	r := &republisher{kind: f.Kind, stream: t.name, url: env.BrokerURL(), msgs: held}
	if perr := r.publish(ctx); perr != nil {
		return r.heal, errors.Join(err, perr)
	}
	return nil, err
}
