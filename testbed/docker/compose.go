package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	archive "github.com/moby/go-archive"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/mscli/mscli/plan"
)

// ---- services that reach their dependencies by their own names ----
//
// A compose file's services (plan.Service.Hostnames) keep their configuration: orders
// is told DATABASE_URL=postgres://…@db:5432/orders, and every byte it sends db must
// still cross a link faults act on. So each replica of such a service gets a toxiproxy
// container of its own beside it (a sidecar: mscli's image, role `fixture toxiproxy`,
// labelled with the run like every node, its API published on 127.0.0.1) holding one
// proxy per dependency and port of that dependency, listening on that same port and
// leading to the dependency's real container; the replica's container maps each
// dependency's name to its sidecar's address on the run's network (ExtraHosts). The
// dependencies' own containers carry their replica names only (db-0), never the
// service's name, so "db" leads through the proxy for its dependents and nowhere else.
// The link orders/0->db is that sidecar's proxies for db, every port of it; chaos acts
// on it through the sidecar's API as on any proxy.
//
// Two dependencies of one replica on the same port (two PostgreSQLs on 5432) need two
// addresses for that port: the second goes to a second sidecar, so nothing a compose
// file can say is refused for it.

// sidecar is one toxiproxy container beside a replica.
type sidecar struct {
	node  *node
	rep   string       // the replica it serves
	api   int          // its API's port in the container, one no proxy listens on
	ports map[int]bool // the ports its proxies listen on
	deps  []string     // the dependencies it holds
}

// sidecarAPIPort is a sidecar's API port, unless a dependency listens on it (then the
// next free one).
const sidecarAPIPort = 8474

// planSidecars lays out the sidecars of every replica of every Hostnames service that
// has dependencies: each dependency whole (every port of it) on the first sidecar
// where none of its ports is taken.
func (e *Env) planSidecars(pl *plan.Plan) ([]*sidecar, error) {
	var out []*sidecar
	for _, s := range pl.Topology.Services {
		if !s.Hostnames {
			continue
		}
		for i := range s.Replicas {
			rep := plan.ReplicaNode(s.Name, i)
			var mine []*sidecar
			for _, dep := range s.DependsOn {
				d, ok := serviceOf(pl, dep)
				if !ok || len(d.AllPorts()) == 0 {
					return nil, fmt.Errorf("docker testbed: service %s reaches %s by its name, but %s is no service of this system with a port", s.Name, dep, dep)
				}
				var sc *sidecar
				for _, c := range mine {
					if !slices.ContainsFunc(d.AllPorts(), func(p int) bool { return c.ports[p] }) {
						sc = c
						break
					}
				}
				if sc == nil {
					sc = &sidecar{rep: rep, ports: map[int]bool{}}
					mine = append(mine, sc)
				}
				sc.deps = append(sc.deps, dep)
				for _, p := range d.AllPorts() {
					sc.ports[p] = true
				}
			}
			for k, sc := range mine {
				for sc.api = sidecarAPIPort; sc.ports[sc.api]; sc.api++ {
				}
				// '.' is in no service's name: a sidecar's name is no replica's.
				name := rep + ".toxiproxy"
				if k > 0 {
					name += fmt.Sprint(".", k+1)
				}
				api := strconv.Itoa(sc.api)
				sc.node = e.newNode(name, alias(name), readiness{port: api, http: "/version"},
					[]string{"fixture", "toxiproxy", "--listen", "0.0.0.0:" + api}, nil, []string{api + "/tcp"})
			}
			out = append(out, mine...)
		}
	}
	return out, nil
}

func serviceOf(pl *plan.Plan, name string) (plan.Service, bool) {
	for _, s := range pl.Topology.Services {
		if s.Name == name {
			return s, true
		}
	}
	return plan.Service{}, false
}

// wireSidecars creates the proxies of every (started) sidecar and the links they make,
// and says which address each replica's dependency names resolve to.
func (e *Env) wireSidecars(ctx context.Context, pl *plan.Plan) error {
	e.extraHosts = map[string][]string{}
	for _, sc := range e.sidecars {
		ip, err := sc.node.c.ContainerIP(ctx)
		if err != nil || ip == "" {
			return fmt.Errorf("docker testbed: the address of %s: %v", sc.node.name, err)
		}
		apiURL, err := sc.node.hostURL(ctx, strconv.Itoa(sc.api))
		if err != nil {
			return err
		}
		api := toxiclient.NewClient(apiURL)
		i, _ := strconv.Atoi(sc.rep[strings.LastIndexByte(sc.rep, '/')+1:])
		for _, dep := range sc.deps {
			d, _ := serviceOf(pl, dep)
			name := sc.rep + "->" + dep
			l := &proxyLink{name: name}
			for _, port := range d.AllPorts() {
				up := alias(plan.ReplicaNode(dep, i%d.Replicas)) + ":" + strconv.Itoa(port)
				p, err := api.CreateProxy(fmt.Sprintf("%s-%d", strings.ReplaceAll(name, "/", "-"), port), fmt.Sprintf("0.0.0.0:%d", port), up)
				if err != nil {
					return fmt.Errorf("docker testbed: proxy %s (port %d) in %s: %w", name, port, sc.node.name, err)
				}
				l.proxies = append(l.proxies, p)
			}
			e.links = append(e.links, link{from: sc.rep, to: dep, proxy: l})
			e.extraHosts[sc.rep] = append(e.extraHosts[sc.rep], dep+":"+ip)
		}
	}
	return nil
}

// containerOf gives a user's replica what its service says beyond its image: the
// entrypoint, command, user and working folder a compose file sets, and the names of
// its dependencies leading to its sidecars.
func (e *Env) containerOf(n *node, s plan.Service) {
	if c := s.Container; c != nil {
		n.entrypoint, n.cmd, n.user, n.workdir = c.Entrypoint, c.Cmd, c.User, c.WorkingDir
	}
	n.extraHosts = e.extraHosts[n.name]
}

// buildImages builds the image of every service with a build context (a compose
// file's build:), through the engine's API with the classic builder, as `docker
// compose build` would: the context's .dockerignore honoured, the Dockerfile and
// build arguments the file names. The layers it caches make a rebuild of an
// unchanged context quick.
//
// Each is built under a name of the run's own (mscli-build-<service>:<run id>) and
// labelled with the run, so two runs never run each other's build and the run's Down
// (or mscli clean) removes it; the layers stay cached.
func (e *Env) buildImages(ctx context.Context, pl *plan.Plan) error {
	e.built = map[string]string{}
	for _, s := range pl.Topology.Services {
		if s.Container == nil || s.Container.Build == nil {
			continue
		}
		ref := "mscli-build-" + strings.ToLower(alias(s.Name)) + ":" + imageTag(e.opts.RunID)
		b := s.Container.Build
		began := time.Now()
		e.opts.Imagesf("building %s for service %s from %s", ref, s.Name, b.Context)
		if err := e.eng.buildContext(ctx, ref, b, runLabels(e.opts.RunID), func(line string) { e.opts.Imagesf("%s", line) }); err != nil {
			return fmt.Errorf("docker testbed: service %s: build from %s: %w", s.Name, b.Context, err)
		}
		e.built[s.Name] = ref
		e.opts.Imagesf("built %s in %s", ref, time.Since(began).Round(time.Millisecond))
	}
	return nil
}

// imageOf is the image a user's service runs: this run's build of it, or its image:.
func (e *Env) imageOf(s plan.Service) string {
	if ref, ok := e.built[s.Name]; ok {
		return ref
	}
	return s.Image
}

func (e *engine) buildContext(ctx context.Context, ref string, b *plan.Build, labels map[string]string, progress func(string)) error {
	dockerfile := b.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	var excludes []string
	if f, err := os.Open(filepath.Join(b.Context, ".dockerignore")); err == nil {
		excludes, err = ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return fmt.Errorf(".dockerignore: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	// As the docker CLI does: the Dockerfile and .dockerignore go to the builder even
	// when ignored.
	excludes = append(excludes, "!"+dockerfile, "!.dockerignore")
	tar, err := archive.TarWithOptions(b.Context, &archive.TarOptions{ExcludePatterns: excludes})
	if err != nil {
		return err
	}
	defer tar.Close()
	args := map[string]*string{}
	for k, v := range b.Args {
		args[k] = &v
	}
	res, err := e.ImageBuild(ctx, tar, client.ImageBuildOptions{
		Tags: []string{ref}, Labels: labels, Dockerfile: dockerfile, BuildArgs: args, Target: b.Target,
		Remove: true, ForceRemove: true, Version: build.BuilderV1,
	})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return readStream(res.Body, progress)
}

// HostAddr is where the host reaches a node's container port (node.hostAddr): a service's
// (its first replica's), a replica's, a database's or the broker's. "" for a port the
// node does not publish.
func (e *Env) HostAddr(name string, port int) string {
	n := e.nodeOf(name)
	if n == nil {
		return ""
	}
	addr, err := n.hostAddr(context.Background(), strconv.Itoa(port))
	if err != nil {
		return ""
	}
	return addr
}

// imageTag makes a run id a valid image tag: letters, digits, '_', '.' and '-', at most
// 128, not starting with '.' or '-'.
func imageTag(id string) string {
	t := []byte(id)
	for i, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			t[i] = '-'
		}
	}
	if len(t) > 128 {
		t = t[:128]
	}
	if len(t) == 0 || t[0] == '.' || t[0] == '-' {
		t = append([]byte("r"), t...)[:min(len(t)+1, 128)]
	}
	return string(t)
}

// nodeOf is the container behind a node name: a replica's, a database's, the broker's,
// or a service's first replica's; nil for none.
func (e *Env) nodeOf(name string) *node {
	nodes, err := e.Nodes(name)
	if err != nil || len(nodes) == 0 {
		return nil
	}
	switch x := nodes[0].(type) {
	case *node:
		return x
	case *dbNode:
		return x.node
	}
	return nil
}
