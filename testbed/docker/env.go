package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mscli/mscli/plan"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"

	"github.com/mscli/mscli/fixtures/images"
	"github.com/mscli/mscli/testbed"
)

// Ports inside the containers; only the toxiproxy API and the proxies of client links
// (and the services' HTTP ports, for observing) are published, on 127.0.0.1.
const (
	brokerPort   = "4222"
	brokerHTTP   = "8222"
	servicePort  = "8080"
	toxiAPIPort  = "8474"
	postgresPort = "5432"
	// firstProxyPort is the first port toxiproxy's proxies listen on.
	firstProxyPort = 20000
	toxiAlias      = "toxiproxy"
	dbUser         = "bank"
)

// Env is a running docker testbed.
type Env struct {
	opts     testbed.Options
	eng      *engine
	net      *testcontainers.DockerNetwork
	image    string // mscli image
	pgImage  string
	toxi     *node
	toxiAPI  *toxiclient.Client
	broker   *node
	services map[string]*service
	order    []string
	links    []link
	mu       sync.Mutex
	downOnce sync.Once
	downErr  error
	noFreeze error // set by tests: what every pause answers, as on an engine without a freezer
	// ReadyAfter is how long the topology took to become ready.
	ReadyAfter time.Duration
}

type service struct {
	name     string
	replicas []*node
	db       *dbNode // nil without database: postgres
	sqlite   string  // shared volume for SQLite otherwise
}

type link struct {
	from, to string
	proxy    *proxyLink
}

// Up starts the plan's topology on Docker. It returns the partial Env with an error,
// so what started can still be brought down.
func Up(ctx context.Context, pl *plan.Plan, opts testbed.Options) (*Env, error) {
	opts = opts.WithDefaults()
	began := time.Now()
	eng, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	e := &Env{opts: opts, eng: eng, services: map[string]*service{}}
	if err := e.up(ctx, pl); err != nil {
		return e, err
	}
	e.ReadyAfter = time.Since(began)
	return e, nil
}

func (e *Env) labels(node string) map[string]string {
	return map[string]string{LabelRun: e.opts.RunID, LabelNode: node}
}

func (e *Env) up(ctx context.Context, pl *plan.Plan) error {
	if e.opts.RunID == "" {
		return errors.New("docker testbed: no run id")
	}
	bin := e.opts.Binary
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return err
		}
	}
	b, err := images.ReadBinary(bin)
	if err != nil {
		return err
	}
	e.opts.Progressf("images: looking for the image of %s", bin)
	if e.image, err = e.eng.resolveMscli(ctx, "", b, e.opts.Progress); err != nil {
		return err
	}
	for _, s := range pl.Topology.Services {
		if s.Database == "postgres" {
			if e.pgImage, err = e.eng.resolvePostgres(ctx, "", false, e.opts.Progress); err != nil {
				return err
			}
			break
		}
	}
	if e.pgImage != "" {
		e.opts.Progressf("images: %s, %s", e.image, e.pgImage)
	} else {
		e.opts.Progressf("images: %s", e.image)
	}
	if e.net, err = tcnetwork.New(ctx, tcnetwork.WithLabels(e.labels("network"))); err != nil {
		return fmt.Errorf("docker testbed: network: %w", err)
	}

	// Every link is a proxy in the toxiproxy container, listening on a port of its own.
	type plannedLink struct{ from, to, upstream string }
	var planned []plannedLink
	var clientPorts []string
	for _, s := range pl.Topology.Services {
		for i := range s.Replicas {
			rep := plan.ReplicaNode(s.Name, i)
			planned = append(planned, plannedLink{plan.ClientNode, rep, alias(rep) + ":" + servicePort})
			planned = append(planned, plannedLink{rep, plan.BrokerNode, "broker:" + brokerPort})
			if s.Database == "postgres" {
				db := plan.DatabaseNode(s.Name)
				planned = append(planned, plannedLink{rep, db, alias(db) + ":" + postgresPort})
			}
		}
	}
	var exposed []string
	for i, l := range planned {
		if l.from == plan.ClientNode {
			p := fmt.Sprint(firstProxyPort + i)
			clientPorts = append(clientPorts, p)
			exposed = append(exposed, p+"/tcp")
		}
	}
	e.toxi = e.newNode("toxiproxy", toxiAlias, toxiAPIPort, "/version", []string{"fixture", "toxiproxy", "--listen", "0.0.0.0:" + toxiAPIPort},
		nil, append(exposed, toxiAPIPort+"/tcp"))
	e.broker = e.newNode(plan.BrokerNode, "broker", brokerHTTP, "/healthz",
		[]string{"fixture", "broker", "--listen", "0.0.0.0:" + brokerPort, "--http", "0.0.0.0:" + brokerHTTP, "--data", "/data"},
		nil, []string{brokerHTTP + "/tcp", brokerPort + "/tcp"})
	e.broker.volume = "/data"
	var dbs []*dbNode
	for _, s := range pl.Topology.Services {
		svc := &service{name: s.Name}
		if s.Database == "postgres" {
			name := plan.DatabaseNode(s.Name)
			n := e.newNode(name, alias(name), "", "", nil, map[string]string{
				"POSTGRES_USER": dbUser, "POSTGRES_PASSWORD": dbUser, "POSTGRES_DB": s.Name}, nil)
			n.image, n.volume = e.pgImage, images.PostgresData
			// Over TCP: the entrypoint's first-start server listens on the socket only.
			n.probe = []string{"pg_isready", "--quiet", "--host=127.0.0.1", "--username=" + dbUser, "--dbname=" + s.Name}
			svc.db = &dbNode{node: n, svc: svc}
			dbs = append(dbs, svc.db)
		} else {
			svc.sqlite = "mscli-" + e.opts.RunID + "-" + s.Name + "-sqlite"
		}
		e.services[s.Name] = svc
		e.order = append(e.order, s.Name)
	}
	// Toxiproxy, the broker and the databases have no dependencies: start together.
	first := []*node{e.toxi, e.broker}
	for _, d := range dbs {
		first = append(first, d.node)
	}
	if err := startAll(ctx, first); err != nil {
		return err
	}
	api, err := e.toxi.hostURL(ctx, toxiAPIPort)
	if err != nil {
		return err
	}
	e.toxiAPI = toxiclient.NewClient(api)
	proxyOf := map[[2]string]*proxyLink{}
	for i, l := range planned {
		name := l.from + "->" + l.to
		// Toxiproxy's API takes the name in the URL path: no '/' in it.
		p, err := e.toxiAPI.CreateProxy(strings.ReplaceAll(name, "/", "-"), fmt.Sprintf("0.0.0.0:%d", firstProxyPort+i), l.upstream)
		if err != nil {
			return fmt.Errorf("docker testbed: proxy %s: %w", name, err)
		}
		pl := &proxyLink{name: name, proxy: p, port: fmt.Sprint(firstProxyPort + i)}
		e.links = append(e.links, link{from: l.from, to: l.to, proxy: pl})
		proxyOf[[2]string{l.from, l.to}] = pl
	}
	// The replicas, every one of every service at once: each reaches the broker and
	// its database through its own proxies.
	var reps []*node
	for _, s := range pl.Topology.Services {
		svc := e.services[s.Name]
		for i := range s.Replicas {
			rep := plan.ReplicaNode(s.Name, i)
			brokerURL := "nats://" + toxiAlias + ":" + proxyOf[[2]string{rep, plan.BrokerNode}].port
			db := "sqlite:///shared/" + s.Name + ".db"
			if svc.db != nil {
				p := proxyOf[[2]string{rep, svc.db.name}]
				db = fmt.Sprintf("postgres://%s:%s@%s:%s/%s?sslmode=disable", dbUser, dbUser, toxiAlias, p.port, s.Name)
			}
			args := []string{"fixture", s.Fixture, "--listen", "0.0.0.0:" + servicePort, "--broker", brokerURL,
				"--db", db, "--replica", fmt.Sprint(i), "--service", s.Name, "--dead-letter-file", "/tmp/dead-letters.jsonl"}
			for _, b := range e.opts.Bugs {
				args = append(args, "--inject-bug", b)
			}
			n := e.newNode(rep, alias(rep), servicePort, "/readyz", args, nil, []string{servicePort + "/tcp"})
			if svc.db == nil {
				n.shared = svc.sqlite
			}
			svc.replicas = append(svc.replicas, n)
			reps = append(reps, n)
		}
	}
	if err := startAll(ctx, reps); err != nil {
		return err
	}
	return nil
}

// alias is a node's host name on the run's network: "bank/0" → "bank-0".
func alias(node string) string { return strings.ReplaceAll(node, "/", "-") }

func startAll(ctx context.Context, nodes []*node) error {
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, n := range nodes {
		wg.Go(func() { errs[i] = n.Start(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

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
	health  string   // path on healthPort answering 200 when ready
	probe   []string // or a command run in the container that exits 0 when ready; neither waits for nothing
	hport   string
	volume  string // a path kept in a labelled volume, if set
	shared  string // a named volume shared by a service's replicas, mounted at /shared

	mu      sync.Mutex
	c       testcontainers.Container
	running bool
	paused  bool
}

func (e *Env) newNode(name, alias, hport, health string, cmd []string, env map[string]string, exposed []string) *node {
	return &node{env: e, name: name, alias: alias, image: e.image, cmd: cmd, envVars: env, exposed: exposed, health: health, hport: hport}
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
	return testcontainers.GenericContainerRequest{ContainerRequest: testcontainers.ContainerRequest{
		Image:          n.image,
		Cmd:            n.cmd,
		Env:            n.envVars,
		Labels:         labels,
		Name:           "mscli-" + n.env.opts.RunID + "-" + alias(n.name),
		Networks:       []string{n.env.net.Name},
		NetworkAliases: map[string][]string{n.env.net.Name: {n.alias}},
		ExposedPorts:   n.exposed,
		Mounts:         mounts,
		HostConfigModifier: func(hc *container.HostConfig) {
			// Published on 127.0.0.1 only, on ports the engine picks.
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
		req := n.request()
		req.Started = true
		c, err := testcontainers.GenericContainer(ctx, req)
		if c != nil {
			n.c = c
		}
		if err != nil {
			return fmt.Errorf("start %s: %w", n.name, err)
		}
	} else if _, err := n.env.eng.ContainerStart(ctx, n.c.GetContainerID(), client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	n.running, n.paused = true, false
	if err := n.waitReady(ctx); err != nil {
		return fmt.Errorf("%s not ready after %s: %w\n%s", n.name, time.Since(began).Round(time.Millisecond), err, n.logTail())
	}
	n.env.opts.Progressf("%s ready (container %.12s) in %s", n.name, n.c.GetContainerID(), time.Since(began).Round(time.Millisecond))
	return nil
}

func (n *node) waitReady(ctx context.Context) error {
	if n.probe != nil {
		return n.waitProbe(ctx)
	}
	if n.health == "" {
		return nil
	}
	base, err := n.hostURL(ctx, n.hport)
	if err != nil {
		return err
	}
	var last error
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(base + n.health)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", n.health, resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return last
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (n *node) waitProbe(ctx context.Context) error {
	var last error
	for {
		code, out, err := n.c.Exec(ctx, n.probe)
		if err == nil && code == 0 {
			return nil
		}
		if err == nil {
			msg, _ := io.ReadAll(out)
			err = fmt.Errorf("%s: exit %d %s", n.probe[0], code, strings.TrimSpace(string(msg)))
		}
		last = err
		select {
		case <-ctx.Done():
			return last
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// hostURL is http://127.0.0.1:<published port> of a container port.
func (n *node) hostURL(ctx context.Context, port string) (string, error) {
	addr, err := n.hostAddr(ctx, port)
	if err != nil {
		return "", err
	}
	return "http://" + addr, nil
}

func (n *node) hostAddr(ctx context.Context, port string) (string, error) {
	if n.c == nil {
		return "", fmt.Errorf("%s has no container", n.name)
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

// ---- databases: data faults ----

// dbNode is a service's PostgreSQL container; its data lives in a labelled volume.
type dbNode struct {
	*node
	svc *service
}

// Snapshot copies the database's data directory aside (into the run directory) with
// the container frozen: what a crash at that instant would leave, which PostgreSQL
// recovers from.
func (d *dbNode) Snapshot(ctx context.Context, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c == nil || !d.running {
		return fmt.Errorf("snapshot %s: the database is not running", d.name)
	}
	id := d.c.GetContainerID()
	if err := d.env.freeze(ctx, id); err == nil {
		defer d.env.eng.ContainerUnpause(context.WithoutCancel(ctx), id, client.ContainerUnpauseOptions{})
	} else {
		// Without a freezer the copy is taken of a cleanly stopped database: a longer
		// outage for the service, the same snapshot.
		d.env.opts.Progressf("%s: cannot freeze the container (%v); stopping it for the snapshot", d.name, err)
		if err := d.stopLocked(ctx); err != nil {
			return fmt.Errorf("snapshot %s: %w", d.name, err)
		}
		defer func() {
			if err := d.startLocked(context.WithoutCancel(ctx)); err != nil {
				d.env.opts.Progressf("%s: start after the snapshot: %v", d.name, err)
			}
		}()
	}
	res, err := d.env.eng.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: images.PostgresData})
	if err != nil {
		return fmt.Errorf("snapshot %s: copy: %w", d.name, err)
	}
	defer res.Content.Close()
	path := d.snapshotPath(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Content); err != nil {
		f.Close()
		return fmt.Errorf("snapshot %s: %w", d.name, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	d.env.opts.Progressf("%s: snapshot %q taken", d.name, name)
	return nil
}

func (d *dbNode) snapshotPath(name string) string {
	return filepath.Join(d.env.opts.Dir, "data", "snapshots", alias(d.name), name+".tar")
}

// Wipe loses the database: the service's replicas are stopped, the container and its
// volume removed, a new empty one created (with the named snapshot copied in, if
// given) and started, and the replicas started again.
func (d *dbNode) Wipe(ctx context.Context, restore string) error {
	var snap []byte
	if restore != "" {
		var err error
		if snap, err = os.ReadFile(d.snapshotPath(restore)); err != nil {
			return fmt.Errorf("wipe %s: restore snapshot %q: none was taken (%w)", d.name, restore, err)
		}
	}
	var wasUp []*node
	for _, r := range d.svc.replicas {
		r.mu.Lock()
		if r.running {
			wasUp = append(wasUp, r)
		}
	}
	defer func() {
		for _, r := range d.svc.replicas {
			r.mu.Unlock()
		}
	}()
	// The replicas stop together and start together: each takes its grace period to
	// stop and its replay of the event stream to become ready.
	each := func(fn func(*node) error) error {
		errs := make([]error, len(wasUp))
		var wg sync.WaitGroup
		for i, r := range wasUp {
			wg.Go(func() { errs[i] = fn(r) })
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	err := each(func(r *node) error { return r.stopLocked(ctx) })
	if err == nil {
		err = d.replace(ctx, snap)
	}
	err = errors.Join(err, each(func(r *node) error { return r.startLocked(ctx) }))
	if err != nil {
		return fmt.Errorf("wipe %s: %w", d.name, err)
	}
	return nil
}

func (d *dbNode) replace(ctx context.Context, snap []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c != nil {
		id := d.c.GetContainerID()
		if _, err := d.env.eng.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
			return err
		}
		if _, err := d.env.eng.VolumeRemove(ctx, d.volumeName(), client.VolumeRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
			return err
		}
		d.c, d.running, d.paused = nil, false, false
	}
	req := d.request()
	c, err := testcontainers.GenericContainer(ctx, req) // created, not started
	if c != nil {
		d.c = c
	}
	if err != nil {
		return err
	}
	if snap != nil {
		// The archive holds "data/…": copied into PGDATA's parent it replaces PGDATA.
		if _, err := d.env.eng.CopyToContainer(ctx, c.GetContainerID(), client.CopyToContainerOptions{
			DestinationPath: filepath.Dir(images.PostgresData), Content: bytes.NewReader(snap)}); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		d.env.opts.Progressf("%s: wiped and restored from a snapshot (%d MiB)", d.name, len(snap)>>20)
	} else {
		d.env.opts.Progressf("%s: wiped", d.name)
	}
	return d.startLocked(ctx)
}

// ---- links ----

type proxyLink struct {
	name  string
	port  string // inside the toxiproxy container
	mu    sync.Mutex
	proxy *toxiclient.Proxy
}

func (l *proxyLink) Name() string { return l.name }

func (l *proxyLink) AddToxic(_ context.Context, name, typ, stream string, toxicity float32, attrs map[string]any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.proxy.AddToxic(name, typ, stream, toxicity, toxiclient.Attributes(attrs)); err != nil {
		return fmt.Errorf("proxy %s: add toxic %q (%s %s): %w", l.name, name, typ, stream, err)
	}
	return nil
}

func (l *proxyLink) RemoveToxic(_ context.Context, name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.proxy.RemoveToxic(name); err != nil {
		return fmt.Errorf("proxy %s: remove toxic %q: %w", l.name, name, err)
	}
	return nil
}

func (l *proxyLink) SetEnabled(_ context.Context, enabled bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var err error
	if enabled {
		err = l.proxy.Enable()
	} else {
		err = l.proxy.Disable()
	}
	if err != nil {
		return fmt.Errorf("proxy %s: enabled=%v: %w", l.name, enabled, err)
	}
	return nil
}

// ---- what the runner and chaos need ----

// Links resolves a link name ("client->bank", "bank/1->broker") to its proxies.
func (e *Env) Links(target string) ([]testbed.Link, error) {
	from, to, ok := strings.Cut(target, "->")
	if !ok {
		return nil, fmt.Errorf("link %q: want from->to", target)
	}
	var out []testbed.Link
	var names []string
	for _, l := range e.links {
		names = append(names, l.proxy.name)
		if plan.Covers(from, l.from) && plan.Covers(to, l.to) {
			out = append(out, l.proxy)
		}
	}
	if len(out) == 0 {
		sort.Strings(names)
		return nil, fmt.Errorf("no link %q on this testbed (links: %s)", target, strings.Join(names, ", "))
	}
	return out, nil
}

// Nodes resolves a node name: "broker", a replica, a service (all its replicas) or a
// service's database.
func (e *Env) Nodes(target string) ([]testbed.Node, error) {
	if target == plan.BrokerNode && e.broker != nil {
		return []testbed.Node{e.broker}, nil
	}
	for _, name := range e.order {
		s := e.services[name]
		if target == s.name {
			out := make([]testbed.Node, len(s.replicas))
			for i, r := range s.replicas {
				out[i] = r
			}
			return out, nil
		}
		if s.db != nil && target == s.db.name {
			return []testbed.Node{s.db}, nil
		}
		for _, r := range s.replicas {
			if r.name == target {
				return []testbed.Node{r}, nil
			}
		}
	}
	return nil, fmt.Errorf("no node %q on this testbed", target)
}

// BrokerURL is the broker's NATS URL from the host, not through a proxy.
func (e *Env) BrokerURL() string {
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

// ObserveURLs are the replicas' base URLs, direct.
func (e *Env) ObserveURLs(service string) []string {
	s := e.services[service]
	if s == nil {
		return nil
	}
	var out []string
	for _, r := range s.replicas {
		if u, err := r.hostURL(context.Background(), servicePort); err == nil {
			out = append(out, u)
		}
	}
	return out
}

// Down saves every container's log into the run directory and removes every
// container, network and volume of the run. It is idempotent.
func (e *Env) Down(ctx context.Context) error {
	e.downOnce.Do(func() {
		ctx := context.WithoutCancel(ctx)
		e.saveLogs(ctx)
		_, err := e.eng.removeRun(ctx, e.opts.RunID)
		e.downErr = err
		e.eng.Close()
		if err == nil {
			e.opts.Progressf("testbed down")
		}
	})
	return e.downErr
}

func (e *Env) saveLogs(ctx context.Context) {
	if e.opts.Dir == "" {
		return
	}
	dir := filepath.Join(e.opts.Dir, "logs")
	_ = os.MkdirAll(dir, 0o755)
	nodes := []*node{e.toxi, e.broker}
	for _, name := range e.order {
		s := e.services[name]
		if s.db != nil {
			nodes = append(nodes, s.db.node)
		}
		nodes = append(nodes, s.replicas...)
	}
	for _, n := range nodes {
		if n == nil || n.c == nil {
			continue
		}
		rc, err := n.c.Logs(ctx)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		_ = os.WriteFile(filepath.Join(dir, alias(n.name)+".log"), b, 0o644)
	}
}

const loopback = "127.0.0.1"
