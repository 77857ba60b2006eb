// Package messages holds the fault kinds that act on the broker's messages: the
// broker-facing adapter of package chaos, the one part of it that speaks NATS. Its kinds
// register with chaos.Register when the package is imported.
package messages

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/internal/timing"
	"github.com/mscli/mscli/plan"
)

// A republish through the broker's NATS URL, the same on every testbed.
func init() {
	chaos.Register(plan.FaultKind{Name: "duplicate", Target: plan.TargetStream, Window: false,
		Doc: "republish a share of a stream's messages without their dedup id",
		Params: map[string]plan.Param{
			"ratio": {Type: plan.ParamRatio, Default: "0.1", Doc: "share of the stream's messages republished"},
		}, Acts: []plan.Reach{{Role: plan.RoleStream, On: plan.Testbeds}}}, chaos.FaultFunc(duplicate))
}

// duplicate republishes a share of a stream's existing messages with their subject,
// data and application headers but without Nats-Msg-Id, so JetStream's de-duplication
// window does not catch them: consumers see the same command twice, as after a
// publisher retry that outlived the window, and only an idempotent consumer survives.
//
// The stream is the one bound to "<target>.>". Which messages are picked depends only on
// the fault (kind, target, time) and the stream's sequence numbers, so the same plan
// over the same stream duplicates the same messages.
func duplicate(ctx context.Context, env chaos.Env, f plan.Fault) (chaos.Heal, error) {
	ratio, err := f.Args().Ratio("ratio")
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(f.Target, ".>")
	if prefix == "" {
		return nil, errors.New("duplicate: empty stream subject prefix")
	}
	nc, err := connectBroker(ctx, env.BrokerURL())
	if err != nil {
		return nil, fmt.Errorf("duplicate: connect to broker: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("duplicate: %w", err)
	}
	name, err := js.StreamNameBySubject(ctx, prefix+".>")
	if err != nil {
		return nil, fmt.Errorf("duplicate: find the stream of %s.>: %w", prefix, err)
	}
	st, err := js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("duplicate: stream %s: %w", name, err)
	}
	state := st.CachedInfo().State
	if state.Msgs == 0 {
		return nil, nil
	}
	rng := rand.New(rand.NewPCG(choiceSeed(f), 0))
	// The range is fixed before publishing so the copies themselves are never copied.
	for seq := state.FirstSeq; seq <= state.LastSeq; seq++ {
		if rng.Float64() >= ratio {
			continue
		}
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // deleted or consumed from a work queue: only existing messages count
		}
		if err != nil {
			return nil, fmt.Errorf("duplicate: get %s #%d: %w", name, seq, err)
		}
		if !strings.HasPrefix(m.Subject, prefix+".") {
			continue // the stream may hold more subjects than the target's
		}
		out := nats.NewMsg(m.Subject)
		out.Data = m.Data
		for k, vs := range m.Header {
			// Nats-* headers are instructions to the server (Msg-Id, Expected-*) or
			// metadata of the stored original (direct get): the copy is a plain publish.
			if strings.HasPrefix(k, "Nats-") {
				continue
			}
			out.Header[k] = vs
		}
		if _, err := js.PublishMsg(ctx, out); err != nil {
			return nil, fmt.Errorf("duplicate: republish %s #%d: %w", name, seq, err)
		}
	}
	return nil, nil
}

func choiceSeed(f plan.Fault) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%d", f.Kind, f.Target, int64(f.At))
	return h.Sum64()
}

// connectBroker connects to the broker, trying again until ctx ends: another fault may
// hold the broker down (a kill whose restart is still under way) when a message fault
// is due, and the message fault then applies as soon as the broker is back rather than
// not at all.
func connectBroker(ctx context.Context, url string) (*nats.Conn, error) {
	wait := 100 * time.Millisecond
	for {
		nc, err := nats.Connect(url, nats.Name("mscli-chaos"), nats.Timeout(2*time.Second))
		if err == nil {
			return nc, nil
		}
		if !timing.Sleep(ctx, wait) {
			return nil, fmt.Errorf("%w (the broker did not answer before %v)", err, context.Cause(ctx))
		}
		wait = min(2*wait, time.Second)
	}
}
