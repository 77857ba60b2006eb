// Package pgtest starts a real PostgreSQL server for tests: initdb and pg_ctl from
// Debian's postgresql package, in a temporary folder, on a free loopback port, as the
// package's postgres user when the tests run as root (PostgreSQL refuses root). Under
// CI=true a missing PostgreSQL fails the test instead of skipping it; the Makefile
// installs the package.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/mscli/mscli/testbed"
)

// Server is a running PostgreSQL.
type Server struct {
	dir   string
	port  int
	asPG  bool
	bin   string
	admin *sql.DB
	dbs   atomic.Int64
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the package's server, starting it on first use; Stop it from
// TestMain. It skips the test when PostgreSQL is missing, unless CI=true.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = Start() })
	if shared.err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgtest: %v", shared.err)
		}
		t.Skipf("pgtest: %v", shared.err)
	}
	return shared.srv
}

// StopShared stops the shared server if one was started.
func StopShared() {
	if shared.srv != nil {
		shared.srv.Stop()
	}
}

// Start initialises and starts a new server.
func Start() (*Server, error) {
	bin, err := testbed.PostgresBin()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, asPG: os.Geteuid() == 0}
	if s.dir, err = os.MkdirTemp("", "mscli-pgtest-"); err != nil {
		return nil, err
	}
	if s.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(s.dir)
			return nil, fmt.Errorf("running as root needs the postgres user of Debian's package: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(s.dir, uid, gid); err != nil {
			os.RemoveAll(s.dir)
			return nil, err
		}
	}
	data := filepath.Join(s.dir, "data")
	if out, err := s.cmd("initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8").CombinedOutput(); err != nil {
		os.RemoveAll(s.dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		s.port, err = freePort()
		if err != nil {
			return nil, err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", s.port, s.dir)
		out, err := s.cmd("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(s.dir, "log"), "-w", "-t", "60", "start").CombinedOutput()
		if err == nil {
			break
		}
		if attempt == 2 {
			log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
			os.RemoveAll(s.dir)
			return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
		}
	}
	s.admin, err = sql.Open("pgx", s.url("postgres"))
	if err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) cmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, name)
	if s.asPG {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (s *Server) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// NewDB creates an empty database and returns its URL; it is dropped when t ends.
func (s *Server) NewDB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return s.url(name)
}

// Stop stops the server at once and removes its files.
func (s *Server) Stop() {
	if s.admin != nil {
		s.admin.Close()
	}
	_ = s.cmd("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop").Run()
	os.RemoveAll(s.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return strconv.Atoi(strings.TrimSpace(p))
}

// Snapshot copies the database at url (no client may be connected) and returns a
// function that replaces the database with that copy: a restore from an older backup.
// The copy is dropped when t ends.
func (s *Server) Snapshot(t testing.TB, url string) (restore func()) {
	t.Helper()
	name := url[strings.LastIndex(url, "/")+1:]
	name, _, _ = strings.Cut(name, "?")
	backup := name + "_backup"
	exec := func(q string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := s.admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("pgtest: %s: %v", q, err)
		}
	}
	exec("CREATE DATABASE " + backup + " TEMPLATE " + name)
	t.Cleanup(func() { _, _ = s.admin.Exec("DROP DATABASE IF EXISTS " + backup + " WITH (FORCE)") })
	return func() {
		t.Helper()
		exec("DROP DATABASE " + name + " WITH (FORCE)")
		exec("CREATE DATABASE " + name + " TEMPLATE " + backup)
	}
}
