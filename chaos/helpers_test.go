package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mscli/mscli/chaos"
	"github.com/mscli/mscli/internal/testkit"
	"github.com/mscli/mscli/testbed"
)

// env is a hand-built chaos.Env over real toxiproxy proxies and child processes.
type env struct {
	links  map[string][]chaos.Link
	nodes  map[string][]chaos.Node
	broker string
}

func (e *env) Links(t string) ([]chaos.Link, error) {
	if l, ok := e.links[t]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("no link %q", t)
}

func (e *env) Nodes(t string) ([]chaos.Node, error) {
	if n, ok := e.nodes[t]; ok {
		return n, nil
	}
	return nil, fmt.Errorf("no node %q", t)
}

func (e *env) BrokerURL() string { return e.broker }

// echoServer echoes every connection back until it closes.
func echoServer(t *testing.T) string { return testkit.Serve(t, testkit.Echo) }

// proxied starts a toxiproxy proxy named name in front of a fresh echo server.
func proxied(t *testing.T, px *testbed.Proxies, name string) *testbed.ProxyLink {
	t.Helper()
	l, err := px.Add(name, echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newProxies(t *testing.T) *testbed.Proxies {
	px := testbed.NewProxies()
	t.Cleanup(func() { px.Close() })
	return px
}

// roundTrip sends a line through addr on a fresh connection and times the echo.
func roundTrip(addr string, timeout time.Duration) (time.Duration, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return roundTripOn(c, timeout)
}

func roundTripOn(c net.Conn, timeout time.Duration) (time.Duration, error) {
	c.SetDeadline(time.Now().Add(timeout))
	began := time.Now()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return 0, err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil {
		return 0, err
	}
	return time.Since(began), nil
}

func apply(t *testing.T, e chaos.Env, kind, target string, params map[string]string) chaos.Heal {
	t.Helper()
	heal, err := chaos.Apply(context.Background(), e, fault(kind, target, params))
	if err != nil {
		t.Fatalf("apply %s on %s: %v", kind, target, err)
	}
	return heal
}

// procNode is a real child process (sleep) that implements chaos.Node.
type procNode struct {
	name string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func newProcNode(t *testing.T, name string) *procNode {
	n := &procNode{name: name}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Kill(context.Background()) })
	return n
}

func (n *procNode) Name() string { return n.name }

func (n *procNode) running() bool {
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

func (n *procNode) pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.running() {
		return 0
	}
	return n.cmd.Process.Pid
}

func (n *procNode) Start(context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.running() {
		return nil
	}
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	n.cmd, n.done = cmd, done
	return nil
}

func (n *procNode) signal(sig syscall.Signal, wait bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.running() {
		return errors.New("not running")
	}
	if err := syscall.Kill(-n.cmd.Process.Pid, sig); err != nil {
		return err
	}
	if wait {
		<-n.done
	}
	return nil
}

func (n *procNode) Kill(context.Context) error   { return n.signal(syscall.SIGKILL, true) }
func (n *procNode) Stop(context.Context) error   { n.signal(syscall.SIGTERM, true); return nil }
func (n *procNode) Pause(context.Context) error  { return n.signal(syscall.SIGSTOP, false) }
func (n *procNode) Resume(context.Context) error { return n.signal(syscall.SIGCONT, false) }

// procState is the state letter of /proc/<pid>/stat: S sleeping, T stopped…
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return f[0]
}

// waitState polls until the process is in one of the states.
func waitState(t *testing.T, pid int, states string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if st := procState(pid); st != "" && strings.Contains(states, st) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("process %d in state %q, want one of %q", pid, procState(pid), states)
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil && procState(pid) != "Z" }
