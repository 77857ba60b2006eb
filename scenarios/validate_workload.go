package scenarios

import (
	"errors"
	"strings"

	"github.com/mscli/mscli/plan"
)

// kindCheck runs the workload kind's own check (plan.WorkloadKind.Check) once its
// parameters are valid, on the workload as it will be planned (every default filled in),
// and reports each problem where it is written: a *plan.ParamError at the item of the
// parameter it names ("workload.params.operations[1].path"), anything else at the
// workload.
func (v *validator) kindCheck(kind plan.WorkloadKind, given map[string]string) {
	if kind.Check == nil || v.anyBad("workload.params") {
		return
	}
	w := v.s.Workload
	w.Params = fillParams(kind.Params, given)
	var report func(error)
	report = func(err error) {
		if err == nil {
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				report(e)
			}
			return
		}
		pe, ok := err.(*plan.ParamError)
		if !ok {
			if inner := errors.Unwrap(err); inner != nil && errors.As(err, &pe) {
				report(inner) // a wrapped item, or several
			} else {
				v.report("workload.kind", false, "workload %s: %v", w.Kind, err)
			}
			return
		}
		path := "workload.params." + pe.Param + pe.Path
		msg := pe.Msg
		if pe.Key && len(pe.Known) > 0 {
			key := pe.Path[strings.LastIndexAny(pe.Path, ".]")+1:]
			if hint := didYouMean(key, pe.Known); hint != "" {
				msg += hint
			} else {
				msg += " (known: " + strings.Join(pe.Known, ", ") + ")"
			}
		}
		v.report(path, pe.Key, "%s", msg)
	}
	report(kind.Check(w))
}
