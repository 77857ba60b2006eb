package scenarios

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mscli/mscli/plan"
)

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// service checks one service: a fixture, or a user's program that some testbed can
// start (image: on docker, command: on local), reach and observe.
func (v *validator) service(svc plan.Service, p string) {
	user := svc.Image != "" || len(svc.Command) > 0
	switch {
	case svc.Fixture == "" && !user:
		v.report(p, true, "service %s needs fixture: (a built-in service: %s), or image: (docker testbed) and/or command: (local testbed) for your own", svc.Name, strings.Join(plan.FixtureNames(), ", "))
		return
	case svc.Fixture != "" && user:
		key := "image"
		if svc.Image == "" {
			key = "command"
		}
		v.report(p+"."+key, true, "service %s has both fixture: and %s:; give one", svc.Name, key)
		return
	case svc.Fixture != "":
		fx, known := plan.LookupFixture(svc.Fixture)
		if !known {
			v.report(p+".fixture", false, "unknown fixture %q%s (known: %s)", svc.Fixture, didYouMean(svc.Fixture, plan.FixtureNames()), strings.Join(plan.FixtureNames(), ", "))
		} else {
			v.paramsAt(p, ".options.", "fixture "+svc.Fixture, fx.Options, svc.Options, nil)
		}
		if fx.Upstreams && len(svc.DependsOn) == 0 {
			v.report(p, true, "fixture %s fronts other services: name them in depends-on, e.g. depends-on: [bank, catalog]", svc.Fixture)
		}
		if fx.Upstreams && svc.DependsOn != nil {
			// A gateway's depends-on names the services it fronts; it reaches the
			// broker on its own, as every fixture does.
			v.dependsOn(svc, p, false)
			v.upstreams(svc, p)
		}
		if svc.Database != "" && !slices.Contains(KnownDatabases, svc.Database) {
			v.report(p+".database", false, "unknown database %q%s (known: %s)", svc.Database, didYouMean(svc.Database, KnownDatabases), strings.Join(KnownDatabases, ", "))
		}
		// What a user's service declares, a fixture knows of itself.
		for key, set := range map[string]bool{"command": false, "env": svc.Env != nil, "port": svc.Port != 0,
			"ready": svc.Ready != (plan.Probe{}), "depends-on": svc.DependsOn != nil && !fx.Upstreams, "bugs": svc.Bugs != nil,
			"secrets": svc.Secrets != nil,
			"observe": svc.Observe != (plan.Observe{HTTP: DefaultObserve}) && svc.Observe.Observed()} {
			if set {
				v.report(p+"."+key, true, "%s: is for a service of your own; fixture %s declares it itself", key, svc.Fixture)
			}
		}
		return
	}
	if len(svc.Command) == 0 && v.s.pos[p+".command"] != (position{}) && !v.isBad(p+".command") {
		v.report(p+".command", false, "command must name a program")
	}
	if svc.Database != "" && svc.Database != "postgres" {
		v.report(p+".database", false, "unknown database %q for a service of your own (known: postgres)", svc.Database)
	}
	if svc.Options != nil {
		v.report(p+".options", true, "options: are a fixture's; give your own service env: instead")
	}
	if svc.Port < 0 || svc.Port > 65535 {
		v.report(p+".port", false, "port must be from 1 to 65535")
	}
	switch {
	case svc.Ready.HTTP != "" && svc.Ready.TCP:
		v.report(p+".ready", false, "ready takes http: or tcp:, not both")
	case svc.Ready.HTTP != "" && !strings.HasPrefix(svc.Ready.HTTP, "/"):
		v.report(p+".ready.http", false, "ready.http must be a path starting with /, e.g. /healthz")
	case svc.Ready != (plan.Probe{}) && svc.Port == 0:
		v.report(p+".ready", true, "a readiness probe needs the service's port: add port:")
	}
	v.dependsOn(svc, p, true)
	template := func(path, text string) {
		if err := plan.CheckTemplate(text, svc.DependsOn, svc.Database == "postgres"); err != nil {
			v.report(path, false, "%v (templates: {{.Port}}, {{.Replica}}, {{.DatabaseURL}}, {{.NatsURL}}, {{.Addr \"<dependency>\"}})", err)
		}
	}
	for i, a := range svc.Command {
		template(index(p+".command", i), a)
	}
	for _, k := range sortedKeys(svc.Env) {
		if svc.Hostnames {
			break // a compose file's env: literal, and its names are the file's business
		}
		if !envNameRE.MatchString(k) {
			v.report(p+".env."+k, true, "invalid variable name %q", k)
		}
		template(p+".env."+k, svc.Env[k])
	}
	v.secrets(svc, p)
	switch o := svc.Observe; {
	case o.HTTP != "" && o.SQL != nil:
		v.report(p+".observe", false, "observe takes http: or sql:, not both")
	case o.HTTP != "" && !strings.HasPrefix(o.HTTP, "/"):
		v.report(p+".observe", false, "observe must be a path starting with /, e.g. /effects")
	case o.HTTP != "" && svc.Port == 0:
		v.report(p+".observe", true, "observe: %s needs the service's port: add port:", o.HTTP)
	case o.SQL != nil && o.SQL.URL != "":
		v.sqlURL(o.SQL.URL, p+".observe.sql.url")
	case o.SQL != nil && svc.Database != "postgres":
		v.report(p+".observe.sql", true, "observe.sql runs on the service's own database (add database: postgres), or on the one its url: names (postgres://user:password@db:5432/name, as your services reach it)")
	}
	if o := svc.Observe; o.SQL != nil && o.SQL.Effects == "" && o.SQL.States == "" && o.SQL.Operations == "" {
		v.report(p+".observe.sql", false, "observe.sql needs at least one query (effects:, states:, operations:)")
	}
	for _, b := range svc.Bugs {
		bp := p + ".bugs." + b.Name
		if !bugNameRE.MatchString(b.Name) {
			v.report(bp, true, "invalid bug name %q: use lower-case letters, digits and '-'", b.Name)
		}
		if b.Breaks != "" && !slices.Contains(plan.InvariantKindNames(), b.Breaks) {
			v.report(bp+".breaks", false, "unknown invariant %q%s (known: %s)", b.Breaks, didYouMean(b.Breaks, plan.InvariantKindNames()), strings.Join(plan.InvariantKindNames(), ", "))
		}
		for _, k := range sortedKeys(b.Env) {
			if !envNameRE.MatchString(k) {
				v.report(bp+".env."+k, true, "invalid variable name %q", k)
			}
		}
	}
}

// dependsOn checks a service's depends-on: each entry once, another node of the system
// (the broker when broker is true) that a link can reach.
func (v *validator) dependsOn(svc plan.Service, p string, broker bool) {
	deps := map[string]bool{}
	for i, dep := range svc.DependsOn {
		dp := index(p+".depends-on", i)
		var names []string
		if broker {
			names = append(names, plan.BrokerNode)
		}
		for _, o := range v.s.System.Services {
			if o.Name != svc.Name {
				names = append(names, o.Name)
			}
		}
		switch {
		case deps[dep]:
			v.report(dp, false, "%s is listed twice", dep)
		case dep == svc.Name:
			v.report(dp, false, "a service does not depend on itself")
		case !slices.Contains(names, dep):
			v.report(dp, false, "unknown node %q%s (known: %s)", dep, didYouMean(dep, names), strings.Join(names, ", "))
		case dep != plan.BrokerNode && v.portOf(dep) == 0:
			v.report(dp, false, "%s has no port: give it port: so that a link can reach it", dep)
		}
		deps[dep] = true
	}
}

// upstreams checks what a gateway fixture can front today: fixture services (a
// service of your own starts after the fixtures on the local testbed, too late to be
// handed to one), each of no more replicas than the gateway (replica i reaches replica
// i mod n of each: a replica beyond the gateway's would never be called, yet a fault
// on it would be judged as one on the dependency).
func (v *validator) upstreams(svc plan.Service, p string) {
	for i, dep := range svc.DependsOn {
		for _, o := range v.s.System.Services {
			if o.Name != dep {
				continue
			}
			dp := index(p+".depends-on", i)
			switch {
			case o.Fixture == "":
				v.report(dp, false, "fixture %s fronts fixture services only; %s is a service of your own", svc.Fixture, dep)
			case o.Replicas > max(svc.Replicas, 1):
				v.report(dp, false, "%s runs %d replicas and %s %d: each replica of %s reaches one of %s's, so give %s at least %d replicas",
					dep, o.Replicas, svc.Name, max(svc.Replicas, 1), svc.Name, dep, svc.Name, o.Replicas)
			}
		}
	}
}

// portOf is the port of a service of the scenario (0: none, or a fixture's own).
func (v *validator) portOf(name string) int {
	for _, s := range v.s.System.Services {
		if s.Name == name {
			if s.Fixture != "" {
				return 1 // a fixture serves HTTP
			}
			return s.Port
		}
	}
	return 0
}

// sqlURL checks observe.sql.url: a PostgreSQL URL whose host is a node of the system
// — a service, on one of its ports, or a service's own database — which the runner
// reaches from the host at the address the testbed gives it.
func (v *validator) sqlURL(raw, p string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Hostname() == "" {
		v.report(p, false, "url must be a PostgreSQL URL naming a node of the system, e.g. postgres://user:password@db:5432/name")
		return
	}
	port := 5432
	if u.Port() != "" {
		port, _ = strconv.Atoi(u.Port())
	}
	host := u.Hostname()
	var names []string
	for _, s := range v.s.System.Services {
		names = append(names, s.Name)
		if s.Database == "postgres" {
			names = append(names, plan.DatabaseNode(s.Name))
		}
		switch {
		case host == plan.DatabaseNode(s.Name) && s.Database == "postgres":
			if port != 5432 {
				v.report(p, false, "%s listens on 5432, not %d", host, port)
			}
			return
		case host == s.Name:
			switch {
			case !slices.Contains(s.AllPorts(), port):
				v.report(p, false, "%s listens on no port %d (its ports: %s): the url names the port your services reach it on", host, port, portList(s.AllPorts()))
			case s.Replicas > 1:
				// Each replica would be a database of its own: reading one would judge
				// half the writes lost.
				v.report(p, false, "%s runs %d replicas, each a database of its own: the url must name a database of one replica", host, s.Replicas)
			}
			return
		}
	}
	v.report(p, false, "url names %q, no node of this system%s (known: %s)", host, didYouMean(host, names), strings.Join(names, ", "))
}

func portList(ports []int) string {
	if len(ports) == 0 {
		return "none"
	}
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// someTestbedRuns refuses a system no one testbed can start: a service that is only an
// image (docker) beside one that is only a command (local).
func (v *validator) someTestbedRuns() {
	var whys []string
	for _, tb := range plan.Testbeds {
		err := ServicesRunOn(v.s.Topology(), tb)
		if err == nil {
			return
		}
		whys = append(whys, "on "+tb+": "+err.Error())
	}
	v.report("system.services", false, "no testbed can start every service: %s", strings.Join(whys, "; "))
}

// secrets checks a service's secrets: names of variables of mscli's environment (never
// their values: a plan does not depend on the shell that made it, and validate reads
// no environment; run checks that each is set), each once, and none a variable the
// service is given otherwise.
func (v *validator) secrets(svc plan.Service, p string) {
	seen := map[string]bool{}
	for i, name := range svc.Secrets {
		ip := index(p+".secrets", i)
		switch {
		case !envNameRE.MatchString(name):
			v.report(ip, false, "invalid variable name %q", name)
		case seen[name]:
			v.report(ip, false, "secret %s is listed twice", name)
		case hasKey(svc.Env, name) || slices.ContainsFunc(svc.Bugs, func(b plan.Bug) bool { _, ok := b.Env[name]; return ok }):
			v.report(ip, false, "%s is both a secret and in env:; a secret's value comes from mscli's environment only", name)
		case reservedEnv(name, svc):
			v.report(ip, false, "%s is a variable the testbed gives the service itself; name another", name)
		}
		seen[name] = true
	}
}

// reservedEnv reports whether name is a variable a testbed sets for a service
// (plan.Service.Environ, MSCLI_RUN, MSCLI_NODE).
func reservedEnv(name string, svc plan.Service) bool {
	switch {
	case name == "PORT", name == "NATS_URL", name == "DATABASE_URL", strings.HasPrefix(name, "MSCLI_"):
		return true
	}
	return slices.ContainsFunc(svc.DependsOn, func(d string) bool { return plan.EnvName(d) == name })
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }
