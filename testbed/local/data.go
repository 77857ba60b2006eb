package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/mscli/mscli/testbed"
)

// Data faults on the local testbed. A service's database is one SQLite file shared by
// its replicas; the broker keeps JetStream in a data directory. A snapshot freezes the
// processes that write the data (SIGSTOP) while it copies it, so the copy is what a
// crash at that instant would leave on disk — consistent, since SQLite and JetStream
// both recover from a crash — and nothing has to be restarted to take it. For SQLite
// that means copying the database together with its WAL (or rollback journal): a
// checkpoint first would need an SQLite connection inside mscli, and the WAL copied
// with the file is just as complete. The -shm index is not copied: SQLite rebuilds it.

var snapshotName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// restoreFrom is the snapshot a wipe of node restores ("" for none): one that was
// taken, or an error that says it was not.
func (e *Env) restoreFrom(node, restore string) (string, error) {
	if restore == "" {
		return "", nil
	}
	src, err := e.snapshotDir(node, restore)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(src); err != nil {
		return "", fmt.Errorf("wipe %s: restore snapshot %q: none was taken (%w)", node, restore, err)
	}
	return src, nil
}

func (e *Env) snapshotDir(node, name string) (string, error) {
	if !snapshotName.MatchString(name) {
		return "", fmt.Errorf("snapshot name %q: want letters, digits, '-' or '_'", name)
	}
	return filepath.Join(e.dir, "data", "snapshots", fileName(node), name), nil
}

// dbNode is a service's SQLite database. It is a node for data faults only: there is
// no database process to kill or pause on this testbed.
type dbNode struct {
	env  *Env
	svc  *service
	name string // "bank-db"
	path string // the database file
}

func (d *dbNode) Name() string { return d.name }

func (d *dbNode) noProcess(op string) error {
	return fmt.Errorf("%s %s: on the local testbed the database is an SQLite file inside the %s processes, with no process of its own; use snapshot/wipe, or the docker testbed", op, d.name, d.svc.name)
}

func (d *dbNode) Kill(context.Context) error   { return d.noProcess("kill") }
func (d *dbNode) Start(context.Context) error  { return d.noProcess("start") }
func (d *dbNode) Stop(context.Context) error   { return d.noProcess("stop") }
func (d *dbNode) Pause(context.Context) error  { return d.noProcess("pause") }
func (d *dbNode) Resume(context.Context) error { return d.noProcess("resume") }

// files are the database and the journals that belong to it.
func (d *dbNode) files() []string {
	return []string{d.path, d.path + "-wal", d.path + "-journal"}
}

// lockReplicas holds every replica's lifecycle lock, so no fault starts or stops one
// while the data is copied or replaced.
func (s *service) lockReplicas() func() {
	for _, p := range s.replicas {
		p.mu.Lock()
	}
	return func() {
		for _, p := range s.replicas {
			p.mu.Unlock()
		}
	}
}

// Snapshot copies the database file and its journal aside, with the replicas frozen.
func (d *dbNode) Snapshot(ctx context.Context, name string) error {
	dst, err := d.env.snapshotDir(d.name, name)
	if err != nil {
		return err
	}
	unlock := d.svc.lockReplicas()
	defer unlock()
	var thaws []func()
	defer func() {
		for _, t := range thaws {
			t()
		}
	}()
	for _, p := range d.svc.replicas {
		t, err := p.freezeLocked()
		if err != nil {
			return err
		}
		thaws = append(thaws, t)
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, f := range d.files() {
		if err := copyFile(f, filepath.Join(dst, filepath.Base(f))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("snapshot %s: %w", d.name, err)
		}
	}
	d.env.opts.Node(d.name, testbed.NodeSnapshot, "%s: snapshot %q taken", d.name, name)
	return nil
}

// Wipe stops the running replicas, deletes the database (restoring a snapshot if
// named) and starts them again. Replicas that were down (killed by a fault) stay down
// for that fault's heal to start.
func (d *dbNode) Wipe(ctx context.Context, restore string) error {
	src, err := d.env.restoreFrom(d.name, restore)
	if err != nil {
		return err
	}
	if err := d.svc.whileStopped(ctx, func() error { return d.replace(src) }); err != nil {
		return fmt.Errorf("wipe %s: %w", d.name, err)
	}
	return nil
}

// whileStopped runs change with the service's running replicas stopped (and their
// lifecycle locked, so no fault starts one meanwhile), then starts them again — also
// after a failure: a wipe must not leave the service down. Replicas that were down
// (killed by a fault) stay down for that fault's heal to start.
func (s *service) whileStopped(ctx context.Context, change func() error) error {
	unlock := s.lockReplicas()
	defer unlock()
	var wasUp []*process
	for _, p := range s.replicas {
		if p.running() {
			wasUp = append(wasUp, p)
		}
	}
	var errs []error
	for _, p := range wasUp {
		if err := p.stopLocked(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		errs = append(errs, change())
	}
	for _, p := range wasUp {
		if err := p.startLocked(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (d *dbNode) replace(src string) error {
	for _, f := range append(d.files(), d.path+"-shm") {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if src == "" {
		d.env.opts.Node(d.name, testbed.NodeWiped, "%s: wiped", d.name)
		return nil
	}
	for _, f := range d.files() {
		err := copyFile(filepath.Join(src, filepath.Base(f)), f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	d.env.opts.Node(d.name, testbed.NodeRestored, "%s: wiped and restored from %q", d.name, filepath.Base(src))
	return nil
}

// brokerNode is the broker process with its JetStream data directory.
type brokerNode struct{ *process }

// Snapshot copies the broker's data directory aside, with the broker frozen.
func (b *brokerNode) Snapshot(ctx context.Context, name string) error {
	dst, err := b.env.snapshotDir(b.name, name)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	thaw, err := b.freezeLocked()
	if err != nil {
		return err
	}
	defer thaw()
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := copyTree(b.env.brokerData, dst); err != nil {
		return fmt.Errorf("snapshot %s: %w", b.name, err)
	}
	b.env.opts.Node(b.name, testbed.NodeSnapshot, "%s: snapshot %q taken", b.name, name)
	return nil
}

// Wipe stops the broker, deletes its data (restoring a snapshot if named) and starts
// it again if it was running.
func (b *brokerNode) Wipe(ctx context.Context, restore string) error {
	src, err := b.env.restoreFrom(b.name, restore)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	wasUp := b.running()
	if err := b.stopLocked(ctx); err != nil {
		return fmt.Errorf("wipe %s: %w", b.name, err)
	}
	var errs []error
	if err := os.RemoveAll(b.env.brokerData); err != nil {
		errs = append(errs, err)
	} else if src != "" {
		errs = append(errs, copyTree(src, b.env.brokerData))
	} else {
		errs = append(errs, os.MkdirAll(b.env.brokerData, 0o755))
	}
	if len(errs) == 0 || errs[0] == nil {
		if src != "" {
			b.env.opts.Node(b.name, testbed.NodeRestored, "%s: wiped and restored from %q", b.name, restore)
		} else {
			b.env.opts.Node(b.name, testbed.NodeWiped, "%s: wiped", b.name)
		}
	}
	if wasUp {
		errs = append(errs, b.startLocked(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("wipe %s: %w", b.name, err)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyTree copies a directory of regular files and directories.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case de.IsDir():
			return os.MkdirAll(target, 0o755)
		case de.Type().IsRegular():
			return copyFile(path, target)
		default:
			return nil // sockets, locks: not data
		}
	})
}
