package docker

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/mscli/mscli/plan"
)

// ---- how the host reaches the containers ----

// BrokerURL is the broker's NATS URL from the host, not through a proxy.
func (e *Env) BrokerURL() string {
	if e.broker == nil {
		return ""
	}
	addr, err := e.broker.hostAddr(context.Background(), brokerPort)
	if err != nil {
		return ""
	}
	return "nats://" + addr
}

// Endpoints are the replicas' base URLs through their client->replica proxies.
func (e *Env) Endpoints(service string) []string {
	var out []string
	for _, l := range e.links {
		if l.from == plan.ClientNode && plan.ServiceOf(l.to) == service {
			if addr, err := e.toxi.hostAddr(context.Background(), l.proxy.port); err == nil {
				out = append(out, "http://"+addr)
			}
		}
	}
	return out
}

// ObserveURLs are the replicas' base URLs on their ports, direct (none for a service
// without a port).
func (e *Env) ObserveURLs(service string) []string {
	s := e.services[service]
	if s == nil || s.port == "" {
		return nil
	}
	var out []string
	for _, r := range s.replicas {
		if u, err := r.hostURL(context.Background(), s.port); err == nil {
			out = append(out, u)
		}
	}
	return out
}

// DatabaseURL is the DSN of a service's PostgreSQL from the host, direct (not through
// a proxy): its hostAddr, the service's name as user and database,
// the run's random password. "" without database: postgres.
func (e *Env) DatabaseURL(service string) string {
	s := e.services[service]
	if s == nil || s.db == nil {
		return ""
	}
	addr, err := s.db.hostAddr(context.Background(), postgresPort)
	if err != nil {
		return ""
	}
	return s.databaseURL(addr)
}

// databaseURL is the DSN of the service's PostgreSQL at addr (host:port).
func (s *service) databaseURL(addr string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", s.name, s.password, addr, s.name)
}

// bridgeOption names a bridge network's interface on the engine's host when the
// network was created with one; otherwise the engine names it br-<first 12 of its id>.
const bridgeOption = "com.docker.network.bridge.name"

// publishedEnv, set to anything, has the run reach every container through its
// published ports.
const publishedEnv = "MSCLI_DOCKER_PUBLISHED"

// onBridge reports whether this host is the engine's own host and sits on the run's
// bridge network: an interface of this host, named as the engine names the network's
// bridge, holds an address inside one of the network's subnets. Then the host reaches
// a container at its address on the network, and the run does not go through the
// engine's userland proxy that forwards a published port (a process per port that
// copies every byte twice: under the bank's load it took a seventh of two cores).
// Anywhere else — an engine in a virtual machine, rootless, on another host — there
// is no such interface here, and the run uses the published ports on 127.0.0.1.
// It returns the interface's name, "" when the host is not on the bridge or when
// MSCLI_DOCKER_PUBLISHED is set (a firewall of the host's that drops its packets to
// the bridge: the run would find no node ready).
func (e *Env) onBridge(ctx context.Context) string {
	if os.Getenv(publishedEnv) != "" {
		return ""
	}
	res, err := e.eng.NetworkInspect(ctx, e.net.ID, client.NetworkInspectOptions{})
	if err != nil {
		return ""
	}
	n := res.Network
	var subnets []netip.Prefix
	for _, c := range n.IPAM.Config {
		subnets = append(subnets, c.Subnet)
	}
	name := n.Options[bridgeOption]
	if name == "" && len(n.ID) >= 12 {
		name = "br-" + n.ID[:12]
	}
	if !bridgeHere(name, subnets, interfaceAddrs) {
		return ""
	}
	return name
}

// interfaceAddrs are the addresses of this host's interface of that name.
func interfaceAddrs(name string) ([]net.Addr, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, err
	}
	return ifc.Addrs()
}

// bridgeHere reports whether the interface of that name, as addrs finds it, holds an
// address inside one of the subnets.
func bridgeHere(name string, subnets []netip.Prefix, addrs func(string) ([]net.Addr, error)) bool {
	if name == "" || len(subnets) == 0 {
		return false
	}
	as, err := addrs(name)
	if err != nil {
		return false
	}
	for _, a := range as {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		for _, s := range subnets {
			if s.IsValid() && s.Contains(ip.Unmap()) {
				return true
			}
		}
	}
	return false
}

// publishes reports whether the node publishes that TCP port: the ports the host may
// reach, whichever way it reaches them.
func (n *node) publishes(port string) bool {
	for _, p := range n.exposed {
		if q, err := network.ParsePort(p); err == nil && q.Proto() == network.TCP && q.Port() == port {
			return true
		}
	}
	return false
}
