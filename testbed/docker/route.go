package docker

import (
	"context"
	"net"
	"net/netip"
	"os"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// ---- how the host reaches the containers ----

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

// networkAddr is the container's address on the run's network, if it has one now.
func (n *node) networkAddr(ctx context.Context) (netip.Addr, bool) {
	info, err := n.c.Inspect(ctx)
	if err != nil || info.NetworkSettings == nil {
		return netip.Addr{}, false
	}
	ep := info.NetworkSettings.Networks[n.env.net.Name]
	if ep == nil || !ep.IPAddress.IsValid() {
		return netip.Addr{}, false
	}
	return ep.IPAddress, true
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
