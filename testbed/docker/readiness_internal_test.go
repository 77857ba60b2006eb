package docker

import (
	"context"
	"net"
	"net/url"
	"testing"

	"github.com/mscli/mscli/internal/pgtest"
)

// The PostgreSQL check passes only on a server that takes a session for the user and
// database, whatever the host's PG* variables say: not on a closed port, not on a port
// that takes connections and drops them (the engine's port proxy with nothing behind
// it), not for a database that is not there yet.
func TestCheckPostgres(t *testing.T) {
	srv := pgtest.Shared(t) // the only user in this package
	t.Cleanup(pgtest.StopShared)
	u, err := url.Parse(srv.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	db := u.Path[1:]
	ctx := context.Background()
	// The host's own PostgreSQL settings say nothing about the run's database.
	t.Setenv("PGTARGETSESSIONATTRS", "standby")
	t.Setenv("PGREQUIREAUTH", "gss")
	t.Setenv("PGSSLMODE", "require")
	if err := checkPostgres(ctx, u.Host, pgLogin{user: u.User.Username(), database: db}); err != nil {
		t.Errorf("a server that takes the session: %v", err)
	}
	if err := checkPostgres(ctx, u.Host, pgLogin{user: u.User.Username(), database: db + "_not_yet"}); err == nil {
		t.Error("a database that is not there passed")
	}

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := closed.Addr().String()
	closed.Close()
	if err := checkPostgres(ctx, addr, pgLogin{user: "bank", database: "bank"}); err == nil {
		t.Error("a closed port passed")
	}

	proxy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	go func() {
		for {
			c, err := proxy.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if err := checkPostgres(ctx, proxy.Addr().String(), pgLogin{user: "bank", database: "bank"}); err == nil {
		t.Error("a port that takes connections and drops them passed")
	}
}
