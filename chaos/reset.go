package chaos

import (
	"github.com/mscli/mscli/plan"
)

// A toxiproxy reset_peer toxic.
func init() {
	Register(plan.FaultKind{Name: "reset", Target: plan.TargetLink, Window: true, Doc: "reset connections (TCP RST) after a delay",
		Params: map[string]plan.Param{
			"timeout":   {Type: plan.ParamDuration, Default: "0s", Doc: "reset after this long"},
			"direction": directionParam,
		}, Acts: linkTargets}, toxicFault{typ: "reset_peer", attrs: msAttr("timeout", "timeout")})
}
