package plan

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

// Probe says when a started replica of a service is ready: HTTP answers 200 on its
// port at that path, or TCP accepts a connection on its port. A fixture's probe is its
// own (/readyz); a user's service with a port and no probe is probed over TCP.
type Probe struct {
	HTTP string `json:"http,omitempty"`
	TCP  bool   `json:"tcp,omitempty"`
}

// Observe says where a service's effects are read (the effects contract, see
// history.Effect): an HTTP endpoint on the service's port, or SQL queries run on the
// service's own PostgreSQL database once the system is quiet. Neither: the service is
// not observed.
type Observe struct {
	HTTP string      `json:"http,omitempty"`
	SQL  *SQLObserve `json:"sql,omitempty"`
}

// Observed reports whether the service's effects are read at all.
func (o Observe) Observed() bool { return o.HTTP != "" || o.SQL != nil }

// SQLObserve are the queries that read a service's effects from its database. Each
// returns columns named as the contract's fields: Effects view, kind, key, id, amount
// and optionally seq, pos, at (Unix ns); States view, key, value and optionally seq;
// Operations id, state. An empty query reads nothing of that kind.
//
// URL, when set, names the database the way the system's services do
// ("postgres://orders:orders@db:5432/orders"): the runner reaches that node's port
// from the host (the testbed's address for it) with the URL's user, password and
// database. Without it the queries run on the service's own database (database:
// postgres).
type SQLObserve struct {
	URL        string `json:"url,omitempty"`
	Effects    string `json:"effects,omitempty"`
	States     string `json:"states,omitempty"`
	Operations string `json:"operations,omitempty"`
}

// User reports whether the service is a user's program, not a built-in fixture.
func (s Service) User() bool { return s.Fixture == "" }

// Container says how the docker testbed builds and runs a service's image where it
// differs from the image's own defaults (a compose service's).
type Container struct {
	// Build, when set, is how Image is built before the run.
	Build *Build `json:"build,omitempty"`
	// Entrypoint and Cmd replace the image's ENTRYPOINT and CMD when set.
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
	User       string   `json:"user,omitempty"`
	WorkingDir string   `json:"working_dir,omitempty"`
}

// Build is a docker build: a context directory (absolute), the Dockerfile in it, build
// arguments and a target stage.
type Build struct {
	Context    string            `json:"context"`
	Dockerfile string            `json:"dockerfile,omitempty"`
	Args       map[string]string `json:"args,omitempty"`
	Target     string            `json:"target,omitempty"`
}

// AllPorts are the ports the service listens on: Ports, or Port alone.
func (s Service) AllPorts() []int {
	switch {
	case len(s.Ports) > 0:
		return s.Ports
	case s.Port != 0:
		return []int{s.Port}
	}
	return nil
}

// NeedsBroker reports whether the topology needs the broker mscli runs: a fixture
// (which speaks to it), or a service that depends on it. A system that brings its own
// broker (a compose file's) does not.
func (t Topology) NeedsBroker() bool {
	for _, s := range t.Services {
		if !s.User() || slices.Contains(s.DependsOn, BrokerNode) {
			return true
		}
	}
	return false
}

// Vars are what a testbed tells one replica of a user's service about where it runs:
// its port, its replica number, the address of each dependency (through the proxy of
// its link, so faults can act on every byte) and its database's URL. A service's
// command and env reach them as templates — {{.Port}}, {{.Replica}}, {{.DatabaseURL}},
// {{.NatsURL}}, {{.Addr "cache"}} — and as environment variables (Environ).
type Vars struct {
	Service     string
	Port        int
	Replica     int
	Addrs       map[string]string // dependency node → host:port
	DatabaseURL string
}

// Addr is the host:port a dependency is reached at ("" for none: the template fails).
func (v Vars) Addr(node string) (string, error) {
	a, ok := v.Addrs[node]
	if !ok {
		return "", fmt.Errorf("no dependency %q (depends-on: %s)", node, strings.Join(slices.Sorted(maps.Keys(v.Addrs)), ", "))
	}
	return a, nil
}

// NatsURL is the broker's URL, when the service depends on it.
func (v Vars) NatsURL() string {
	if a, ok := v.Addrs[BrokerNode]; ok {
		return "nats://" + a
	}
	return ""
}

// EnvName is the variable that carries a dependency's address: "cache" →
// "CACHE_ADDR".
func EnvName(node string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", "/", "_").Replace(node)) + "_ADDR"
}

// Environ is a replica's environment beyond the testbed's own: PORT, MSCLI_SERVICE,
// MSCLI_REPLICA, <DEP>_ADDR for each dependency, NATS_URL when it depends on the
// broker, DATABASE_URL with a database, then the service's env (templates expanded)
// over them, then the env of each bug switched on. Sorted "K=V" entries. A Hostnames
// service's env is its own, literal, and it is told no PORT: its configuration is the
// compose file's, unchanged.
func (s Service) Environ(v Vars, bugs []string) ([]string, error) {
	env := map[string]string{
		"MSCLI_SERVICE": s.Name,
		"MSCLI_REPLICA": strconv.Itoa(v.Replica),
	}
	if v.Port != 0 && !s.Hostnames {
		env["PORT"] = strconv.Itoa(v.Port)
	}
	for dep, a := range v.Addrs {
		env[EnvName(dep)] = a
	}
	if u := v.NatsURL(); u != "" {
		env["NATS_URL"] = u
	}
	if v.DatabaseURL != "" {
		env["DATABASE_URL"] = v.DatabaseURL
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		if s.Hostnames {
			env[k] = s.Env[k] // literal: a compose file's
			continue
		}
		val, err := Expand(s.Env[k], v)
		if err != nil {
			return nil, fmt.Errorf("service %s: env %s: %w", s.Name, k, err)
		}
		env[k] = val
	}
	for _, b := range s.Bugs {
		if slices.Contains(bugs, b.Name) {
			maps.Copy(env, b.Env)
		}
	}
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out, nil
}

// Argv is the service's command with its templates expanded and its program resolved
// against Dir when it is a relative path ("./bin/orders").
func (s Service) Argv(v Vars) ([]string, error) {
	out := make([]string, len(s.Command))
	for i, a := range s.Command {
		x, err := Expand(a, v)
		if err != nil {
			return nil, fmt.Errorf("service %s: command: %w", s.Name, err)
		}
		out[i] = x
	}
	if len(out) > 0 && s.Dir != "" && strings.ContainsRune(out[0], filepath.Separator) && !filepath.IsAbs(out[0]) {
		out[0] = filepath.Join(s.Dir, out[0])
	}
	return out, nil
}

// Expand fills a command or env template ({{.Port}}, {{.Addr "broker"}}, …) from v. A
// string without "{{" is returned as it is.
func Expand(text string, v Vars) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, err := template.New("").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// CheckTemplate says whether text expands for a service with these dependencies and
// database: what validation asks before anything runs.
func CheckTemplate(text string, deps []string, database bool) error {
	v := Vars{Port: 8080, Addrs: map[string]string{}}
	for _, d := range deps {
		v.Addrs[d] = "127.0.0.1:1"
	}
	if database {
		v.DatabaseURL = "postgres://u:p@127.0.0.1:1/u"
	}
	_, err := Expand(text, v)
	return err
}

// describe says what runs a service, for the timeline: "fixture bank", or "image
// orders:dev, command ./orders  observe sql".
func (s Service) describe() string {
	if !s.User() {
		return "fixture " + s.Fixture
	}
	var parts []string
	switch {
	case s.Hostnames && s.Container != nil && s.Container.Build != nil:
		parts = append(parts, "compose, image "+s.Image+" built from "+filepath.Base(s.Container.Build.Context))
	case s.Hostnames:
		parts = append(parts, "compose, image "+s.Image)
	case s.Image != "":
		parts = append(parts, "image "+s.Image)
	}
	if len(s.Command) > 0 {
		parts = append(parts, "command "+strings.Join(s.Command, " "))
	}
	out := strings.Join(parts, ", ")
	switch {
	case s.Observe.SQL != nil:
		out += "  observe sql"
	case s.Observe.HTTP != "":
		out += "  observe " + s.Observe.HTTP
	}
	return out
}

// KnownBugs are the service's known bugs: its fixture's, or those it declares.
func (s Service) KnownBugs() []Bug {
	if fx, ok := LookupFixture(s.Fixture); ok {
		return fx.Bugs
	}
	return s.Bugs
}

// BugsFor are the bugs of a run (--inject-bug) a service is started with: those it
// declares (a fixture's declaration, or a user's service's bugs). A fixture whose
// declaration is not linked in (a test's stand-in) gets every bug no user's service
// declares: a fixture refuses a bug it does not know, which is how a misspelt one shows.
func (t Topology) BugsFor(s Service, bugs []string) []string {
	declares := func(list []Bug, b string) bool {
		return slices.ContainsFunc(list, func(x Bug) bool { return x.Name == b })
	}
	_, linked := LookupFixture(s.Fixture)
	var out []string
	for _, b := range bugs {
		switch {
		case s.User() || linked:
			if declares(s.KnownBugs(), b) {
				out = append(out, b)
			}
		case !slices.ContainsFunc(t.Services, func(u Service) bool { return u.User() && declares(u.Bugs, b) }):
			out = append(out, b)
		}
	}
	return out
}

// WorkloadService is the service a topology's workload drives: the one workload.service
// names; else the first whose fixture the workload's kind drives; else the only user
// service with a port.
func (t Topology) WorkloadService(w Workload) (string, error) {
	if w.Service != "" {
		for _, s := range t.Services {
			if s.Name == w.Service {
				if s.User() && s.Port == 0 {
					return "", fmt.Errorf("workload.service %s has no port for the clients to reach: give it port:", s.Name)
				}
				return s.Name, nil
			}
		}
		return "", fmt.Errorf("workload.service %q is no service of this system", w.Service)
	}
	var ported []string
	for _, s := range t.Services {
		if fx, ok := LookupFixture(s.Fixture); ok && fx.Workload == w.Kind {
			return s.Name, nil
		}
		if s.User() && s.Port != 0 {
			ported = append(ported, s.Name)
		}
	}
	// A kind made for a fixture (the bank's) does not drive a service of the user's
	// unless the scenario says so.
	for _, name := range FixtureNames() {
		if fx, _ := LookupFixture(name); fx.Workload == w.Kind {
			return "", fmt.Errorf("the %q workload drives the %s fixture, which this system does not run: for your own services give workload: {kind: http, …} (or workload.service to drive one with the %s API)", w.Kind, name, w.Kind)
		}
	}
	if len(ported) == 1 {
		return ported[0], nil
	}
	if len(ported) > 1 {
		return "", fmt.Errorf("which service does the %q workload drive? give workload.service (one of %s)", w.Kind, strings.Join(ported, ", "))
	}
	return "", fmt.Errorf("no service runs a fixture the %q workload drives, and none of your own has a port: give workload.service", w.Kind)
}
