// Package docker is the docker testbed: every node of the system under test is a
// container on a private network of its own run — the broker, the fixtures' replicas
// and a toxiproxy server run from mscli's image (built FROM scratch from the mscli
// binary, see fixtures/images), the replicas of a service of the user's from its own
// image (never pulled), each PostgreSQL database from a Postgres image — and
// every link crosses the toxiproxy container, so every byte between nodes passes a
// proxy a fault can act on. Kills (SIGKILL), pauses (the cgroup freezer), restarts and
// data wipes act on real containers and volumes.
//
// It is the only package that imports testcontainers-go and the Docker client.
// testcontainers' reaper (Ryuk) is switched off — its image cannot be pulled on an
// offline machine — so the package cleans up after itself instead: every container,
// network and volume carries the labels mscli.run=<run id> and mscli.node=<node>; Down
// removes what carries its run's label, and Clean what carries any, for runs whose
// mscli was killed before it could.
package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/mscli/mscli/testbed"
)

// Labels on every resource of a run.
const (
	// LabelRun is the run id: Down removes what carries its own, Clean what carries the
	// id of a run whose owner is gone.
	LabelRun = "mscli.run"
	// LabelOwner is the run's owner (testbed.Owner): clean leaves a live one's alone.
	LabelOwner = "mscli.owner"
	// LabelNode is the node a container or volume belongs to ("bank/0", "broker").
	LabelNode = "mscli.node"
)

// ryukEnv is how testcontainers-go is told not to start its reaper: the variable is
// read once, when the library first reads its configuration, and there is no other
// switch but the user's ~/.testcontainers.properties.
const ryukEnv = "TESTCONTAINERS_RYUK_DISABLED"

var setupOnce sync.Once

// setup disables the reaper (unless the user said otherwise) and silences
// testcontainers' own log, which would otherwise interleave its banner and a line per
// container with mscli's progress on stderr; MSCLI_DOCKER_DEBUG=1 keeps it.
func setup() {
	setupOnce.Do(func() {
		if os.Getenv(ryukEnv) == "" {
			os.Setenv(ryukEnv, "true")
		}
		if os.Getenv("MSCLI_DOCKER_DEBUG") == "" {
			tclog.SetDefault(tclog.NewNoopLogger())
		}
	})
}

// quiet is the per-container logger handed to testcontainers.
func quiet() tclog.Logger {
	if os.Getenv("MSCLI_DOCKER_DEBUG") != "" {
		return tclog.Default()
	}
	return tclog.NewNoopLogger()
}

// engine is a Docker client resolved the way testcontainers resolves it (DOCKER_HOST,
// docker contexts, ~/.testcontainers.properties), with the API version negotiated
// down to what the engine speaks.
type engine struct {
	*testcontainers.DockerClient
}

// connect returns a client of an engine that answers within ctx.
func connect(ctx context.Context) (*engine, error) {
	setup()
	type result struct {
		c   *testcontainers.DockerClient
		err error
	}
	// NewDockerClientWithOpts asks the engine for its info without a deadline of its
	// own: a socket nobody serves would hang it, so it races ctx here.
	done := make(chan result, 1)
	go func() {
		c, err := testcontainers.NewDockerClientWithOpts(ctx)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("docker: no engine answers: %w", r.err)
		}
		return &engine{r.c}, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("docker: no engine answers: %w", ctx.Err())
	}
}

// Engine describes the Docker engine the testbed would use.
type Engine struct {
	Version    string // "20.10.24+dfsg1"
	APIVersion string // the engine's ("1.41"); the client negotiates down to it
	Arch       string // GOARCH of the engine's machine
	OS         string
}

// Ping reports whether a Docker engine answers, and which. timeout bounds the wait
// (0 means 5s): --testbed auto calls it before every run.
func Ping(ctx context.Context, timeout time.Duration) (Engine, error) {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	e, err := connect(ctx)
	if err != nil {
		return Engine{}, err
	}
	defer e.Close()
	v, err := e.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return Engine{}, fmt.Errorf("docker: engine version: %w", err)
	}
	return Engine{Version: v.Version, APIVersion: v.APIVersion, Arch: v.Arch, OS: v.Os}, nil
}

// runLabels are the labels of every resource of a run: its id and, where this
// system can tell, its owner (this process).
func runLabels(run string) map[string]string {
	l := map[string]string{LabelRun: run}
	if o, err := testbed.Self(); err == nil {
		l[LabelOwner] = o.String()
	}
	return l
}

// runFilter selects the resources of one run, or of every run when run is "".
func runFilter(run string) client.Filters {
	if run == "" {
		return make(client.Filters).Add("label", LabelRun)
	}
	return make(client.Filters).Add("label", LabelRun+"="+run)
}

// Clean removes what runs whose mscli is gone (SIGKILL, a crash, a second ^C) left
// behind: their containers, networks, volumes and built images, labelled mscli.run. A
// run whose owner (label mscli.owner) is running, or ran on another host, is left
// alone, each said in a line through note; Force removes those too. It returns one line
// per removed resource.
func Clean(ctx context.Context, o testbed.CleanOptions) ([]string, error) {
	e, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	owners, err := e.runOwners(ctx, o.Run)
	if err != nil {
		return nil, err
	}
	var done []string
	var errs []error
	for _, run := range slices.Sorted(maps.Keys(owners)) {
		if !o.Force {
			if keep, why := testbed.KeepRun(owners[run]); keep {
				o.Notef("left run %s alone: %s (--force removes it)", run, why)
				continue
			}
		}
		d, err := e.removeRun(ctx, run)
		done = append(done, d...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return done, errors.Join(errs...)
}

// runOwners finds the runs that left resources (only run, if set), each with its
// owner label ("" when none was recorded: an older mscli's run, removed as before).
func (e *engine) runOwners(ctx context.Context, run string) (map[string]string, error) {
	owners := map[string]string{}
	add := func(labels map[string]string) {
		id := labels[LabelRun]
		if id == "" {
			return
		}
		if owners[id] == "" {
			owners[id] = labels[LabelOwner]
		}
	}
	cs, err := e.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: runFilter(run)})
	if err != nil {
		return nil, fmt.Errorf("docker: list containers: %w", err)
	}
	for _, c := range cs.Items {
		add(c.Labels)
	}
	ns, err := e.NetworkList(ctx, client.NetworkListOptions{Filters: runFilter(run)})
	if err != nil {
		return nil, fmt.Errorf("docker: list networks: %w", err)
	}
	for _, n := range ns.Items {
		add(n.Labels)
	}
	vs, err := e.VolumeList(ctx, client.VolumeListOptions{Filters: runFilter(run)})
	if err != nil {
		return nil, fmt.Errorf("docker: list volumes: %w", err)
	}
	for _, v := range vs.Items {
		add(v.Labels)
	}
	is, err := e.ImageList(ctx, client.ImageListOptions{Filters: runFilter(run)})
	if err != nil {
		return nil, fmt.Errorf("docker: list images: %w", err)
	}
	for _, im := range is.Items {
		add(im.Labels)
	}
	return owners, nil
}

// removeRun removes the resources of a run (every run for ""): containers first (with
// their anonymous volumes), then the networks and volumes they held.
func (e *engine) removeRun(ctx context.Context, run string) ([]string, error) {
	var done []string
	var errs []error
	cs, err := e.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: runFilter(run)})
	if err != nil {
		return nil, fmt.Errorf("docker: list containers: %w", err)
	}
	sort.Slice(cs.Items, func(i, j int) bool { return cs.Items[i].Created < cs.Items[j].Created })
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range cs.Items {
		wg.Go(func() {
			name := c.ID[:12]
			if len(c.Names) > 0 {
				name = trimSlash(c.Names[0])
			}
			_, err := e.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			mu.Lock()
			defer mu.Unlock()
			if err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("remove container %s: %w", name, err))
				return
			}
			done = append(done, fmt.Sprintf("removed container %s (run %s)", name, c.Labels[LabelRun]))
		})
	}
	wg.Wait()
	sort.Strings(done)
	ns, err := e.NetworkList(ctx, client.NetworkListOptions{Filters: runFilter(run)})
	if err != nil {
		errs = append(errs, fmt.Errorf("docker: list networks: %w", err))
	} else {
		for _, n := range ns.Items {
			if _, err := e.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
				continue
			}
			done = append(done, fmt.Sprintf("removed network %s (run %s)", n.Name, n.Labels[LabelRun]))
		}
	}
	vs, err := e.VolumeList(ctx, client.VolumeListOptions{Filters: runFilter(run)})
	if err != nil {
		errs = append(errs, fmt.Errorf("docker: list volumes: %w", err))
	} else {
		for _, v := range vs.Items {
			if _, err := e.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
				continue
			}
			done = append(done, fmt.Sprintf("removed volume %s (run %s)", v.Name, v.Labels[LabelRun]))
		}
	}
	// Images the run built (a compose file's build:), by their label: the layers stay,
	// as the build cache.
	is, err := e.ImageList(ctx, client.ImageListOptions{Filters: runFilter(run)})
	if err != nil {
		errs = append(errs, fmt.Errorf("docker: list images: %w", err))
	} else {
		for _, im := range is.Items {
			if _, err := e.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("remove image %s: %w", im.ID, err))
				continue
			}
			done = append(done, fmt.Sprintf("removed image %s (run %s)", strings.Join(im.RepoTags, ", "), im.Labels[LabelRun]))
		}
	}
	return done, errors.Join(errs...)
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}
