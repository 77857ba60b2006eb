package chaos

import (
	"github.com/mscli/mscli/plan"
)

// A toxiproxy slow_close toxic.
func init() {
	Register(plan.FaultKind{Name: "slow-close", Target: plan.TargetLink, Window: true, Doc: "delay the close of connections",
		Params: map[string]plan.Param{
			"delay":     {Type: plan.ParamDuration, Doc: "how long the close is delayed"},
			"direction": directionParam,
		}, Acts: linkTargets}, toxicFault{typ: "slow_close", attrs: msAttr("delay", "delay")})
}
