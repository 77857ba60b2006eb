package local

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/testbed"
)

// startUserServices starts the services of the user's own (command:), each replica a
// child process told where it runs through plan.Vars: its port, and each dependency's
// address through the proxy of its link. Every port is picked first, so a link to a
// service has its upstream before that service starts; services start after the
// services they depend on (in plan order when they depend on each other in a circle:
// each must then retry until the other answers).
func (e *Env) startUserServices(ctx context.Context, top plan.Topology) error {
	var users []plan.Service
	for _, s := range top.Services {
		if !s.User() {
			continue
		}
		users = append(users, s)
		svc := &service{name: s.Name}
		if s.Port != 0 {
			for range s.Replicas {
				addr, err := e.addr()
				if err != nil {
					return err
				}
				svc.listen = append(svc.listen, addr)
			}
		}
		e.services[s.Name] = svc
		e.order = append(e.order, s.Name)
	}
	for _, s := range users {
		if s.Database != "postgres" {
			continue
		}
		svc := e.services[s.Name]
		var err error
		if svc.pg, err = e.newPostgres(ctx, svc); err != nil {
			return err
		}
	}
	for _, s := range dependencyOrder(users) {
		if err := e.startUser(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// dependencyOrder sorts services so that each comes after those it depends on, where
// it can.
func dependencyOrder(svcs []plan.Service) []plan.Service {
	var out []plan.Service
	done := map[string]bool{}
	for len(out) < len(svcs) {
		progress := false
		for _, s := range svcs {
			if done[s.Name] {
				continue
			}
			ready := true
			for _, d := range s.DependsOn {
				if slices.ContainsFunc(svcs, func(o plan.Service) bool { return o.Name == d }) && !done[d] {
					ready = false
				}
			}
			if ready {
				out, done[s.Name], progress = append(out, s), true, true
			}
		}
		if !progress { // a circle: the rest in plan order
			for _, s := range svcs {
				if !done[s.Name] {
					out, done[s.Name] = append(out, s), true
				}
			}
		}
	}
	return out
}

// upstream is where a replica's link to a dependency leads: the broker, its own
// database, or a replica of another service — replica i of a service reaches replica
// i mod n of the other, so every replica of it is reached and each link is one proxy.
func (e *Env) upstream(svc *service, i int, dep string) (string, error) {
	switch {
	case dep == plan.BrokerNode:
		return e.brokerAddr, nil
	case svc.pg != nil && dep == svc.pg.name:
		return svc.pg.addr, nil
	}
	o := e.services[dep]
	if o == nil || len(o.listen) == 0 {
		return "", fmt.Errorf("local testbed: %s depends on %s, which has no port", svc.name, dep)
	}
	return o.listen[i%len(o.listen)], nil
}

func (e *Env) startUser(ctx context.Context, s plan.Service) error {
	svc := e.services[s.Name]
	deps := slices.Clone(s.DependsOn)
	if svc.pg != nil {
		deps = append(deps, svc.pg.name)
	}
	for i := range s.Replicas {
		node := plan.ReplicaNode(s.Name, i)
		if s.Port != 0 {
			if err := e.claimPort(svc, i, node); err != nil {
				return err
			}
		}
		vars := plan.Vars{Service: s.Name, Replica: i, Addrs: map[string]string{}}
		for _, dep := range deps {
			up, err := e.upstream(svc, i, dep)
			if err != nil {
				return err
			}
			l, err := e.addLink(node, dep, up)
			if err != nil {
				return err
			}
			if svc.pg != nil && dep == svc.pg.name {
				vars.DatabaseURL = svc.pg.URL(l.Listen())
			} else {
				vars.Addrs[dep] = l.Listen()
			}
		}
		var ready testbed.Readiness
		if s.Port != 0 {
			_, port, _ := net.SplitHostPort(svc.listen[i])
			vars.Port, _ = strconv.Atoi(port)
			switch {
			case s.Ready.HTTP != "":
				ready.URL = "http://" + svc.listen[i] + s.Ready.HTTP
			default:
				ready.TCP = svc.listen[i]
			}
		}
		argv, err := s.Argv(vars)
		if err != nil {
			return fmt.Errorf("local testbed: %w", err)
		}
		environ, err := s.Environ(vars, e.opts.Bugs)
		if err != nil {
			return fmt.Errorf("local testbed: %w", err)
		}
		environ = append(environ, e.opts.Secrets.Env(s.Secrets)...)
		p := &process{env: e, name: node, program: argv[0], args: argv[1:], environ: environ, workDir: s.Dir,
			ready: ready, log: filepath.Join(e.dir, "logs", logName(node))}
		svc.replicas = append(svc.replicas, p)
		where := ""
		if s.Port != 0 {
			where = " on " + svc.listen[i]
		}
		e.opts.Node(node, testbed.NodeStarting, "starting %s%s: %s", node, where, argv[0])
		if err := p.Start(ctx); err != nil {
			return err
		}
		if s.Port != 0 {
			if _, err := e.addLink(plan.ClientNode, node, svc.listen[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// DatabaseURL is the URL of a user's service's PostgreSQL, direct (not through a
// proxy): for reading its effects after the run. "" when it has none.
func (e *Env) DatabaseURL(service string) string {
	if s := e.services[service]; s != nil && s.pg != nil {
		return s.pg.URL(s.pg.addr)
	}
	return ""
}

// HostAddr is "": the local testbed's nodes listen on ports it picks, and none is
// reached by a port of its own (observe.sql.url names a compose service's, which
// only the docker testbed runs).
func (e *Env) HostAddr(node string, port int) string { return "" }
