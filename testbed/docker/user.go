package docker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mscli/mscli/plan"
)

// ---- services of the user's own ----

// A service of the user's runs from its own image, one container per replica on the
// run's network, with the image's own entrypoint and command (a service's command: is
// the local testbed's). What it is told (plan.Vars: its port, its replica, every
// dependency's address and its database's URL) reaches it as its environment, every
// address a proxy's in the toxiproxy container.

// refuseImageless refuses, before anything starts, a service this testbed cannot run:
// one of the user's with no image.
func refuseImageless(pl *plan.Plan) error {
	for _, s := range pl.Topology.Services {
		if !s.User() || s.Image != "" {
			continue
		}
		if len(s.Command) > 0 {
			return fmt.Errorf("docker testbed: service %s has no image: (it has command: only, which the local testbed runs)", s.Name)
		}
		return fmt.Errorf("docker testbed: service %s has no image: and no fixture:", s.Name)
	}
	return nil
}

// userImages checks that the engine holds the image of every service of the user's
// (never pulled: a run must not depend on a registry) and returns the ports each
// image exposes.
func (e *Env) userImages(ctx context.Context, pl *plan.Plan) (map[string][]string, error) {
	out := map[string][]string{}
	for _, s := range pl.Topology.Services {
		if !s.User() {
			continue
		}
		ref := e.imageOf(s)
		if _, done := out[ref]; done {
			continue
		}
		img, err := e.eng.inspectImage(ctx, ref)
		if err != nil {
			return nil, err
		}
		if !img.Present {
			return nil, missingUserImage(s)
		}
		out[ref] = img.Exposed
	}
	return out, nil
}

func missingUserImage(s plan.Service) error {
	return &MissingImageError{Ref: s.Image, Build: "docker build -t " + s.Image + " .",
		Why: fmt.Sprintf("service %s runs from it; the engine does not have it and the docker testbed never pulls (docker pull %s where a registry is reachable)", s.Name, s.Image)}
}

// containerPort is the port a service's replicas serve on in their containers: a
// fixture's own, a user's service's port: ("" for none).
func containerPort(s plan.Service) string {
	switch {
	case !s.User():
		return servicePort
	case s.Port != 0:
		return strconv.Itoa(s.Port)
	}
	return ""
}

// dependencies are the nodes a replica reaches through proxies of its own in the
// toxiproxy container, besides its database: the broker for a fixture (and the
// services a gateway fronts), a user's service's depends-on. A service that reaches them by their own names reaches them
// through its sidecars instead (compose.go).
func dependencies(s plan.Service) []string {
	switch {
	case !s.User():
		return append([]string{plan.BrokerNode}, s.DependsOn...) // a gateway's upstreams
	case s.Hostnames:
		return nil
	}
	return s.DependsOn
}

// upstream is where the proxy of the link from replica i of service from to node dep
// leads. A link to another service gets one proxy per replica of from, led to one
// replica of dep, replica i mod dep's replicas: every replica of dep is reached by some
// replica of from (when from has as many or more), each replica of from sees one
// address per dependency as its environment can say, and a fault on "from->dep" (or
// "from/i->dep") still cuts every byte between them.
func upstream(pl *plan.Plan, from string, i int, dep string) (string, error) {
	if dep == plan.BrokerNode {
		return "broker:" + brokerPort, nil
	}
	for _, s := range pl.Topology.Services {
		if s.Name != dep {
			continue
		}
		port := containerPort(s)
		if port == "" || s.Replicas < 1 {
			return "", fmt.Errorf("docker testbed: service %s depends on %s, which serves no port", from, dep)
		}
		return alias(plan.ReplicaNode(dep, i%s.Replicas)) + ":" + port, nil
	}
	return "", fmt.Errorf("docker testbed: service %s depends on %s: no such node", from, dep)
}

// userReadiness is a user's service's probe: HTTP 200 on a path of its port, a TCP
// connection to its port (its default with a port), or nothing without a port.
func userReadiness(s plan.Service) readiness {
	port := containerPort(s)
	switch {
	case port == "":
		return readiness{}
	case s.Ready.HTTP != "":
		return readiness{port: port, http: s.Ready.HTTP}
	}
	return readiness{port: port, tcp: true}
}

// userExposed are the ports a user's replica publishes (on 127.0.0.1): its ports, or,
// without one, what its image exposes — a container that names no port would have
// them published on every interface.
func userExposed(s plan.Service, imageExposed []string) []string {
	if ports := s.AllPorts(); len(ports) > 0 {
		out := make([]string, len(ports))
		for i, p := range ports {
			out[i] = strconv.Itoa(p) + "/tcp"
		}
		return out
	}
	return imageExposed
}

// userNode is replica i of a user's service: its image, its environment.
func (e *Env) userNode(s plan.Service, svc *service, i int, proxyOf map[[2]string]*proxyLink, imageExposed []string) (*node, error) {
	rep := plan.ReplicaNode(s.Name, i)
	v := plan.Vars{Service: s.Name, Port: s.Port, Replica: i, Addrs: map[string]string{}}
	for _, dep := range dependencies(s) { // none for a Hostnames service: see compose.go
		v.Addrs[dep] = toxiAlias + ":" + proxyOf[[2]string{rep, dep}].port
	}
	if svc.db != nil {
		p := proxyOf[[2]string{rep, svc.db.name}]
		v.DatabaseURL = svc.databaseURL(toxiAlias + ":" + p.port)
	}
	environ, err := s.Environ(v, e.opts.Bugs)
	if err != nil {
		return nil, fmt.Errorf("docker testbed: %s: %w", rep, err)
	}
	environ = append(environ, e.opts.Secrets.Env(s.Secrets)...)
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, val, _ := strings.Cut(kv, "=")
		env[k] = val
	}
	n := e.newNode(rep, alias(rep), userReadiness(s), nil, env, userExposed(s, imageExposed))
	n.image = e.imageOf(s)
	e.containerOf(n, s)
	return n, nil
}

// startOrder groups the services into the batches they start in: a service after
// every service it depends on is ready, the services of one batch (and every replica
// of each) at once. A dependency cycle is broken at its first service by name.
func startOrder(services []plan.Service) [][]string {
	left := map[string]plan.Service{}
	for _, s := range services {
		left[s.Name] = s
	}
	var out [][]string
	for len(left) > 0 {
		var batch []string
		for _, s := range services {
			if _, ok := left[s.Name]; !ok {
				continue
			}
			if !slices.ContainsFunc(s.DependsOn, func(d string) bool { _, waits := left[d]; return waits && d != s.Name }) {
				batch = append(batch, s.Name)
			}
		}
		if len(batch) == 0 {
			batch = slices.Sorted(maps.Keys(left))[:1]
		}
		for _, name := range batch {
			delete(left, name)
		}
		out = append(out, batch)
	}
	return out
}
