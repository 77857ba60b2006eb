package docker

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestBridgeHere(t *testing.T) {
	subnet := []netip.Prefix{netip.MustParsePrefix("172.24.0.0/16")}
	host := func(name string, cidr ...string) func(string) ([]net.Addr, error) {
		return func(n string) ([]net.Addr, error) {
			if n != name {
				return nil, errors.New("no such network interface")
			}
			var out []net.Addr
			for _, c := range cidr {
				ip, ipn, err := net.ParseCIDR(c)
				if err != nil {
					t.Fatal(err)
				}
				ipn.IP = ip
				out = append(out, ipn)
			}
			return out, nil
		}
	}
	for _, tc := range []struct {
		name    string
		iface   string
		subnets []netip.Prefix
		addrs   func(string) ([]net.Addr, error)
		want    bool
	}{
		{"the engine's bridge, with the gateway's address", "br-177d0f6f8ad0", subnet, host("br-177d0f6f8ad0", "fe80::1/64", "172.24.0.1/16"), true},
		{"no interface of that name (an engine elsewhere)", "br-177d0f6f8ad0", subnet, host("docker0", "172.24.0.1/16"), false},
		{"the interface, on another subnet", "br-177d0f6f8ad0", subnet, host("br-177d0f6f8ad0", "172.17.0.1/16"), false},
		{"the interface, without an address", "br-177d0f6f8ad0", subnet, host("br-177d0f6f8ad0"), false},
		{"a network without subnets", "br-177d0f6f8ad0", nil, host("br-177d0f6f8ad0", "172.24.0.1/16"), false},
		{"no name", "", subnet, host("", "172.24.0.1/16"), false},
	} {
		if got := bridgeHere(tc.iface, tc.subnets, tc.addrs); got != tc.want {
			t.Errorf("%s: bridgeHere = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestProcsShare(t *testing.T) {
	for _, tc := range []struct{ ncpu, containers, want int }{
		{2, 4, 1},  // the bank's two replicas, the broker, toxiproxy on 2 cores
		{2, 1, 2},  // one container has them all
		{16, 4, 4}, // an even share
		{16, 5, 3}, // rounded down
		{0, 4, 0},  // an engine that does not say: the Go default
		{8, 0, 0},
	} {
		if got := procsShare(tc.ncpu, tc.containers); got != tc.want {
			t.Errorf("procsShare(%d, %d) = %d, want %d", tc.ncpu, tc.containers, got, tc.want)
		}
	}
}
