// Package local is the local testbed: every node of the system under test is a child
// process of the mscli binary on 127.0.0.1 (one broker, `replicas` processes per
// service sharing one SQLite file), and an in-process toxiproxy server carries every
// link, one proxy per replica, so every byte between nodes crosses a proxy a fault can
// act on. Kills, pauses, restarts and data wipes are real: kill -9, SIGSTOP/SIGCONT, a
// deleted file.
//
// Children run in their own process group, die with mscli on Linux (Pdeathsig), carry
// MSCLI_RUN=<run id> in their environment and are listed in <run dir>/pids, so Clean can
// find what a crashed run left behind.
package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/testbed"
)

var errUnsupported = errors.New("the local testbed needs a Unix system (process groups and signals)")

// Env is a running local testbed. It satisfies chaos.Env.
type Env struct {
	opts    testbed.Options
	dir     string // absolute run directory
	binary  string
	proxies *testbed.Proxies
	ports   testbed.Ports // the nodes' ports, leased until Down

	broker     *brokerNode
	brokerAddr string // NATS, direct
	brokerData string
	top        plan.Topology
	services   map[string]*service
	order      []string // service names in plan order
	links      []link

	// base ends when Down starts, so starts under way give up at once.
	base   context.Context
	cancel context.CancelFunc

	pidMu  sync.Mutex
	downMu sync.Mutex
	down   bool
	downE  error
}

type service struct {
	name     string
	replicas []*process
	listen   []string // direct addresses, one per replica
	db       *dbNode  // a fixture's SQLite file
	pg       *pgNode  // a user's service's PostgreSQL
	dlq      []string // dead-letter files, one per replica
}

// dataNode is the node a service's data faults act on, and its name; nil for a
// user's service without a database.
func (s *service) dataNode() (testbed.Node, string) {
	switch {
	case s.pg != nil:
		return s.pg, s.pg.name
	case s.db != nil:
		return s.db, s.db.name
	}
	return nil, ""
}

// link is one proxy: a plan link resolved to a pair of nodes.
type link struct {
	from, to string // node names: "client", "bank/0", "broker"
	proxy    *testbed.ProxyLink
}

// Up starts the plan's topology. When it fails it still returns the partial Env: call
// Down in every case (defer it right after Up).
func Up(ctx context.Context, pl *plan.Plan, opts testbed.Options) (*Env, error) {
	opts = opts.WithDefaults()
	if opts.RunID == "" {
		opts.RunID = fmt.Sprintf("local-%d", time.Now().UnixNano())
	}
	base, cancel := context.WithCancel(context.Background())
	e := &Env{opts: opts, base: base, cancel: cancel, services: map[string]*service{}, proxies: testbed.NewProxies()}
	if strings.ContainsFunc(opts.RunID, unicode.IsSpace) {
		// The pid file is whitespace-separated.
		return e, fmt.Errorf("local testbed: run id %q contains white space", opts.RunID)
	}
	if err := e.up(ctx, pl); err != nil {
		return e, err
	}
	return e, nil
}

func (e *Env) up(ctx context.Context, pl *plan.Plan) error {
	if !supported {
		return errUnsupported
	}
	if pl == nil {
		return errors.New("local testbed: no plan")
	}
	top := pl.Topology
	e.top = top
	if top.Broker != "" && top.Broker != "nats" {
		return fmt.Errorf("local testbed: broker %q: only nats is known", top.Broker)
	}
	for _, s := range top.Services {
		if s.Hostnames { // a compose file's: only docker leads its names through links
			return fmt.Errorf("local testbed: service %q reaches its dependencies by their own names (a compose file's service): run it with --testbed docker", s.Name)
		}
		if s.User() && len(s.Command) == 0 {
			return fmt.Errorf("local testbed: service %q has no command: (it has image: %s, which the docker testbed runs): give it command: to run it here", s.Name, s.Image)
		}
		if s.Replicas < 1 {
			return fmt.Errorf("local testbed: service %q: %d replicas", s.Name, s.Replicas)
		}
	}
	if err := e.checkLinks(top); err != nil {
		return err
	}

	var err error
	if e.opts.Dir == "" {
		return errors.New("local testbed: no run directory")
	}
	if e.dir, err = filepath.Abs(e.opts.Dir); err != nil {
		return err
	}
	for _, d := range []string{"data", "logs"} {
		if err := os.MkdirAll(filepath.Join(e.dir, d), 0o755); err != nil {
			return fmt.Errorf("local testbed: %w", err)
		}
	}
	e.binary = e.opts.Binary
	if e.binary == "" {
		if e.binary, err = os.Executable(); err != nil {
			return fmt.Errorf("local testbed: find the mscli binary: %w", err)
		}
	}

	// The broker first: every service needs it to become ready.
	natsAddr, err := e.ports.Addr()
	if err != nil {
		return err
	}
	httpAddr, err := e.ports.Addr()
	if err != nil {
		return err
	}
	e.brokerAddr = natsAddr
	e.brokerData = filepath.Join(e.dir, "data", "broker")
	e.broker = &brokerNode{e.newProcess(plan.BrokerNode, "http://"+httpAddr+"/healthz",
		"fixture", "broker", "--listen", natsAddr, "--http", httpAddr, "--data", e.brokerData)}
	e.opts.Node(plan.BrokerNode, testbed.NodeStarting, "starting broker on %s", natsAddr)
	if err := e.broker.Start(ctx); err != nil {
		return err
	}

	// A gateway after the services it fronts: it is handed their addresses.
	for _, s := range dependencyOrder(top.Services) {
		if s.User() {
			continue
		}
		if err := e.startService(ctx, s); err != nil {
			return err
		}
	}
	return e.startUserServices(ctx, top)
}

// checkLinks refuses links the local testbed cannot put a proxy on, before anything
// starts. Links to a service's database are accepted: on this testbed the database is
// an SQLite file without a network path, and a fault on such a link fails when applied,
// saying so.
func (e *Env) checkLinks(top plan.Topology) error {
	svcs := map[string]bool{}
	deps := map[[2]string]bool{}
	for _, s := range top.Services {
		svcs[s.Name] = true
		for _, d := range s.DependsOn {
			deps[[2]string{s.Name, d}] = true
		}
	}
	for _, l := range top.Links {
		from, to := plan.ServiceOf(l.From), plan.ServiceOf(l.To)
		switch {
		case from == plan.ClientNode && svcs[to]:
		case svcs[from] && to == plan.BrokerNode:
		case svcs[from] && to == plan.DatabaseNode(from):
		case deps[[2]string{from, to}]:
		default:
			return fmt.Errorf("local testbed: link %q: no fixture takes that dependency on this testbed", l.Name)
		}
	}
	return nil
}

func (e *Env) newProcess(name, health string, args ...string) *process {
	return &process{env: e, name: name, ready: testbed.Readiness{URL: health}, args: args,
		log: filepath.Join(e.dir, "logs", logName(name))}
}

// fileName turns a node name into a file name: "bank/0" → "bank-0".
func fileName(node string) string { return strings.ReplaceAll(node, "/", "-") }

func logName(node string) string { return fileName(node) + ".log" }

func (e *Env) startService(ctx context.Context, s plan.Service) error {
	if s.Database != "" && s.Database != "sqlite" {
		e.opts.Progressf("%s: database %s is SQLite on the local testbed", s.Name, s.Database)
	}
	dbDir := filepath.Join(e.dir, "data", plan.DatabaseNode(s.Name))
	if err := os.MkdirAll(dbDir, 0o755); err != nil {
		return fmt.Errorf("local testbed: %w", err)
	}
	svc := &service{name: s.Name}
	svc.db = &dbNode{env: e, svc: svc, name: plan.DatabaseNode(s.Name), path: filepath.Join(dbDir, s.Name+".db")}
	e.services[s.Name] = svc
	e.order = append(e.order, s.Name)
	for i := range s.Replicas {
		node := plan.ReplicaNode(s.Name, i)
		bl, err := e.addLink(node, plan.BrokerNode, e.brokerAddr)
		if err != nil {
			return err
		}
		addr, err := e.ports.Addr()
		if err != nil {
			return err
		}
		dataDir := filepath.Join(e.dir, "data", fileName(node))
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return fmt.Errorf("local testbed: %w", err)
		}
		dlq := filepath.Join(dataDir, "dead-letters.jsonl")
		args := []string{"fixture", s.Fixture, "--listen", addr, "--broker", "nats://" + bl.Listen(),
			"--db", "sqlite://" + svc.db.path, "--replica", fmt.Sprint(i), "--service", s.Name, "--dead-letter-file", dlq}
		args = append(args, s.OptionArgs()...)
		for _, dep := range s.DependsOn {
			up, err := e.upstream(svc, i, dep)
			if err != nil {
				return err
			}
			l, err := e.addLink(node, dep, up)
			if err != nil {
				return err
			}
			args = append(args, "--upstream", plan.UpstreamArg(dep, l.Listen()))
		}
		for _, b := range e.top.BugsFor(s, e.opts.Bugs) {
			args = append(args, "--inject-bug", b)
		}
		p := e.newProcess(node, "http://"+addr+"/readyz", args...)
		svc.replicas = append(svc.replicas, p)
		svc.listen = append(svc.listen, addr)
		svc.dlq = append(svc.dlq, dlq)
		// One replica at a time: the first creates the schema in the shared file.
		e.opts.Node(node, testbed.NodeStarting, "starting %s on %s", node, addr)
		if err := p.Start(ctx); err != nil {
			return err
		}
		if _, err := e.addLink(plan.ClientNode, node, addr); err != nil {
			return err
		}
	}
	return nil
}

func (e *Env) addLink(from, to, upstream string) (*testbed.ProxyLink, error) {
	pl, err := e.proxies.Add(from+"->"+to, upstream)
	if err != nil {
		return nil, err
	}
	e.links = append(e.links, link{from: from, to: to, proxy: pl})
	return pl, nil
}

// bind ties a start to the testbed's life: Down interrupts it.
func (e *Env) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(e.base, cancel)
	return ctx, func() { stop(); cancel() }
}

// notePid appends a started child to <run dir>/pids for Clean.
func (e *Env) notePid(pid int, node string) {
	e.pidMu.Lock()
	defer e.pidMu.Unlock()
	f, err := os.OpenFile(filepath.Join(e.dir, "pids"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		e.opts.Progressf("warning: cannot record pid %d of %s: %v", pid, node, err)
		return
	}
	defer f.Close()
	line := fmt.Sprintf("%d %s %s", pid, node, e.opts.RunID)
	if o, err := testbed.Self(); err == nil {
		line += " " + o.String() // clean leaves the nodes of a live mscli alone
	}
	fmt.Fprintln(f, line)
}

// Down stops every node (SIGTERM, then SIGKILL after the grace period), services
// before the broker, and closes the proxies. It is idempotent: later calls return the
// first call's result.
func (e *Env) Down(ctx context.Context) error {
	e.downMu.Lock()
	defer e.downMu.Unlock()
	if e.down {
		return e.downE
	}
	e.down = true
	e.cancel()
	var mu sync.Mutex
	var errs []error
	stopAll := func(ps []*process) {
		var wg sync.WaitGroup
		for _, p := range ps {
			wg.Go(func() {
				if err := p.Stop(ctx); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	var reps, dbs []*process
	for _, name := range e.order {
		reps = append(reps, e.services[name].replicas...)
		if pg := e.services[name].pg; pg != nil && pg.process != nil {
			dbs = append(dbs, pg.process)
		}
	}
	stopAll(reps)
	stopAll(dbs)
	// A PostgreSQL data directory and its snapshots are tens of megabytes a run, and
	// nothing a person reads afterwards (its log stays in logs/): removed once stopped.
	for _, name := range e.order {
		if pg := e.services[name].pg; pg != nil && pg.process != nil && pg.Pid() == 0 {
			if err := pg.removeData(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if e.broker != nil {
		stopAll([]*process{e.broker.process})
	}
	if err := e.proxies.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close proxies: %w", err))
	}
	e.ports.Release() // a node that would not stop still holds its port: no one else can listen there
	e.downE = errors.Join(errs...)
	if e.downE == nil {
		e.opts.Progressf("testbed down")
	}
	return e.downE
}

// Dir is the run directory.
func (e *Env) Dir() string { return e.dir }

// BrokerURL is the broker's NATS URL, direct (not through a proxy): for the harness.
func (e *Env) BrokerURL() string { return "nats://" + e.brokerAddr }

// Endpoints are the base URLs of a service's replicas as the workload reaches them:
// through the client->replica proxies, one per replica.
func (e *Env) Endpoints(service string) []string {
	var out []string
	for _, l := range e.links {
		if l.from == plan.ClientNode && plan.ServiceOf(l.to) == service {
			out = append(out, "http://"+l.proxy.Listen())
		}
	}
	return out
}

// ObserveURLs are the base URLs of a service's replicas, direct: reading effects after
// the run must not depend on faults.
func (e *Env) ObserveURLs(service string) []string {
	s := e.services[service]
	if s == nil {
		return nil
	}
	out := make([]string, len(s.listen))
	for i, a := range s.listen {
		out[i] = "http://" + a
	}
	return out
}

// DeadLetterFiles are the files a service's replicas write dead letters to.
func (e *Env) DeadLetterFiles(service string) []string {
	if s := e.services[service]; s != nil {
		return append([]string(nil), s.dlq...)
	}
	return nil
}

// LogPath is the log file of a node.
func (e *Env) LogPath(node string) string { return filepath.Join(e.dir, "logs", logName(node)) }

// Links resolves a link name to its proxies. Either end may name a node ("bank/1") or
// a service (every replica): "client->bank" is one proxy per bank replica,
// "bank/1->broker" one proxy.
func (e *Env) Links(target string) ([]testbed.Link, error) {
	from, to, ok := strings.Cut(target, "->")
	if !ok {
		return nil, fmt.Errorf("link %q: want from->to", target)
	}
	if s := e.services[plan.ServiceOf(from)]; s != nil && s.db != nil && to == s.db.name {
		return nil, fmt.Errorf("link %q: on the local testbed %s is an SQLite file, with no network path to cut", target, to)
	}
	var out []testbed.Link
	for _, l := range e.links {
		if plan.Covers(from, l.from) && plan.Covers(to, l.to) {
			out = append(out, l.proxy)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no link %q on this testbed (links: %s)", target, strings.Join(e.linkNames(), ", "))
	}
	return out, nil
}

func (e *Env) linkNames() []string {
	var names []string
	for _, l := range e.links {
		names = append(names, l.proxy.Name())
	}
	sort.Strings(names)
	return names
}

// Nodes resolves a node name: "broker", a replica ("bank/0"), a service (all its
// replicas) or a service's database ("bank-db", which supports data faults only).
func (e *Env) Nodes(target string) ([]testbed.Node, error) {
	if target == plan.BrokerNode && e.broker != nil {
		return []testbed.Node{e.broker}, nil
	}
	for _, name := range e.order {
		s := e.services[name]
		if target == s.name {
			out := make([]testbed.Node, len(s.replicas))
			for i, p := range s.replicas {
				out[i] = p
			}
			return out, nil
		}
		if n, name := s.dataNode(); n != nil && target == name {
			return []testbed.Node{n}, nil
		}
		for _, p := range s.replicas {
			if p.name == target {
				return []testbed.Node{p}, nil
			}
		}
	}
	return nil, fmt.Errorf("no node %q on this testbed", target)
}
