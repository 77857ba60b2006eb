package docker_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/testbed/docker"
)

// The host reaches the bank through the same proxies at the containers' addresses on
// the run's network where it sits on that network's bridge, and through the published
// ports on 127.0.0.1 when MSCLI_DOCKER_PUBLISHED is set; the faults act on either. Each
// of mscli's containers gets its share of the engine's processors as GOMAXPROCS.
func TestHostRoutes(t *testing.T) {
	bridge := hostOnBridge(t)
	for _, tc := range []struct {
		name      string
		published bool
	}{{"direct", false}, {"published", true}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.published {
				t.Setenv("MSCLI_DOCKER_PUBLISHED", "1")
			} else if !bridge {
				t.Skip("this host is not on the engine's bridges")
			}
			e := up(t, bankPlan(""))
			eps := e.Endpoints("bank")
			if len(eps) != 2 {
				t.Fatalf("endpoints %v", eps)
			}
			for i, ep := range eps {
				u, err := url.Parse(ep)
				if err != nil {
					t.Fatal(err)
				}
				if loop := u.Hostname() == "127.0.0.1"; loop != tc.published {
					t.Errorf("endpoint %s: on 127.0.0.1 %v, want %v", ep, loop, tc.published)
				}
				if code, err := put(ep, fmt.Sprintf("r-%d", i), 10); err != nil || code != http.StatusAccepted {
					t.Fatalf("PUT through %s: %d %v", ep, code, err)
				}
			}
			links, err := e.Links("client->bank/0")
			if err != nil || len(links) != 1 {
				t.Fatalf("links: %v %v", links, err)
			}
			if err := links[0].SetEnabled(t.Context(), false); err != nil {
				t.Fatal(err)
			}
			if _, err := put(eps[0], "cut", 1); err == nil {
				t.Error("PUT through a disabled proxy succeeded")
			}
			if err := links[0].SetEnabled(t.Context(), true); err != nil {
				t.Fatal(err)
			}
			assertProcs(t, e)
		})
	}
}

// hostOnBridge reports whether this host has an interface of the engine's bridge
// networks (br-…).
func hostOnBridge(t *testing.T) bool {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if strings.HasPrefix(i.Name, "br-") {
			return true
		}
	}
	// None yet: the engine makes one per network; a network of its own tells.
	name := fmt.Sprintf("mscli-route-probe-%d", time.Now().UnixNano())
	out, err := exec.Command("docker", "network", "create", name).Output()
	if err != nil {
		t.Fatalf("docker network create: %v", err)
	}
	defer exec.Command("docker", "network", "rm", name).Run()
	_, err = net.InterfaceByName("br-" + strings.TrimSpace(string(out))[:12])
	return err == nil
}

// assertProcs fails unless each of the run's containers of mscli's image (the bank's
// two replicas, the broker, toxiproxy) runs with GOMAXPROCS at the engine's
// processors ÷ 4, at least 1.
func assertProcs(t *testing.T, e *docker.Env) {
	t.Helper()
	ncpu, err := exec.Command("docker", "info", "--format", "{{.NCPU}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(ncpu)))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("GOMAXPROCS=%d", max(1, n/4))
	for _, node := range []string{"toxiproxy", "broker", "bank/0", "bank/1"} {
		id := e.ContainerID(node)
		if id == "" {
			t.Errorf("%s has no container", node)
			continue
		}
		env, err := exec.Command("docker", "inspect", "--format", "{{range .Config.Env}}{{.}}\n{{end}}", id).Output()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(strings.Split(string(env), "\n"), want) {
			t.Errorf("%s: environment %q, want %s", node, env, want)
		}
	}
}
