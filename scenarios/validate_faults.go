package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mscli/mscli/plan"
)

func (v *validator) fault(i int, t targets, systemOK, timingOK bool) {
	s := v.s
	f := s.Faults[i]
	p := index("faults", i)
	if v.isBad(p) {
		return
	}
	kind, ok := plan.LookupFaultKind(f.Kind)
	if !ok {
		kinds := plan.FaultKindNames()
		v.report(p+".fault", false, "unknown fault %q%s (known: %s)", f.Kind, didYouMean(f.Kind, kinds), strings.Join(kinds, ", "))
		return
	}
	v.params(p, "fault "+f.Kind, kind.Params, f.Params, faultKeys)

	switch {
	case f.Target == "":
		v.report(p+".target", false, "fault %s needs a target: %s: <%s name>", f.Kind, kind.Target, kind.Target)
	case systemOK && !slices.Contains(t.valid[kind.Target], f.Target):
		v.report(p+".target", false, "unknown %s %q%s", kind.Target, f.Target, v.knownTargets(f.Target, t, kind.Target))
	case systemOK:
		if msg := t.unsupported(kind, f.Target); msg != "" {
			v.report(p+".target", false, "%s", msg)
		}
	}

	if !timingOK || v.isBad(p+".at") || v.isBad(p+".for") {
		return
	}
	if f.At < 0 || f.For < 0 {
		v.report(p, false, "at and for must not be negative")
		return
	}
	if kind.Window {
		switch {
		case f.For == 0 && v.misspelt(f.Params, "for"):
			// Already reported as an unknown parameter that looks like for:.
		case f.For == 0:
			v.report(p+".for", false, "fault %s lasts a while: give for: (how long), more than 0s", f.Kind)
		case f.End() > s.Duration:
			v.report(p+".for", false, "fault ends at %s, after the scenario's duration %s", f.End(), s.Duration)
		}
	} else {
		if f.For != 0 {
			v.report(p+".for", true, "fault %s is instantaneous: for: does not apply", f.Kind)
		}
		if f.At >= s.Duration {
			v.report(p+".at", false, "fault at %s is not before the end of the scenario (duration %s)", f.At, s.Duration)
		}
	}
	if r, given := f.Params["restart-after"]; given && f.Kind == "kill" {
		if d, msg := parseDuration(r); msg == "" && d > 0 && f.At+d > s.Duration {
			v.report(p+".params.restart-after", false, "node restarts at %s, after the scenario's duration %s", f.At+d, s.Duration)
		}
	}
	if restore := f.Params["restore"]; f.Kind == "wipe" && restore != "" && !v.isBad(p+".target") {
		if !v.snapshotBefore(i, restore) {
			v.report(p+".params.restore", false, "no snapshot %q of %s is taken before %s: add a snapshot fault on %s earlier", restore, f.Target, f.At, f.Target)
		}
	}
}

// misspelt says whether one of a fault's parameters is probably a misspelling of key.
func (v *validator) misspelt(params map[string]string, key string) bool {
	for k := range params {
		if suggest(k, faultKeys) == key {
			return true
		}
	}
	return false
}

// snapshotBefore says whether a scenario fault takes snapshot name of fault i's node
// before fault i: a wipe can only restore what was saved.
func (v *validator) snapshotBefore(i int, name string) bool {
	w := v.s.Faults[i]
	for _, f := range v.s.Faults {
		if f.Kind != "snapshot" || f.Target != w.Target || f.At >= w.At {
			continue
		}
		n := f.Params["name"]
		if n == "" {
			n = kindOf("snapshot").Params["name"].Default
		}
		if n == name {
			return true
		}
	}
	return false
}

// knownTargets is the tail of an unknown-target message: the likely one, or the list.
func (v *validator) knownTargets(name string, t targets, k plan.TargetKind) string {
	valid := t.valid[k]
	if hint := didYouMean(name, valid); hint != "" {
		return hint
	}
	if len(valid) == 0 {
		return fmt.Sprintf(" (the system has no %ss)", k)
	}
	return fmt.Sprintf(" (%ss: %s)", k, oneOf(valid))
}

func (v *validator) nemesis(t targets, systemOK, timingOK bool) {
	s := v.s
	n := s.Nemesis
	if v.isBad("nemesis") {
		return
	}
	if len(n.Faults) == 0 {
		v.report("nemesis.faults", false, "the nemesis needs at least one fault kind (known: %s)", strings.Join(plan.FaultKindNames(), ", "))
	}
	lasting := false
	for i, nf := range n.Faults {
		p := index("nemesis.faults", i)
		if v.isBad(p) {
			continue
		}
		kind, ok := plan.LookupFaultKind(nf.Kind)
		if !ok {
			kinds := plan.FaultKindNames()
			v.report(p+".name", true, "unknown fault %q%s (known: %s)", nf.Kind, didYouMean(nf.Kind, kinds), strings.Join(kinds, ", "))
			continue
		}
		lasting = lasting || kind.Window || kind.Name == "kill"
		if _, ok := nf.Params["restore"]; ok && kind.Name == "wipe" {
			v.report(p+".params.restore", true, "the nemesis cannot restore: it does not order a wipe after a snapshot; write that pair as faults")
		}
		given := map[string]string{}
		for k, val := range NemesisParams[nf.Kind] {
			given[k] = val
		}
		for k, val := range nf.Params {
			given[k] = val
		}
		v.params(p, "fault "+nf.Kind, kind.Params, given, nil)
		switch {
		case !systemOK:
		case len(t.draw[kind.Target]) == 0:
			why := ""
			if kind.Target == plan.TargetStream {
				why = " (only fixture services have streams)"
			}
			v.report(p+".name", true, "the nemesis cannot draw %s: the system has no %s to act on%s", nf.Kind, kind.Target, why)
		case len(t.drawable(kind)) == 0:
			v.report(p+".name", true, "%s", t.nemesisUnsupported(kind))
		}
	}
	if n.Count < 1 || n.Count > 1000 {
		v.report("nemesis.count", false, "count must be from 1 to 1000")
	}
	if lasting && n.Min <= 0 {
		v.report("nemesis.min", false, "min must be more than 0s")
	}
	if n.Max < n.Min {
		v.report("nemesis.max", false, "max (%s) must not be less than min (%s)", n.Max, n.Min)
	}
	if !timingOK || v.anyBad("nemesis.between") {
		return
	}
	lo, hi := n.window(s.Duration)
	switch {
	case lo < 0 || hi < lo:
		v.report("nemesis.between", false, "between is [start, end] with start ≤ end")
	case hi > s.Duration:
		v.report("nemesis.between", false, "between ends at %s, after the scenario's duration %s", hi, s.Duration)
	case lasting && n.Max >= n.Min && lo+n.Max > s.Duration:
		v.report("nemesis.max", false, "a nemesis fault starting at %s may last until %s, after the scenario's duration %s", lo, lo+n.Max, s.Duration)
	case !lasting && lo >= s.Duration:
		v.report("nemesis.between", false, "between starts at %s, not before the end of the scenario (duration %s)", lo, s.Duration)
	}
}
