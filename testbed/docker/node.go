package docker

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/mscli/mscli/testbed"
)

// ---- nodes ----

// node is one container of the run. Its container is created on first Start and kept
// across stops and kills, so its data (a volume) and its name survive them.
type node struct {
	env     *Env
	name    string
	alias   string
	image   string
	cmd     []string
	envVars map[string]string
	exposed []string
	ready   readiness
	volume  string // a path kept in a labelled volume, if set
	shared  string // a named volume shared by a service's replicas, mounted at /shared
	// What a user's service sets beyond its image (compose.go): the entrypoint, the
	// user and working folder, and the host names that lead to its sidecars.
	entrypoint    []string
	user, workdir string
	extraHosts    []string

	mu      sync.Mutex
	c       testcontainers.Container
	running bool
	paused  bool
}

// newNode is a node of mscli's image (a caller may set another image).
func (e *Env) newNode(name, alias string, ready readiness, cmd []string, env map[string]string, exposed []string) *node {
	return &node{env: e, name: name, alias: alias, image: e.image, cmd: cmd, envVars: env, exposed: exposed, ready: ready}
}

func (n *node) Name() string { return n.name }

func (n *node) volumeName() string {
	return "mscli-" + n.env.opts.RunID + "-" + alias(n.name)
}

func (n *node) request() testcontainers.GenericContainerRequest {
	labels := n.env.labels(n.name)
	var mounts testcontainers.ContainerMounts
	vol := func(name, target string) testcontainers.ContainerMount {
		return testcontainers.ContainerMount{
			Source: testcontainers.DockerVolumeMountSource{Name: name, VolumeOptions: &mount.VolumeOptions{Labels: labels}},
			Target: testcontainers.ContainerMountTarget(target)}
	}
	if n.volume != "" {
		mounts = append(mounts, vol(n.volumeName(), n.volume))
	}
	if n.shared != "" {
		mounts = append(mounts, vol(n.shared, "/shared"))
	}
	envVars := n.envVars
	if n.image == n.env.image && n.env.procs > 0 {
		// mscli's own containers share the engine's processors (share.go).
		envVars = map[string]string{"GOMAXPROCS": strconv.Itoa(n.env.procs)}
		maps.Copy(envVars, n.envVars)
	}
	return testcontainers.GenericContainerRequest{ContainerRequest: testcontainers.ContainerRequest{
		Image:          n.image,
		Entrypoint:     n.entrypoint,
		Cmd:            n.cmd,
		Env:            envVars,
		Labels:         labels,
		Name:           "mscli-" + n.env.opts.RunID + "-" + alias(n.name),
		Networks:       []string{n.env.net.Name},
		NetworkAliases: map[string][]string{n.env.net.Name: {n.alias}},
		ExposedPorts:   n.exposed,
		Mounts:         mounts,
		ConfigModifier: func(c *container.Config) {
			if n.user != "" {
				c.User = n.user
			}
			if n.workdir != "" {
				c.WorkingDir = n.workdir
			}
		},
		HostConfigModifier: func(hc *container.HostConfig) {
			hc.ExtraHosts = n.extraHosts
			// Published on 127.0.0.1 only, on ports the engine picks. (A request that
			// names no port has testcontainers publish the image's EXPOSE on 0.0.0.0:
			// every node names its ports, see userExposed.)
			hc.PortBindings = network.PortMap{}
			for _, p := range n.exposed {
				port, err := network.ParsePort(p)
				if err != nil {
					continue
				}
				hc.PortBindings[port] = []network.PortBinding{{HostIP: netip.MustParseAddr(loopback), HostPort: ""}}
			}
		},
	}, Logger: quiet()}
}

// Start creates (first time) or starts the container and waits until it is ready.
func (n *node) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.startLocked(ctx)
}

func (n *node) startLocked(ctx context.Context) error {
	if n.running {
		return nil
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, n.env.opts.StartTimeout)
	defer cancel()
	if n.c == nil {
		c, err := testcontainers.GenericContainer(ctx, n.request()) // created, not started
		if c != nil {
			n.c = c
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", n.name, err)
		}
	}
	if err := n.startContainer(ctx); err != nil {
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	n.running, n.paused = true, false
	if err := n.waitReady(ctx); err != nil {
		hint := ""
		if n.env.direct {
			hint = " (checked at its address on the run's network; where a firewall drops this host's packets to the network, " + publishedEnv + "=1 checks through its published port)"
		}
		return fmt.Errorf("%s not ready after %s%s: %w\n%s", n.name, time.Since(began).Round(time.Millisecond), hint, err, n.logTail())
	}
	n.env.opts.Node(n.name, testbed.NodeReady, "%s ready (container %.12s) in %s", n.name, n.c.GetContainerID(), time.Since(began).Round(time.Millisecond))
	return nil
}

// startContainer starts the container, again when the host port the engine picked for
// a published port was taken in between. The engine picks from the range the kernel
// gives out for outgoing connections (32768-60999 on Linux), and the workload opens
// many to 127.0.0.1, so a port can be free when picked and held when bound: a run of
// db-loss-restore lost its restored database that way ("Error starting userland
// proxy: listen tcp4 0.0.0.0:32787: bind: address already in use"). Each start picks
// again.
func (n *node) startContainer(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		_, err := n.env.eng.ContainerStart(ctx, n.c.GetContainerID(), client.ContainerStartOptions{})
		if err == nil || attempt == 5 || !strings.Contains(err.Error(), "address already in use") || ctx.Err() != nil {
			return err
		}
		n.env.opts.Node(n.name, testbed.NodeStarting, "%s: a published port was taken as it started (%v); starting it again", n.name, err)
	}
}

// hostURL is http://<hostAddr> of a container port.
func (n *node) hostURL(ctx context.Context, port string) (string, error) {
	addr, err := n.hostAddr(ctx, port)
	if err != nil {
		return "", err
	}
	return "http://" + addr, nil
}

// hostAddr is where the host reaches a container port: the container's address on the
// run's network when the host sits on its bridge (onBridge), else 127.0.0.1:<published
// port>. Either changes when the container is started again, so callers ask anew.
func (n *node) hostAddr(ctx context.Context, port string) (string, error) {
	if n.c == nil {
		return "", fmt.Errorf("%s has no container", n.name)
	}
	if n.env.direct && n.publishes(port) {
		// The container's one network is the run's (wireSidecars reads it the same way).
		if ip, err := n.c.ContainerIP(ctx); err == nil && ip != "" {
			return net.JoinHostPort(ip, port), nil
		}
	}
	p, err := n.c.MappedPort(ctx, port+"/tcp")
	if err != nil {
		return "", fmt.Errorf("%s: published port of %s: %w", n.name, port, err)
	}
	return loopback + ":" + p.Port(), nil
}

func (n *node) logTail() string {
	if n.c == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc, err := n.c.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	b = n.env.opts.Secrets.Bytes(b)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return "--- last lines of " + n.name + "'s log:\n" + strings.Join(lines, "\n")
}

// Kill sends SIGKILL.
func (n *node) Kill(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.c == nil || !n.running {
		return nil
	}
	if n.paused {
		_, _ = n.env.eng.ContainerUnpause(ctx, n.c.GetContainerID(), client.ContainerUnpauseOptions{})
	}
	if _, err := n.env.eng.ContainerKill(ctx, n.c.GetContainerID(), client.ContainerKillOptions{Signal: "KILL"}); err != nil && !isNotRunning(err) {
		return fmt.Errorf("kill %s: %w", n.name, err)
	}
	n.waitExited(ctx)
	n.running, n.paused = false, false
	return nil
}

// Stop stops the container gracefully (SIGTERM, SIGKILL after the grace period).
func (n *node) Stop(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stopLocked(ctx)
}

func (n *node) stopLocked(ctx context.Context) error {
	if n.c == nil || !n.running {
		return nil
	}
	if n.paused {
		_, _ = n.env.eng.ContainerUnpause(ctx, n.c.GetContainerID(), client.ContainerUnpauseOptions{})
	}
	secs := int(n.env.opts.StopGrace.Seconds())
	if _, err := n.env.eng.ContainerStop(ctx, n.c.GetContainerID(), client.ContainerStopOptions{Timeout: &secs}); err != nil && !isNotRunning(err) {
		return fmt.Errorf("stop %s: %w", n.name, err)
	}
	n.running, n.paused = false, false
	return nil
}

func (n *node) waitExited(ctx context.Context) {
	for range 100 {
		res, err := n.env.eng.ContainerInspect(ctx, n.c.GetContainerID(), client.ContainerInspectOptions{})
		if err != nil || res.Container.State == nil || !res.Container.State.Running {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pause freezes the container (the cgroup freezer).
func (n *node) Pause(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.c == nil || !n.running || n.paused {
		return nil
	}
	if err := n.env.freeze(ctx, n.c.GetContainerID()); err != nil {
		return fmt.Errorf("pause %s: %w", n.name, err)
	}
	n.paused = true
	return nil
}

// freeze pauses a container, trying again when the runtime gives up on the cgroup
// freezer ("unable to freeze"): a process in uninterruptible sleep, such as PostgreSQL
// in an fsync, can keep a cgroup from freezing for a moment. The runtime thaws the
// container when it gives up, so each try starts from a running container.
func (e *Env) freeze(ctx context.Context, id string) error {
	var err error
	delay := 100 * time.Millisecond
	for try := 1; ; try++ {
		if err = e.noFreeze; err == nil {
			if _, err = e.eng.ContainerPause(ctx, id, client.ContainerPauseOptions{}); err == nil {
				return nil
			}
		}
		if try == freezeTries || !strings.Contains(err.Error(), "freeze") {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

const freezeTries = 5

// Resume thaws a paused container.
func (n *node) Resume(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.c == nil || !n.paused {
		return nil
	}
	if _, err := n.env.eng.ContainerUnpause(ctx, n.c.GetContainerID(), client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("resume %s: %w", n.name, err)
	}
	n.paused = false
	return nil
}

func isNotRunning(err error) bool {
	return err != nil && (isNotFound(err) || strings.Contains(err.Error(), "is not running"))
}
