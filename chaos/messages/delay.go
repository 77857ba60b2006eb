package messages

import (
	"context"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/plan"
)

// A get, delete and later republish through the broker's NATS URL, the same on every
// testbed.
func init() {
	chaos.Register(plan.FaultKind{Name: "delay", Target: plan.TargetStream, Window: true,
		Doc:    "hold back a share of the stream's undelivered messages for the fault's window",
		Params: ratioParam("0.2", "share of the target's messages not yet delivered that are held back"),
		Acts:   streamReach}, chaos.FaultFunc(delay))
}

// delay holds back round(ratio × n) of the n messages on the target's subjects that no
// consumer has had delivered yet, picked as drop picks: at apply it copies each and
// deletes it from the stream, and the heal publishes the copies again, in their
// original order, with their subject, data and application headers but no Nats-*
// header (the de-duplication window would swallow a copy with its Nats-Msg-Id).
// Consumers get them after the window, behind what was published meanwhile.
//
// The copies live in the harness's memory for the window: the heal keeps trying until
// the broker takes every one of them or its context ends, and then fails saying how
// many were not put back. An apply that fails half-way returns, with its error, a heal
// that puts back what it already took out.
func delay(ctx context.Context, env chaos.Env, f plan.Fault) (chaos.Heal, error) {
	t, seqs, err := pickUndelivered(ctx, env, f)
	if err != nil {
		return nil, err
	}
	defer t.nc.Close() // the heal connects again: no connection is held for the window
	held, err := t.hold(ctx, seqs)
	if len(held) == 0 {
		return nil, err
	}
	r := &republisher{kind: f.Kind, stream: t.name, url: env.BrokerURL(), msgs: held}
	return r.heal, err
}
