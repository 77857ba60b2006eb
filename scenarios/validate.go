package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mscli/mscli/plan"
)

var (
	scenarioNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	// A service name becomes part of node, link and stream names ("bank/0",
	// "client->bank", "bank.commands"), so it may not hold the separators those use.
	serviceNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	bugNameRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// Validate checks a scenario: known kinds, valid targets, faults inside the run, and
// so on. Parse and Load already call it; call it on a Scenario built in Go. The error is
// an ErrorList; for a built Scenario its errors have no position but a Path.
func (s *Scenario) Validate() error { return s.validate().err() }

// validator checks the decoded scenario. Its messages carry the positions recorded while
// decoding; a path that already failed to decode is not reported again.
type validator struct {
	s    *Scenario
	errs ErrorList
}

func (s *Scenario) validate() ErrorList {
	v := &validator{s: s}
	v.check()
	return v.errs
}

// reported says whether a problem under path was reported already.
func (v *validator) reported(path string) bool {
	for _, e := range v.errs {
		if e.Path == path || strings.HasPrefix(e.Path, path+".") {
			return true
		}
	}
	return false
}

// parent strips the last segment of a path: "faults[1].for" → "faults[1]" → "faults".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// isBad says whether path or one of its ancestors failed to decode.
func (v *validator) isBad(path string) bool {
	for p := path; p != ""; p = parent(p) {
		if v.s.bad[p] {
			return true
		}
	}
	return false
}

// anyBad says whether path or anything under it failed to decode.
func (v *validator) anyBad(path string) bool {
	if v.isBad(path) {
		return true
	}
	for p := range v.s.bad {
		if strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[") {
			return true
		}
	}
	return false
}

// report records a problem at path: at its key when atKey, else at its value, or at the
// nearest enclosing thing whose position is known.
func (v *validator) report(path string, atKey bool, format string, args ...any) {
	if v.isBad(path) {
		return
	}
	e := &Error{File: v.s.File, Path: path, Msg: fmt.Sprintf(format, args...)}
	p, ok := v.s.pos[path+"#key"]
	if !atKey || !ok {
		p, ok = v.s.pos[path]
	}
	for q := path; !ok && q != ""; {
		q = parent(q)
		p, ok = v.s.pos[q]
	}
	if ok {
		e.Line, e.Col = p.line, p.col
	}
	v.errs = append(v.errs, e)
}

func (v *validator) check() {
	s := v.s
	switch {
	case s.Name == "":
		v.report("name", false, "name must not be empty")
	case !scenarioNameRE.MatchString(s.Name):
		v.report("name", false, "invalid name %q: use letters, digits, '.', '-' and '_'", s.Name)
	}
	if s.Duration <= 0 {
		v.report("duration", false, "duration must be more than 0s")
	}
	v.system()
	systemOK := v.targetsSound()
	if systemOK && !v.reported("system.services") {
		v.someTestbedRuns()
	}
	v.workload()
	listed := v.invariants()
	v.catches(listed)
	v.thresholds()
	timingOK := s.Duration > 0 && !v.isBad("duration")
	var t targets
	if systemOK {
		t = s.targets()
		if _, err := s.Topology().WorkloadService(s.Workload); err != nil && slices.Contains(plan.WorkloadKindNames(), s.Workload.Kind) && !v.reported("system.services") {
			v.report("workload.service", s.Workload.Service == "", "%v", err)
		}
	}
	for i := range s.Faults {
		v.fault(i, t, systemOK, timingOK)
	}
	if s.Nemesis != nil {
		v.nemesis(t, systemOK, timingOK)
	}
}

// targetsSound says whether the services are known well enough to check fault targets
// against them. When a service, its replica count or its database failed to decode,
// every fault on it would be reported too, for a mistake already reported once.
func (v *validator) targetsSound() bool {
	if v.isBad("system.services") || len(v.s.System.Services) == 0 {
		return false
	}
	for _, svc := range v.s.System.Services {
		p := "system.services." + svc.Name
		if svc.Replicas < 1 || svc.Replicas > maxComposeReplicas || v.isBad(p) {
			return false // a count refused already: its replicas are not enumerated
		}
		for _, k := range []string{"replicas", "database", "fixture", "image"} {
			if v.s.bad[p+"."+k] {
				return false
			}
		}
	}
	return true
}

func (v *validator) system() {
	s := v.s
	if !slices.Contains(KnownBrokers, s.System.Broker) {
		v.report("system.broker", false, "unknown broker %q%s (known: %s)", s.System.Broker, didYouMean(s.System.Broker, KnownBrokers), strings.Join(KnownBrokers, ", "))
	}
	if len(s.System.Services) == 0 {
		v.report("system.services", false, "no services: a scenario needs at least one")
	}
	seen := map[string]bool{}
	for _, svc := range s.System.Services {
		p := "system.services." + svc.Name
		switch {
		case seen[svc.Name]:
			v.report(p, true, "service %q is declared twice", svc.Name)
		case svc.Name == plan.ClientNode || svc.Name == plan.BrokerNode:
			v.report(p, true, "%q names the workload's clients or the broker; give the service another name", svc.Name)
		case strings.HasSuffix(svc.Name, "-db"):
			v.report(p, true, "invalid service name %q: names ending in -db are kept for databases", svc.Name)
		case !serviceNameRE.MatchString(svc.Name):
			v.report(p, true, "invalid service name %q: use lower-case letters, digits and '-', starting with a letter", svc.Name)
		}
		seen[svc.Name] = true
		v.service(svc, p)
		if svc.Replicas < 1 {
			v.report(p+".replicas", false, "replicas must be at least 1")
		}
		if svc.Replicas > maxComposeReplicas {
			v.report(p+".replicas", false, "replicas must be at most %d", maxComposeReplicas)
		}
	}
}

func (v *validator) workload() {
	w := v.s.Workload
	if !slices.Contains(plan.WorkloadKindNames(), w.Kind) {
		v.report("workload.kind", false, "unknown workload kind %q%s (known: %s)", w.Kind, didYouMean(w.Kind, plan.WorkloadKindNames()), strings.Join(plan.WorkloadKindNames(), ", "))
	}
	positive := func(key string, n int) {
		if n < 1 {
			v.report("workload."+key, false, "%s must be at least 1", key)
		}
	}
	positive("clients", w.Clients)
	positive("rate", w.Rate)
	if kind, known := plan.LookupWorkloadKind(w.Kind); known {
		// A key that is neither common nor the kind's is an unknown key of the
		// workload, as the file sees it.
		keys := append(slices.Clone(workloadKeys), sortedKeys(kind.Params)...)
		own := map[string]string{}
		for k, val := range w.Params {
			if _, ok := kind.Params[k]; ok {
				own[k] = val
				continue
			}
			if hint := didYouMean(k, keys); hint != "" {
				v.report("workload.params."+k, true, "unknown key %q in workload%s", k, hint)
			} else {
				v.report("workload.params."+k, true, "unknown key %q in workload (known: %s)", k, strings.Join(keys, ", "))
			}
		}
		n := len(v.errs)
		v.params("workload", "workload "+w.Kind, kind.Params, own, nil)
		if len(v.errs) == n {
			v.kindCheck(kind, own)
		}
	}
	if w.Timeout <= 0 {
		v.report("workload.timeout", false, "timeout must be more than 0s")
	}
	positive("retry.attempts", w.Retry.Attempts)
	if w.Retry.Backoff < 0 {
		v.report("workload.retry.backoff", false, "backoff must not be negative")
	}
	if w.Retry.Max < w.Retry.Backoff {
		v.report("workload.retry.max", false, "max (%s) must not be less than backoff (%s)", w.Retry.Max, w.Retry.Backoff)
	}
}

// invariants checks the list and returns the names it holds.
func (v *validator) invariants() map[string]bool {
	listed := map[string]bool{}
	if len(v.s.Invariants) == 0 {
		v.report("invariants", false, "no invariants: a scenario must check at least one (known: %s)", strings.Join(plan.InvariantKindNames(), ", "))
	}
	for i, inv := range v.s.Invariants {
		p := index("invariants", i)
		if v.isBad(p) {
			continue
		}
		if !slices.Contains(plan.InvariantKindNames(), inv.Name) {
			v.report(p+".name", true, "unknown invariant %q%s (known: %s)", inv.Name, didYouMean(inv.Name, plan.InvariantKindNames()), strings.Join(plan.InvariantKindNames(), ", "))
			continue
		}
		if listed[inv.Name] {
			v.report(p+".name", true, "invariant %s is listed twice", inv.Name)
		}
		listed[inv.Name] = true
		v.params(p, "invariant "+inv.Name, invariantParams(inv.Name), inv.Params, nil)
	}
	return listed
}

func (v *validator) catches(listed map[string]bool) {
	var known []string // the bugs the scenario's services declare
	for _, svc := range v.s.System.Services {
		for _, b := range svc.KnownBugs() {
			known = append(known, b.Name)
		}
	}
	for _, bug := range sortedKeys(v.s.Catches) {
		inv := v.s.Catches[bug]
		p := "catches." + bug
		switch {
		case !bugNameRE.MatchString(bug):
			v.report(p, true, "invalid bug name %q: use lower-case letters, digits and '-'", bug)
		case !slices.Contains(known, bug):
			v.report(p, true, "no service of this system knows the bug %q%s (known: %s)", bug, didYouMean(bug, known), orList(known))
		}
		switch {
		case listed[inv]:
		case slices.Contains(plan.InvariantKindNames(), inv):
			if !v.anyBad("invariants") {
				v.report(p, false, "%s is caught by invariant %s, which the scenario does not check: add it to invariants", bug, inv)
			}
		default:
			v.report(p, false, "unknown invariant %q%s (known: %s)", inv, didYouMean(inv, plan.InvariantKindNames()), strings.Join(plan.InvariantKindNames(), ", "))
		}
	}
}

// params checks given parameters against a kind's: unknown ones (suggesting among the
// kind's and also among others, such as a fault's own keys), values of the wrong type,
// and required ones that are missing.
func (v *validator) params(path, what string, spec map[string]plan.Param, given map[string]string, others []string) {
	v.paramsAt(path, ".params.", what, spec, given, others)
}

// paramsAt is params for values under path+sub ("options." of a fixture's service).
func (v *validator) paramsAt(path, sub, what string, spec map[string]plan.Param, given map[string]string, others []string) {
	names := sortedKeys(spec)
	for _, k := range sortedKeys(given) {
		pp := path + sub + k
		param, ok := spec[k]
		if !ok {
			hint := didYouMean(k, append(slices.Clone(names), others...))
			switch {
			case hint != "":
			case len(names) == 0:
				hint = " (it takes none)"
			default:
				hint = " (its parameters: " + strings.Join(names, ", ") + ")"
			}
			v.report(pp, true, "%s has no parameter %q%s", what, k, hint)
			continue
		}
		if _, msg := normParam(k, param, given[k]); msg != "" {
			v.report(pp, false, "%s", msg)
		}
	}
	for _, k := range names {
		if _, ok := given[k]; !ok && spec[k].Default == "" && !spec[k].Optional && !v.s.bad[path+sub+k] {
			v.report(path, false, "%s needs parameter %s: (%s)", what, k, spec[k].Doc)
		}
	}
}

// normParam checks a parameter's value and writes it in one canonical way ("250ms",
// "0.2"), by plan's rule, so that plans compare equal however the file spells a value.
// The message is "" when the value is valid.
func normParam(name string, p plan.Param, val string) (string, string) {
	v, err := p.Norm(name, val)
	if err != nil {
		msg := err.Error()
		if p.Type == plan.ParamEnum {
			if hint := didYouMean(val, p.Enum); hint != "" {
				msg = fmt.Sprintf("invalid %s %q%s (one of %s)", name, val, hint, strings.Join(p.Enum, ", "))
			}
		}
		return "", msg
	}
	return v, ""
}
