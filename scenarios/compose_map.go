package scenarios

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/mscli/mscli/plan"
)

// A compose file is untrusted input: what it may ask of the machine is bounded.
const (
	maxComposeReplicas = 64
	maxComposePorts    = 32
)

// composeProblem is something of a compose service mscli cannot honour, at
// services.<service>.<keys…> in the compose file.
type composeProblem struct {
	service string
	keys    []string
	msg     string
}

// composeServices maps a compose project's services to the plan's, and says what of
// them mscli cannot honour. Each service runs from its image (or the one mscli builds
// from its build: context), with its environment, command and entrypoint as the file
// says, listening on its ports: targets and expose: (and the ports its dependents name
// it with); it depends on its depends_on and on every other service its environment
// names as a host ("db:5432", "postgres://u:p@db/x", "http://api:8080/"), and reaches
// them by those names (Hostnames).
func composeServices(proj *types.Project) ([]plan.Service, []composeProblem) {
	dir := proj.WorkingDir
	var problems []composeProblem
	refuse := func(svc string, keys []string, format string, args ...any) {
		problems = append(problems, composeProblem{svc, keys, fmt.Sprintf(format, args...)})
	}
	names := proj.ServiceNames() // sorted
	out := make([]plan.Service, 0, len(names))
	named := map[string]map[int]bool{} // dependency → the ports its dependents name
	for _, name := range names {
		sc := proj.Services[name]
		svc := plan.Service{Name: name, Replicas: 1, Hostnames: true}
		if !serviceNameRE.MatchString(name) || name == plan.ClientNode || name == plan.BrokerNode || strings.HasSuffix(name, "-db") {
			refuse(name, nil, "mscli names nodes and links after services (%s/0, client->%s), so a service's name is lower-case letters, digits and '-', starting with a letter, not client or broker, and not ending in -db: rename it", name, name)
		}
		refuseUnhonoured(sc, func(keys []string, format string, args ...any) { refuse(name, keys, format, args...) })
		switch {
		case sc.Build != nil:
			b, keys, msg := composeBuild(dir, sc.Build)
			if msg != "" {
				refuse(name, append([]string{"build"}, keys...), "%s", msg)
			}
			svc.Image = sc.Image
			if svc.Image == "" {
				svc.Image = fmt.Sprintf("mscli-compose-%s-%s:latest", proj.Name, name)
			}
			svc.Container = &plan.Container{Build: b}
		case sc.Image != "":
			svc.Image = sc.Image
		default:
			refuse(name, nil, "it has neither image: nor build:, so there is nothing to run")
		}
		if len(sc.Entrypoint) > 0 || len(sc.Command) > 0 || sc.User != "" || sc.WorkingDir != "" {
			if svc.Container == nil {
				svc.Container = &plan.Container{}
			}
			svc.Container.Entrypoint, svc.Container.Cmd = slices.Clone(sc.Entrypoint), slices.Clone(sc.Command)
			svc.Container.User, svc.Container.WorkingDir = sc.User, sc.WorkingDir
		}
		for _, k := range sortedKeys(sc.Environment) {
			v := sc.Environment[k]
			if v == nil {
				// Compose would take it from the shell that runs it; mscli reads nothing of
				// its own environment into a plan (or into the system under test).
				refuse(name, []string{"environment"}, "environment: %s has no value: compose takes it from the shell, which mscli does not read; give it a value, or define it in the .env beside the compose file", k)
				continue
			}
			if svc.Env == nil {
				svc.Env = map[string]string{}
			}
			svc.Env[k] = *v
		}
		for i, f := range sc.EnvFiles {
			if !inside(dir, f.Path) {
				refuse(name, []string{"env_file", strconv.Itoa(i)}, "env_file: %s is outside the compose file's folder %s: mscli reads no file beyond it", f.Path, dir)
			}
		}
		if sc.Extends != nil {
			refuse(name, []string{"extends"}, "extends: not supported yet: write the service out in full")
		}
		for i, p := range sc.Ports {
			if p.Protocol != "" && p.Protocol != "tcp" {
				refuse(name, []string{"ports", strconv.Itoa(i)}, "ports: %d/%s: mscli's links carry TCP only", p.Target, p.Protocol)
				continue
			}
			svc.Ports = appendPort(svc.Ports, int(p.Target))
		}
		for _, e := range sc.Expose {
			ports, err := exposed(e)
			if err != nil {
				refuse(name, []string{"expose"}, "expose: %v", err)
			}
			for _, p := range ports {
				svc.Ports = appendPort(svc.Ports, p)
			}
		}
		switch {
		case sc.Deploy != nil && sc.Deploy.Replicas != nil:
			svc.Replicas = *sc.Deploy.Replicas
		case sc.Scale != nil:
			svc.Replicas = *sc.Scale
		}
		if svc.Replicas > maxComposeReplicas {
			refuse(name, []string{"deploy"}, "%d replicas: mscli runs at most %d of a service", svc.Replicas, maxComposeReplicas)
		}
		if len(svc.Ports) > maxComposePorts {
			refuse(name, []string{"ports"}, "%d ports: mscli publishes and proxies at most %d of a service", len(svc.Ports), maxComposePorts)
		}
		for _, dep := range sortedKeys(sc.DependsOn) {
			if _, ok := proj.Services[dep]; !ok {
				continue // an optional dependency that is not in the project
			}
			if c := sc.DependsOn[dep].Condition; c == types.ServiceConditionCompletedSuccessfully {
				refuse(name, []string{"depends_on", dep, "condition"}, "depends_on: %s: condition %s: mscli starts services that run, and waits until each is ready, never until one exits", dep, c)
			}
			svc.DependsOn = appendName(svc.DependsOn, dep)
		}
		for _, k := range sortedKeys(svc.Env) {
			for _, h := range hostsIn(k, svc.Env[k]) {
				if h.host == name || !slices.Contains(names, h.host) {
					continue
				}
				svc.DependsOn = appendName(svc.DependsOn, h.host)
				if h.port != 0 {
					if named[h.host] == nil {
						named[h.host] = map[int]bool{}
					}
					named[h.host][h.port] = true
				}
			}
		}
		slices.Sort(svc.DependsOn)
		out = append(out, svc)
	}
	byName := map[string]*plan.Service{}
	for i := range out {
		byName[out[i].Name] = &out[i]
	}
	for i := range out {
		s := &out[i]
		for _, p := range slices.Sorted(maps.Keys(named[s.Name])) {
			s.Ports = appendPort(s.Ports, p)
		}
		if len(s.Ports) > 0 {
			s.Port = s.Ports[0]
		}
		if len(s.Ports) == 1 {
			s.Ports = nil // Port says it all
		}
		s.Ready = readyOf(proj.Services[s.Name].HealthCheck, s.Port)
	}
	for _, s := range out {
		for _, dep := range s.DependsOn {
			keys := []string{"environment"}
			if _, listed := proj.Services[s.Name].DependsOn[dep]; listed {
				keys = []string{"depends_on", dep}
			}
			if byName[dep].Port == 0 {
				refuse(s.Name, keys, "it depends on %s, which listens on no port mscli knows of: give %s expose: (or ports:), or name it with its port in %s's environment (%s:5432), so that a link can carry what %s sends it", dep, dep, s.Name, dep, s.Name)
			}
		}
	}
	return out, problems
}

// refuseUnhonoured reports what of a service mscli cannot do as the file says: it
// runs every service on one network of its own, where each dependency's name leads
// through a link, with nothing of the host mounted.
func refuseUnhonoured(sc types.ServiceConfig, refuse func(keys []string, format string, args ...any)) {
	if sc.NetworkMode != "" {
		refuse([]string{"network_mode"}, "network_mode: %s: mscli runs every service on the run's own network, where each dependency's name leads through a link faults act on", sc.NetworkMode)
	}
	for _, net := range sortedKeys(sc.Networks) {
		if n := sc.Networks[net]; n != nil && (len(n.Aliases) > 0 || n.Ipv4Address != "" || n.Ipv6Address != "" || len(n.LinkLocalIPs) > 0 || n.MacAddress != "") {
			refuse([]string{"networks", net}, "networks: %s: aliases and fixed addresses are not honoured: mscli runs every service on one network of its own and names each by its service name", net)
		}
	}
	if sc.ContainerName != "" || sc.Hostname != "" || sc.DomainName != "" {
		// Dependents reach a service by its service name alone: another name would not
		// resolve, or would go around the link.
		refuse([]string{"container_name"}, "container_name, hostname and domainname are not honoured: mscli names each container after its service and replica; reach it by its service name")
	}
	for _, v := range sc.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Source != "" {
			refuse([]string{"volumes"}, "volumes: %s (a named volume): not mounted yet: a service's data lives in its container for the run", v.Source)
		}
	}
	host := func(key, v string) {
		if v == "host" || strings.HasPrefix(v, "service:") || strings.HasPrefix(v, "container:") {
			refuse([]string{key}, "%s: %s: a service shares nothing with the host or another container under mscli", key, v)
		}
	}
	host("pid", sc.Pid)
	host("ipc", sc.Ipc)
	host("uts", sc.Uts)
	host("userns_mode", sc.UserNSMode)
	for key, set := range map[string]bool{
		"links": len(sc.Links) > 0, "external_links": len(sc.ExternalLinks) > 0, "extra_hosts": len(sc.ExtraHosts) > 0,
		"volumes_from": len(sc.VolumesFrom) > 0, "secrets": len(sc.Secrets) > 0, "configs": len(sc.Configs) > 0,
		"devices": len(sc.Devices) > 0, "gpus": len(sc.Gpus) > 0, "privileged": sc.Privileged, "cap_add": len(sc.CapAdd) > 0,
		"provider": sc.Provider != nil, "models": len(sc.Models) > 0, "use_api_socket": sc.UseAPISocket,
		"post_start": len(sc.PostStart) > 0, "pre_stop": len(sc.PreStop) > 0, "pre_start": len(sc.PreStart) > 0,
	} {
		if set {
			refuse([]string{key}, "%s: not honoured by mscli, which runs each service from its image on the run's network, with nothing of the host and no other container shared", key)
		}
	}
	for i, v := range sc.Volumes {
		if v.Type != types.VolumeTypeVolume && v.Type != types.VolumeTypeTmpfs {
			refuse([]string{"volumes", strconv.Itoa(i)}, "volumes: %s (%s): mscli mounts nothing of the host; bake the files into the image (a named volume is the container's own: it outlives a kill, not the run)", v.Target, v.Type)
		}
	}
	if sc.Deploy != nil && sc.Deploy.Mode != "" && sc.Deploy.Mode != "replicated" {
		refuse([]string{"deploy", "mode"}, "deploy.mode %s: mscli runs deploy.replicas replicas", sc.Deploy.Mode)
	}
}

// composeBuild is a build: mscli can do through the engine's API (the classic
// builder, no registry), or the key it cannot honour and why.
func composeBuild(dir string, b *types.BuildConfig) (*plan.Build, []string, string) {
	switch {
	case b.DockerfileInline != "":
		return nil, []string{"dockerfile_inline"}, "build.dockerfile_inline: give the Dockerfile as a file in the context"
	case len(b.AdditionalContexts) > 0 || len(b.SSH) > 0 || len(b.Secrets) > 0 || len(b.Entitlements) > 0 || b.Privileged:
		return nil, nil, "build: additional_contexts, ssh, secrets, entitlements and privileged need BuildKit; mscli builds with the engine's classic builder"
	case len(b.Platforms) > 1:
		return nil, []string{"platforms"}, "build.platforms: mscli builds for the engine's own platform"
	}
	if st, err := os.Stat(b.Context); err != nil || !st.IsDir() {
		return nil, []string{"context"}, fmt.Sprintf("build.context %s: not a folder here (mscli builds from a local folder)", b.Context)
	}
	if !inside(dir, b.Context) {
		// Everything in a context goes to the builder, and a Dockerfile may copy it into
		// the service under test.
		return nil, []string{"context"}, fmt.Sprintf("build.context %s is outside the compose file's folder %s: mscli sends no folder beyond it to a build", b.Context, dir)
	}
	df := b.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	rel := df
	if filepath.IsAbs(df) {
		r, err := filepath.Rel(b.Context, df)
		if err != nil {
			return nil, []string{"dockerfile"}, fmt.Sprintf("build.dockerfile %s: outside the build context %s", df, b.Context)
		}
		rel = r
	}
	if !inside(b.Context, filepath.Join(b.Context, rel)) {
		return nil, []string{"dockerfile"}, fmt.Sprintf("build.dockerfile %s: outside the build context %s (the builder gets only the context)", df, b.Context)
	}
	if _, err := os.Stat(filepath.Join(b.Context, rel)); err != nil {
		return nil, []string{"dockerfile"}, fmt.Sprintf("build: no %s in %s", rel, b.Context)
	}
	out := &plan.Build{Context: b.Context, Dockerfile: filepath.ToSlash(rel), Target: b.Target}
	for _, k := range sortedKeys(b.Args) {
		v := b.Args[k]
		if v == nil {
			return nil, []string{"args"}, fmt.Sprintf("build.args: %s has no value: compose takes it from the shell, which mscli does not read; give it a value, or define it in the .env beside the compose file", k)
		}
		if out.Args == nil {
			out.Args = map[string]string{}
		}
		out.Args[k] = *v
	}
	return out, nil, ""
}

// inside reports whether path, its symbolic links followed, lies in dir.
func inside(dir, path string) bool {
	real := func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return filepath.Clean(p)
	}
	rel, err := filepath.Rel(real(dir), real(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// exposed reads an expose: entry: "5432", "5432/tcp" or a range "8000-8003".
func exposed(e string) ([]int, error) {
	spec, proto, _ := strings.Cut(e, "/")
	if proto != "" && proto != "tcp" {
		return nil, fmt.Errorf("%s: mscli's links carry TCP only", e)
	}
	lo, hi, isRange := strings.Cut(spec, "-")
	a, err1 := strconv.Atoi(lo)
	b := a
	var err2 error
	if isRange {
		b, err2 = strconv.Atoi(hi)
	}
	if err1 != nil || err2 != nil || a < 1 || b > 65535 || b < a || b-a >= 100 {
		return nil, fmt.Errorf("%q is not a port or a range of at most 100", e)
	}
	var out []int
	for p := a; p <= b; p++ {
		out = append(out, p)
	}
	return out, nil
}

// hostRef is a host an environment value names, and its port when it says one (or
// its scheme implies one).
type hostRef struct {
	host string
	port int
}

// schemePorts are the ports a URL's scheme implies when it names none.
var schemePorts = map[string]int{
	"postgres": 5432, "postgresql": 5432, "mysql": 3306, "mariadb": 3306, "redis": 6379, "nats": 4222,
	"amqp": 5672, "amqps": 5671, "mongodb": 27017, "http": 80, "https": 443, "ws": 80, "wss": 443,
	"kafka": 9092, "memcached": 11211,
}

// hostKeyRE are the names of variables whose bare value is a host (DB_HOST=db): a
// bare word elsewhere is a word (POSTGRES_USER=orders names no service orders).
var hostKeyRE = regexp.MustCompile(`(?i)(^|_)(HOST|HOSTNAME|HOSTS|ADDR|ADDRESS|SERVER|SERVERS|ENDPOINT|BROKERS?|PEERS?)$`)

// hostsIn finds the hosts an environment variable's value names: each of its parts
// (split at commas, semicolons and white space) that is a URL's authority
// ("nats://nats:4222", "postgres://u:p@db/x", "jdbc:postgresql://db:5432/x"), a
// host:port ("db:5432"), or, in a variable named for a host (DB_HOST, REDIS_ADDR), a
// bare host name ("db"). A host is a whole name, never a piece of one: "mydb:5432"
// names mydb, not db, and "db/data" (a path) names nothing.
func hostsIn(key, value string) []hostRef {
	bare := hostKeyRE.MatchString(key)
	var out []hostRef
	for _, part := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) }) {
		scheme, rest := "", part
		if i := strings.Index(part, "://"); i >= 0 {
			scheme = strings.ToLower(part[:i])
			if j := strings.LastIndexByte(scheme, ':'); j >= 0 {
				scheme = scheme[j+1:] // jdbc:postgresql
			}
			rest = part[i+3:]
			if j := strings.IndexAny(rest, "/?#"); j >= 0 {
				rest = rest[:j]
			}
		} else if strings.ContainsAny(rest, "/?#=") {
			continue
		}
		if i := strings.LastIndexByte(rest, '@'); i >= 0 {
			rest = rest[i+1:]
		}
		host, port := rest, 0
		if h, p, err := net.SplitHostPort(rest); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				continue
			}
			host, port = h, n
		} else if strings.Contains(rest, ":") || scheme == "" && !bare {
			continue
		}
		if port == 0 {
			port = schemePorts[scheme]
		}
		if host != "" {
			out = append(out, hostRef{strings.ToLower(host), port})
		}
	}
	return out
}

// readyOf maps a compose healthcheck to a readiness probe: an HTTP request to the
// service's own port on localhost ("curl -f http://localhost:8080/healthz", "wget -q
// --spider http://127.0.0.1:8080/ready") becomes that HTTP probe; anything else
// (pg_isready, a script) leaves the default, a TCP connection to the first port.
func readyOf(hc *types.HealthCheckConfig, port int) plan.Probe {
	if hc == nil || hc.Disable || len(hc.Test) < 2 || port == 0 {
		return plan.Probe{}
	}
	words := hc.Test[1:]
	switch hc.Test[0] {
	case "CMD":
	case "CMD-SHELL":
		words = strings.Fields(strings.Join(words, " "))
	default:
		return plan.Probe{}
	}
	for _, w := range words {
		w = strings.Trim(w, `'"`)
		if !strings.HasPrefix(w, "http://") {
			continue
		}
		u, err := url.Parse(w)
		if err != nil || !slices.Contains([]string{"localhost", "127.0.0.1", "0.0.0.0", "::1"}, u.Hostname()) {
			continue
		}
		p := 80
		if u.Port() != "" {
			p, _ = strconv.Atoi(u.Port())
		}
		if p != port {
			continue
		}
		path := u.EscapedPath()
		if path == "" {
			path = "/"
		}
		if u.RawQuery != "" {
			path += "?" + u.RawQuery
		}
		return plan.Probe{HTTP: path}
	}
	return plan.Probe{}
}

func appendPort(ports []int, p int) []int {
	if p == 0 || slices.Contains(ports, p) {
		return ports
	}
	return append(ports, p)
}

func appendName(names []string, n string) []string {
	if slices.Contains(names, n) {
		return names
	}
	return append(names, n)
}
