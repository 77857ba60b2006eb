package chaos

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/mscli/mscli/plan"
)

// An http_error toxic (package testbed/httptoxic, which both testbeds' toxiproxy servers
// know) on the downstream stream of the link's proxies: the dependency gets every
// request, counts it and applies it, and a share of its answers reach the caller as a
// server error instead.
func init() {
	Register(plan.FaultKind{Name: "http-errors", Target: plan.TargetLink, Window: true,
		Doc: "answer a share of the HTTP responses with an error status: the request still reached the dependency",
		Params: map[string]plan.Param{
			"ratio": {Type: plan.ParamRatio, Default: "1", Doc: "share of the responses answered with the status"},
			// Only the server errors a caller may try again after: a 4xx tells it its
			// request was refused, when it was applied, and a 501 or a 505 that it never
			// will be; a workload would count an applied operation as failed.
			"status": {Type: plan.ParamEnum, Enum: []string{"500", "502", "503", "504"}, Default: "503",
				Doc: "the status answered instead: 500, 502, 503 or 504"},
		}, Acts: httpLinks}, FaultFunc(httpErrors))
}

// httpLinks are the links whose answers are HTTP: a database link carries the
// database's own protocol, which the toxic would pass untouched.
var httpLinks = []plan.Reach{{Role: plan.RoleLink, On: plan.Testbeds}}

func httpErrors(ctx context.Context, env Env, f plan.Fault) (Heal, error) {
	ratio, err := f.Args().Ratio("ratio")
	if err != nil {
		return nil, err
	}
	v, err := f.Args().Enum("status")
	if err != nil {
		return nil, err
	}
	status, _ := strconv.Atoi(v) // one of the declared statuses
	return addToxicsEach(ctx, env, f, "http_error", []string{downstream}, func(l Link) map[string]any {
		return map[string]any{"ratio": ratio, "status": status, "seed": linkSeed(f, l.Name())}
	})
}

// linkSeed seeds the draws on one proxy of a fault's link. A plan gives a fault no seed
// of its own, so it comes from what places the fault in the plan — its kind, target and
// start — and from the proxy, so that the replicas behind a link draw apart and a run of
// the same plan draws the same.
func linkSeed(f plan.Fault, link string) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s", f.Kind, f.Target, int64(f.At), link)
	return int64(h.Sum64())
}
