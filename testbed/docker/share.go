package docker

import (
	"context"

	"github.com/moby/moby/client"

	"github.com/mscli/mscli/plan"
)

// ---- mscli's containers share the engine's processors ----

// procsShare is the GOMAXPROCS of each of the run's containers of mscli's image (the
// broker, toxiproxy and its sidecars, the fixtures' replicas): the engine's processors
// shared evenly among them, at least one each. A Go program schedules onto as many
// threads as the machine has processors, so several of them busy on one small machine
// keep waking threads that find their work taken by another: on the 2-core machine,
// with the bank's two replicas, the broker and toxiproxy each at GOMAXPROCS 2, the
// probe of bank-idempotency (no faults) recorded 8,300-10,500 operations in 15 s; at 1
// each, 11,000-12,500. A user's own containers keep their own settings.
func procsShare(ncpu, containers int) int {
	if ncpu < 1 || containers < 1 {
		return 0
	}
	return max(1, ncpu/containers)
}

// ownContainers counts the containers of mscli's image the plan starts.
func (e *Env) ownContainers(pl *plan.Plan) int {
	n := 1 + len(e.sidecars) // toxiproxy, its sidecars
	if e.broker != nil {
		n++
	}
	for _, s := range pl.Topology.Services {
		if !s.User() {
			n += s.Replicas
		}
	}
	return n
}

// engineCPUs is how many processors the engine's host has, 0 when it does not say.
func (e *Env) engineCPUs(ctx context.Context) int {
	info, err := e.eng.Client.Info(ctx, client.InfoOptions{}) // the engine's, not testcontainers' (it logs a banner)
	if err != nil {
		return 0
	}
	return info.Info.NCPU
}
