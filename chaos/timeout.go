package chaos

import (
	"github.com/mscli/mscli/plan"
)

// A toxiproxy timeout toxic.
func init() {
	Register(plan.FaultKind{Name: "timeout", Target: plan.TargetLink, Window: true, Doc: "stop all data and close the connection after a delay (0: never close)",
		Params: map[string]plan.Param{
			"timeout":   {Type: plan.ParamDuration, Default: "0s", Doc: "close after this long; 0 holds the data forever"},
			"direction": directionParam,
		}, Acts: linkTargets}, toxicFault{typ: "timeout", attrs: msAttr("timeout", "timeout")})
}
