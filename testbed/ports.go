package testbed

import (
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Ports leases the 127.0.0.1 ports of the nodes a testbed must tell their address
// before they start (a broker, a replica, a database on the local testbed). A port
// FreeAddr found free a moment ago is easily taken before the node listens: by another
// run's node picking the same way, or by any outgoing connection, which the kernel
// gives a port of the same ephemeral range. A lease avoids both: its port is drawn
// from below the ephemeral range, where the kernel never picks one for a connection,
// and a lock file held under the system's temporary folder (released by the kernel
// when the process ends, however it ends) keeps every other mscli on the machine off
// it until Release. The zero value is ready to use.
type Ports struct {
	mu   sync.Mutex
	held []*os.File
}

// leaseTries bounds the draws of one Addr before it falls back to FreeAddr.
const leaseTries = 64

// Addr leases a port that nobody listens on now and no other lease holds.
func (p *Ports) Addr() (string, error) {
	lo, hi := leaseRange()
	if err := os.MkdirAll(lockDir(), 0o777); err == nil {
		_ = os.Chmod(lockDir(), 0o777|os.ModeSticky) // every user's runs share it, as /tmp
	}
	for range leaseTries {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(lo+rand.IntN(hi-lo+1)))
		f, err := os.OpenFile(lockPath(addr), os.O_RDONLY|os.O_CREATE, 0o666)
		if err != nil {
			break // no lock files here: FreeAddr's chance is all there is
		}
		if !tryLock(f) {
			f.Close()
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			f.Close() // taken by a process that is no mscli
			continue
		}
		l.Close()
		p.mu.Lock()
		p.held = append(p.held, f)
		p.mu.Unlock()
		return addr, nil
	}
	return FreeAddr()
}

// lockDir is the folder of the lease locks every mscli on the machine shares.
func lockDir() string { return filepath.Join(os.TempDir(), "mscli-ports") }

// lockPath is the lock file of addr's port.
func lockPath(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return filepath.Join(lockDir(), port)
}

// Release gives back every port leased, for another run to take.
func (p *Ports) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.held {
		f.Close()
	}
	p.held = nil
}

// leaseRange is where leased ports are drawn from: 20000 up to just below the
// kernel's ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range, 32768 by
// default; elsewhere 32768 too, below BSD's and macOS's 49152).
func leaseRange() (lo, hi int) {
	lo, hi = 20000, 32767
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return lo, hi
	}
	eph, err := strconv.Atoi(f[0])
	switch {
	case err != nil:
	case eph-1 >= lo+1000:
		hi = eph - 1
	case eph > 2000:
		lo, hi = 1024, eph-1 // an unusually wide ephemeral range: what is left below it
	}
	return lo, hi
}
