package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/mscli/mscli/fixtures/images"
	"github.com/mscli/mscli/testbed"
)

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
		d.env.opts.Node(d.name, testbed.NodeStopping, "%s: cannot freeze the container (%v); stopping it for the snapshot", d.name, err)
		if err := d.stopLocked(ctx); err != nil {
			return fmt.Errorf("snapshot %s: %w", d.name, err)
		}
		defer func() {
			if err := d.startLocked(context.WithoutCancel(ctx)); err != nil {
				d.env.opts.NodeFailed(d.name, err, "%s: start after the snapshot: %v", d.name, err)
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
	d.env.opts.Node(d.name, testbed.NodeSnapshot, "%s: snapshot %q taken", d.name, name)
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
		d.env.opts.Node(d.name, testbed.NodeRestored, "%s: wiped and restored from a snapshot (%d MiB)", d.name, len(snap)>>20)
	} else {
		d.env.opts.Node(d.name, testbed.NodeWiped, "%s: wiped", d.name)
	}
	return d.startLocked(ctx)
}
