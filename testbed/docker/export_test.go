package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"time"

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

// ContainerID is the container of a node ("" when it has none).
func (e *Env) ContainerID(name string) string {
	if nodes, err := e.Nodes(name); err != nil || len(nodes) != 1 {
		return ""
	}
	n := e.nodeOf(name)
	if n == nil || n.c == nil {
		return ""
	}
	return n.c.GetContainerID()
}
