package local

import (
	"fmt"
	"net"
	"slices"
)

// freeAddr, when a test sets it, picks the ports of users' service replicas in place
// of the run's leases (a test puts a taken one first).
var freeAddr func() (string, error)

// addr picks a user's service replica's port: a lease of the run's (testbed.Ports, as
// for every node the testbed starts), kept until Down, so neither another run nor an
// outgoing connection takes it before the replica listens.
func (e *Env) addr() (string, error) {
	if freeAddr != nil {
		return freeAddr()
	}
	return e.ports.Addr()
}

// portTries bounds how many other ports a replica whose port was taken is offered.
const portTries = 5

// claimPort makes sure the port picked for replica i of svc is still free just before
// it starts: a port is picked well before (every service's first, for the links), and
// another process may have taken it since. A taken port is replaced with a free one
// while no link leads to it yet (nothing but a circle of services links to a replica
// before it starts); otherwise the start fails with the cause, rather than the
// replica dying on a port in use, or a stranger answering its readiness probe.
func (e *Env) claimPort(svc *service, i int, node string) error {
	addr := svc.listen[i]
	err := probeFree(addr)
	if err == nil {
		return nil
	}
	if slices.ContainsFunc(e.links, func(l link) bool { return l.proxy.Upstream() == addr }) {
		return fmt.Errorf("local testbed: port %s of %s is taken by another process (%v), and links already lead to it", addr, node, err)
	}
	for range portTries {
		other, ferr := e.addr()
		if ferr != nil {
			return ferr
		}
		if probeFree(other) == nil {
			e.opts.Progressf("port %s of %s is taken by another process: it listens on %s instead", addr, node, other)
			svc.listen[i] = other
			return nil
		}
	}
	return fmt.Errorf("local testbed: port %s of %s is taken by another process (%v), and no other free port was found", addr, node, err)
}

// probeFree reports whether addr can be listened on now.
func probeFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}
