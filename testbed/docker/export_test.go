package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/mscli/mscli/fixtures/images"
)

// BreakFreezer makes every pause fail as runc does when a cgroup will not freeze.
func (e *Env) BreakFreezer() {
	e.noFreeze = errors.New("OCI runtime pause failed: unable to freeze: unknown")
}

// SnapshotFile is where a database node's named snapshot is kept.
func (e *Env) SnapshotFile(service, name string) string {
	return e.services[service].db.snapshotPath(name)
}

// ResolveMscli finds, or builds, the image of the mscli binary at path, as a run does.
func ResolveMscli(ctx context.Context, path string, progress func(string)) (string, error) {
	b, err := images.ReadBinary(path)
	if err != nil {
		return "", err
	}
	e, err := connect(ctx)
	if err != nil {
		return "", err
	}
	defer e.Close()
	return e.resolveMscli(ctx, "", b, progress)
}

// BuildImage builds ref through the engine's API, as mscli's own images are built,
// from a Dockerfile and executables put beside it.
func BuildImage(ctx context.Context, ref, dockerfile string, executables map[string][]byte) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	add := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data)), ModTime: now}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add("Dockerfile", 0o644, []byte(dockerfile)); err != nil {
		return err
	}
	for name, data := range executables {
		if err := add(name, 0o755, data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	e, err := connect(ctx)
	if err != nil {
		return err
	}
	defer e.Close()
	return e.build(ctx, &buf, ref, nil, nil)
}

// RunID is the run's id, on the labels of everything it started.
func (e *Env) RunID() string { return e.opts.RunID }

// ContainerID is the container of a node, or of toxiproxy ("" when it has none).
func (e *Env) ContainerID(name string) string {
	if name == toxiAlias && e.toxi != nil && e.toxi.c != nil {
		return e.toxi.c.GetContainerID()
	}
	if nodes, err := e.Nodes(name); err != nil || len(nodes) != 1 {
		return ""
	}
	n := e.nodeOf(name)
	if n == nil || n.c == nil {
		return ""
	}
	return n.c.GetContainerID()
}

// EngineFloor is the engine's own time to start n containers at once: n bare
// containers of image (mscli's, each a toxiproxy server that waits: a container that
// exited at once would have the engine tear it down beside the starts) on a network
// of their own, all created first, then started together; the time from the first start
// to the last start's answer. No readiness, no port, no volume: what any topology of n
// nodes costs before mscli's work. Everything it made carries run's labels and is
// removed before it returns.
func EngineFloor(ctx context.Context, run, image string, n int) (time.Duration, error) {
	e, err := connect(ctx)
	if err != nil {
		return 0, err
	}
	defer e.Close()
	defer e.removeRun(context.WithoutCancel(ctx), run)
	labels := runLabels(run)
	net := "mscli-" + run + "-floor"
	if _, err := e.NetworkCreate(ctx, net, client.NetworkCreateOptions{Driver: "bridge", Labels: labels}); err != nil {
		return 0, fmt.Errorf("network: %w", err)
	}
	ids := make([]string, n)
	for i := range ids {
		c, err := e.ContainerCreate(ctx, client.ContainerCreateOptions{
			Config:     &container.Config{Image: image, Cmd: []string{"fixture", "toxiproxy", "--listen", "0.0.0.0:" + toxiAPIPort}, Labels: labels},
			HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(net)},
			NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
				net: {Aliases: []string{fmt.Sprintf("floor-%d", i)}}}},
			Name: fmt.Sprintf("mscli-%s-floor-%d", run, i),
		})
		if err != nil {
			return 0, fmt.Errorf("create: %w", err)
		}
		ids[i] = c.ID
	}
	began := time.Now()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { _, errs[i] = e.ContainerStart(ctx, id, client.ContainerStartOptions{}) })
	}
	wg.Wait()
	return time.Since(began), errors.Join(errs...)
}
