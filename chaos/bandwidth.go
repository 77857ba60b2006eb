package chaos

import (
	"github.com/mscli/mscli/plan"
)

// A toxiproxy bandwidth toxic.
func init() {
	Register(plan.FaultKind{Name: "bandwidth", Target: plan.TargetLink, Window: true, Doc: "limit throughput",
		Params: map[string]plan.Param{
			"rate":      {Type: plan.ParamInt, Doc: "KB/s"},
			"direction": directionParam,
		}, Acts: linkTargets}, toxicFault{typ: "bandwidth", attrs: bandwidthAttrs})
}

func bandwidthAttrs(f plan.Fault) (map[string]any, error) {
	rate, err := f.Args().Int("rate")
	if err != nil {
		return nil, err
	}
	return map[string]any{"rate": rate}, nil
}
