package docker

import (
	"context"
	"errors"

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
