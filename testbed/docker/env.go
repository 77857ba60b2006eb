package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mscli/mscli/fixtures"
	"github.com/mscli/mscli/plan"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"

	"github.com/mscli/mscli/fixtures/images"
	"github.com/mscli/mscli/testbed"
)

// Ports inside the containers; only the toxiproxy API and the proxies of client links
// (and the services' HTTP ports, for observing) are published, on 127.0.0.1. A host on
// the run's bridge reaches the same ports at the containers' addresses (route.go).
const (
	brokerPort   = "4222"
	brokerHTTP   = "8222"
	servicePort  = "8080"
	toxiAPIPort  = "8474"
	postgresPort = "5432"
	// firstProxyPort is the first port toxiproxy's proxies listen on.
	firstProxyPort = 20000
	toxiAlias      = "toxiproxy"
)

// Env is a running docker testbed.
type Env struct {
	opts testbed.Options
	// built maps a service with a build context to the image this run built for it.
	built    map[string]string
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
	// sidecars are the toxiproxies beside the replicas of services that reach their
	// dependencies by their own names, and extraHosts those names per replica
	// (compose.go).
	sidecars   []*sidecar
	extraHosts map[string][]string

	mu       sync.Mutex
	downOnce sync.Once
	downErr  error
	watch    watch // the engine's, while the run uses the testbed (watch.go)
	// interrupt is the Done of the context Up was given: once it is closed (^C),
	// Down no longer waits for an engine that does not answer (removeAll).
	interrupt <-chan struct{}
	noFreeze  error // set by tests: what every pause answers, as on an engine without a freezer
	// ReadyAfter is how long the topology took to become ready.
	ReadyAfter time.Duration
	// direct: the host sits on the run's bridge network and reaches the containers at
	// their addresses there, not through their published ports (route.go).
	direct bool
	// procs is the GOMAXPROCS of mscli's own containers, 0 for the Go default
	// (share.go).
	procs int
}

type service struct {
	name     string
	port     string // the port its replicas serve on in their containers; "" for none
	replicas []*node
	db       *dbNode // nil without database: postgres
	sqlite   string  // shared volume for SQLite otherwise
	// password is its database's, random per run (testbed.Password).
	password string
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
	e := &Env{opts: opts, eng: eng, services: map[string]*service{}, interrupt: ctx.Done()}
	if err := e.up(ctx, pl); err != nil {
		return e, err
	}
	e.ReadyAfter = time.Since(began)
	e.watchEngine()
	return e, nil
}

func (e *Env) labels(node string) map[string]string {
	l := runLabels(e.opts.RunID)
	l[LabelNode] = node
	return l
}

func (e *Env) up(ctx context.Context, pl *plan.Plan) error {
	if e.opts.RunID == "" {
		return errors.New("docker testbed: no run id")
	}
	if err := refuseImageless(pl); err != nil {
		return err
	}
	if err := e.buildImages(ctx, pl); err != nil {
		return err
	}
	userExposed, err := e.userImages(ctx, pl)
	if err != nil {
		return err
	}
	bin := e.opts.Binary
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return err
		}
	}
	b, err := images.ReadBinary(bin)
	if err != nil {
		return err
	}
	e.opts.Imagesf("looking for the image of %s", bin)
	imagesf := func(s string) { e.opts.Imagesf("%s", s) }
	if e.image, err = e.eng.resolveMscli(ctx, "", b, imagesf); err != nil {
		return err
	}
	for _, s := range pl.Topology.Services {
		if s.Database == "postgres" {
			if e.pgImage, err = e.eng.resolvePostgres(ctx, "", false, imagesf); err != nil {
				return err
			}
			break
		}
	}
	used := []string{e.image}
	if e.pgImage != "" {
		used = append(used, e.pgImage)
	}
	for _, s := range pl.Topology.Services {
		if s.User() && !slices.Contains(used, s.Image) {
			used = append(used, s.Image)
		}
	}
	e.opts.Imagesf("%s", strings.Join(used, ", "))
	if e.net, err = tcnetwork.New(ctx, tcnetwork.WithLabels(e.labels("network"))); err != nil {
		return fmt.Errorf("docker testbed: network: %w", err)
	}
	if bridge := e.onBridge(ctx); bridge != "" {
		e.direct = true
		e.opts.Progressf("this host is on the run's network (%s): reaching the containers at their addresses on it", bridge)
	}

	// Every link is a proxy in the toxiproxy container, listening on a port of its own:
	// one per replica and link — client->replica when the service serves a port, a
	// replica to each of its dependencies and to its database.
	type plannedLink struct{ from, to, upstream string }
	var planned []plannedLink
	var clientPorts []string
	for _, s := range pl.Topology.Services {
		for i := range s.Replicas {
			rep := plan.ReplicaNode(s.Name, i)
			if port := containerPort(s); port != "" {
				planned = append(planned, plannedLink{plan.ClientNode, rep, alias(rep) + ":" + port})
			}
			for _, dep := range dependencies(s) {
				up, err := upstream(pl, s.Name, i, dep)
				if err != nil {
					return err
				}
				planned = append(planned, plannedLink{rep, dep, up})
			}
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
	e.toxi = e.newNode("toxiproxy", toxiAlias, readiness{port: toxiAPIPort, http: "/version"},
		[]string{"fixture", "toxiproxy", "--listen", "0.0.0.0:" + toxiAPIPort}, nil, append(exposed, toxiAPIPort+"/tcp"))
	if pl.Topology.NeedsBroker() { // not for a system that brings its own
		e.broker = e.newNode(plan.BrokerNode, "broker", readiness{port: brokerHTTP, http: "/healthz"},
			[]string{"fixture", "broker", "--listen", "0.0.0.0:" + brokerPort, "--http", "0.0.0.0:" + brokerHTTP, "--data", "/data"},
			nil, []string{brokerHTTP + "/tcp", brokerPort + "/tcp"})
		e.broker.volume = "/data"
	}
	if e.sidecars, err = e.planSidecars(pl); err != nil {
		return err
	}
	var dbs []*dbNode
	for _, s := range pl.Topology.Services {
		svc := &service{name: s.Name, port: containerPort(s), password: testbed.Password()}
		if s.Database == "postgres" {
			name := plan.DatabaseNode(s.Name)
			// Its port is named so that it is published on 127.0.0.1 like every other:
			// a request without ports has testcontainers publish the image's on 0.0.0.0.
			// Ready when the service's user logs in over TCP (checkPostgres).
			ready := readiness{port: postgresPort, postgres: &pgLogin{user: s.Name, password: svc.password, database: s.Name}}
			n := e.newNode(name, alias(name), ready, nil, map[string]string{
				"POSTGRES_USER": s.Name, "POSTGRES_PASSWORD": svc.password, "POSTGRES_DB": s.Name}, []string{postgresPort + "/tcp"})
			n.image, n.volume = e.pgImage, images.PostgresData
			svc.db = &dbNode{node: n, svc: svc}
			dbs = append(dbs, svc.db)
		} else if !s.User() {
			svc.sqlite = "mscli-" + e.opts.RunID + "-" + s.Name + "-sqlite"
		}
		e.services[s.Name] = svc
		e.order = append(e.order, s.Name)
	}
	e.procs = procsShare(e.engineCPUs(ctx), e.ownContainers(pl))
	// Toxiproxy, the broker, the sidecars and the databases have no dependencies:
	// start together.
	first := []*node{e.toxi}
	if e.broker != nil {
		first = append(first, e.broker)
	}
	for _, sc := range e.sidecars {
		first = append(first, sc.node)
	}
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
		pl := &proxyLink{name: name, proxies: []*toxiclient.Proxy{p}, port: fmt.Sprint(firstProxyPort + i)}
		e.links = append(e.links, link{from: l.from, to: l.to, proxy: pl})
		proxyOf[[2]string{l.from, l.to}] = pl
	}
	if err := e.wireSidecars(ctx, pl); err != nil {
		return err
	}
	// The replicas: each reaches the broker, its database and the services it depends
	// on through its own proxies.
	for _, s := range pl.Topology.Services {
		svc := e.services[s.Name]
		for i := range s.Replicas {
			n, err := e.replicaNode(pl, s, svc, i, proxyOf, userExposed[e.imageOf(s)])
			if err != nil {
				return err
			}
			svc.replicas = append(svc.replicas, n)
		}
	}
	// Every replica of a batch of services at once, a service once those it depends
	// on are ready (the fixtures, which depend on the broker only, all together).
	for _, batch := range startOrder(pl.Topology.Services) {
		var reps []*node
		for _, name := range batch {
			reps = append(reps, e.services[name].replicas...)
		}
		if err := startAll(ctx, reps); err != nil {
			return err
		}
	}
	return nil
}

// replicaNode is replica i of a service: a fixture from mscli's image, told where
// things are by its flags, or a user's service (userNode).
func (e *Env) replicaNode(pl *plan.Plan, s plan.Service, svc *service, i int, proxyOf map[[2]string]*proxyLink, imageExposed []string) (*node, error) {
	if s.User() {
		return e.userNode(s, svc, i, proxyOf, imageExposed)
	}
	rep := plan.ReplicaNode(s.Name, i)
	brokerURL := "nats://" + toxiAlias + ":" + proxyOf[[2]string{rep, plan.BrokerNode}].port
	db := "sqlite:///shared/" + s.Name + ".db"
	if svc.db != nil {
		p := proxyOf[[2]string{rep, svc.db.name}]
		db = svc.databaseURL(toxiAlias + ":" + p.port)
	}
	// The database URL (its password) goes in the environment, not the command line.
	args := []string{"fixture", s.Fixture, "--listen", "0.0.0.0:" + servicePort, "--broker", brokerURL,
		"--replica", fmt.Sprint(i), "--service", s.Name, "--dead-letter-file", "/tmp/dead-letters.jsonl"}
	args = append(args, s.OptionArgs()...)
	for _, dep := range s.DependsOn {
		args = append(args, "--upstream", plan.UpstreamArg(dep, toxiAlias+":"+proxyOf[[2]string{rep, dep}].port))
	}
	for _, b := range pl.Topology.BugsFor(s, e.opts.Bugs) {
		args = append(args, "--inject-bug", b)
	}
	n := e.newNode(rep, alias(rep), readiness{port: servicePort, http: "/readyz"}, args, map[string]string{fixtures.DBEnv: db}, []string{servicePort + "/tcp"})
	if svc.db == nil {
		n.shared = svc.sqlite
	}
	return n, nil
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

// Down saves every container's log into the run directory and removes every
// container, network and volume of the run. It is idempotent.
func (e *Env) Down(ctx context.Context) error {
	e.downOnce.Do(func() {
		e.stopWatch()
		// Not cut short by the run's end, yet bounded: an engine that does not answer
		// is waited for (removeAll) a minute at most, and not after a ^C.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		err := e.removeAll(ctx)
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
	for _, sc := range e.sidecars {
		nodes = append(nodes, sc.node)
	}
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
		b = e.opts.Secrets.Bytes(b) // what a node printed of a secret's value
		_ = os.WriteFile(filepath.Join(dir, alias(n.name)+".log"), b, 0o644)
	}
}

const loopback = "127.0.0.1"
