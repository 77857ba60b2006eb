package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/testbed"
)

// pgNode is the PostgreSQL database of a user's service (database: postgres): a real
// server, a child process like every other node — killed, paused and restarted the
// same way — with its data directory under the run's data/. As root it runs as Debian's
// postgres user, since PostgreSQL refuses root. The role and database are the
// service's name, as on the docker testbed, and the password is random per run.
type pgNode struct {
	*process
	svc  *service
	bin  string // PostgreSQL's programs
	data string // the data directory
	addr string // 127.0.0.1:<port>, direct
	// password is the role's, random per run (testbed.Password).
	password string
	uid      int
	gid      int
	// owned: the data belongs to the postgres user, not to this process.
	owned bool
}

// newPostgres initialises a service's database (initdb, then the service's database
// created) and starts it. The state right after is kept as the "empty" snapshot: what
// a wipe without a restore leaves.
func (e *Env) newPostgres(ctx context.Context, svc *service) (*pgNode, error) {
	bin, err := testbed.PostgresBin()
	if err != nil {
		return nil, fmt.Errorf("local testbed: service %s has database: postgres: %w", svc.name, err)
	}
	uid, gid, owned, err := testbed.PostgresUser()
	if err != nil {
		return nil, fmt.Errorf("local testbed: service %s: %w", svc.name, err)
	}
	name := plan.DatabaseNode(svc.name)
	root := filepath.Join(e.dir, "data", fileName(name))
	addr, err := e.ports.Addr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	d := &pgNode{svc: svc, bin: bin, data: filepath.Join(root, "data"), addr: addr, uid: uid, gid: gid, owned: owned,
		password: testbed.Password()}
	var cred *credential
	if owned {
		cred = &credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	if err := d.reachable(root); err != nil {
		return nil, fmt.Errorf("local testbed: service %s has database: postgres: %w", svc.name, err)
	}
	if err := d.chown(root); err != nil {
		return nil, err
	}
	e.opts.Node(name, testbed.NodeStarting, "initialising PostgreSQL for %s", svc.name)
	// Every client connects over TCP (no socket, below), so the password is asked of
	// each; the file that gives it to initdb is gone before the server starts.
	pwfile := filepath.Join(root, "pwfile")
	if err := os.WriteFile(pwfile, []byte(d.password+"\n"), 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(pwfile)
	if err := d.chown(pwfile); err != nil {
		return nil, err
	}
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", d.data, "-U", svc.name, "--pwfile", pwfile,
		"--auth-host=scram-sha-256", "--auth-local=trust", "--no-sync", "-E", "UTF8")
	initdb.Env = hostEnv()
	if cred != nil {
		initdb.SysProcAttr = withUser(nil, cred)
	}
	out, err := initdb.CombinedOutput()
	os.Remove(pwfile)
	if err != nil {
		return nil, fmt.Errorf("local testbed: initdb for %s: %v\n%s", name, err, out)
	}
	d.process = &process{env: e, name: name, log: filepath.Join(e.dir, "logs", logName(name)), user: cred,
		program: filepath.Join(bin, "postgres"),
		// No Unix socket (its path would be too long under a deep run directory):
		// every client, the tools included, connects over TCP. fsync off loses data only
		// when the machine crashes; a killed server keeps every commit it acknowledged,
		// as on the docker testbed.
		args: []string{"-D", d.data, "-p", port, "-c", "unix_socket_directories=", "-c", "listen_addresses=127.0.0.1",
			"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=200"},
		tree: true, stop: sigInt,
		ready: testbed.Readiness{Check: func(ctx context.Context) error {
			isready := exec.CommandContext(ctx, filepath.Join(bin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", port, "-U", svc.name, "-d", "postgres")
			isready.Env = hostEnv()
			out, err := isready.CombinedOutput()
			if err != nil {
				return fmt.Errorf("pg_isready: %v %s", err, out)
			}
			return nil
		}}}
	if err := d.Start(ctx); err != nil {
		return d, err
	}
	createdb := exec.CommandContext(ctx, filepath.Join(bin, "createdb"), "-h", "127.0.0.1", "-p", port, "-U", svc.name, svc.name)
	createdb.Env = append(hostEnv(), "PGPASSWORD="+d.password)
	if out, err := createdb.CombinedOutput(); err != nil {
		return d, fmt.Errorf("local testbed: createdb %s: %v\n%s", svc.name, err, out)
	}
	return d, d.Snapshot(ctx, emptySnapshot)
}

// emptySnapshot is the database as created, before the service ran.
const emptySnapshot = "mscli-empty"

// reachable says whether the postgres user can reach dir: PostgreSQL runs as that user
// (not root), and a private folder above the run directory (a temporary directory's
// 0700) stops it at the door with no better message than "permission denied".
func (d *pgNode) reachable(dir string) error {
	if !d.owned {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			if owner, ok := fileOwner(st); !ok || owner != d.uid {
				return fmt.Errorf("PostgreSQL runs as the postgres user, which cannot enter %s (mode %s): put the run directory under a folder others may enter (--out), or chmod o+x %s", p, st.Mode().Perm(), p)
			}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// URL is the database's URL through addr (a proxy's, or the server's own).
func (d *pgNode) URL(addr string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", d.svc.name, d.password, addr, d.svc.name)
}

func (d *pgNode) chown(path string) error {
	if !d.owned {
		return nil
	}
	return filepath.WalkDir(path, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, d.uid, d.gid)
	})
}

// Snapshot copies the data directory aside with the server frozen: what a crash at that
// instant would leave on disk, which PostgreSQL recovers from.
func (d *pgNode) Snapshot(ctx context.Context, name string) error {
	dst, err := d.env.snapshotDir(d.name, name)
	if err != nil && name != emptySnapshot {
		return err
	}
	if name == emptySnapshot {
		dst = filepath.Join(d.env.dir, "data", "snapshots", fileName(d.name), name)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.running() {
		return fmt.Errorf("snapshot %s: the database is not running", d.name)
	}
	thaw, err := d.freezeLocked()
	if err != nil {
		return err
	}
	defer thaw()
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := copyTree(d.data, dst); err != nil {
		return fmt.Errorf("snapshot %s: %w", d.name, err)
	}
	if name != emptySnapshot {
		d.env.opts.Node(d.name, testbed.NodeSnapshot, "%s: snapshot %q taken", d.name, name)
	}
	return nil
}

// Wipe loses the database: the service's running replicas stop, the server is killed,
// its data directory replaced by the named snapshot (or by the empty database), and
// the server and the replicas start again.
func (d *pgNode) Wipe(ctx context.Context, restore string) error {
	src, err := d.env.restoreFrom(d.name, restore)
	if err != nil {
		return err
	}
	if src == "" {
		src = filepath.Join(d.env.dir, "data", "snapshots", fileName(d.name), emptySnapshot)
	}
	if err := d.svc.whileStopped(ctx, func() error { return d.replace(ctx, src, restore) }); err != nil {
		return fmt.Errorf("wipe %s: %w", d.name, err)
	}
	return nil
}

func (d *pgNode) replace(ctx context.Context, src, restore string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	wasUp := d.running()
	if wasUp {
		if err := d.killLocked(ctx); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(d.data); err != nil {
		return err
	}
	if err := copyTree(src, d.data); err != nil {
		return err
	}
	// The copy's lock file names a server that is gone.
	if err := os.Remove(filepath.Join(d.data, "postmaster.pid")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// PostgreSQL wants its data directory private, and its own.
	if err := os.Chmod(d.data, 0o700); err != nil {
		return err
	}
	if err := d.chown(d.data); err != nil {
		return err
	}
	if restore != "" {
		d.env.opts.Node(d.name, testbed.NodeRestored, "%s: wiped and restored from %q", d.name, restore)
	} else {
		d.env.opts.Node(d.name, testbed.NodeWiped, "%s: wiped", d.name)
	}
	if !wasUp {
		return nil
	}
	return d.startLocked(ctx)
}

// removeData deletes the server's data directory and its snapshots, once it stopped.
func (d *pgNode) removeData() error {
	return errors.Join(os.RemoveAll(filepath.Dir(d.data)),
		os.RemoveAll(filepath.Join(d.env.dir, "data", "snapshots", fileName(d.name))))
}
