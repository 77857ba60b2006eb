package chaos

import (
	"github.com/mscli/mscli/plan"
)

// A toxiproxy latency toxic on the link's proxies.
func init() {
	Register(plan.FaultKind{Name: "latency", Target: plan.TargetLink, Window: true, Doc: "delay every chunk of data",
		Params: map[string]plan.Param{
			"latency":   {Type: plan.ParamDuration, Doc: "added delay"},
			"jitter":    {Type: plan.ParamDuration, Default: "0s", Doc: "± random extra delay"},
			"direction": directionParam,
		}, Acts: linkTargets}, toxicFault{typ: "latency", attrs: latencyAttrs})
}

func latencyAttrs(f plan.Fault) (map[string]any, error) {
	lat, err := f.Args().Duration("latency")
	if err != nil {
		return nil, err
	}
	jit, err := f.Args().Duration("jitter")
	if err != nil {
		return nil, err
	}
	return map[string]any{"latency": lat.Milliseconds(), "jitter": jit.Milliseconds()}, nil
}
