package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/moby/moby/client"
)

// ---- readiness ----

// readiness says when a started container is ready: one check, polled until it
// passes. The zero value is ready as soon as the container runs.
type readiness struct {
	// port is the container port the checks below reach, at its hostAddr.
	port string
	http string // a path there that answers 200
	tcp  bool   // or a connection there that the service takes
	// postgres: or a PostgreSQL session there, logged in as this user to this database.
	postgres *pgLogin
}

// pgLogin is who a PostgreSQL readiness check logs in as.
type pgLogin struct{ user, password, database string }

// tcpHold is how long a TCP check waits on a connection it opened: see checkTCP.
const tcpHold = 200 * time.Millisecond

// readyPoll is the pause between two checks.
const readyPoll = 50 * time.Millisecond

// checker returns the node's check, nil when there is nothing to wait for.
func (r readiness) checker(n *node) func(context.Context) error {
	switch {
	case r.postgres != nil:
		return func(ctx context.Context) error {
			addr, err := n.hostAddr(ctx, r.port)
			if err != nil {
				return err
			}
			return checkPostgres(ctx, addr, *r.postgres)
		}
	case r.http != "":
		hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
		return func(ctx context.Context) error {
			base, err := n.hostURL(ctx, r.port)
			if err != nil {
				return err
			}
			return checkHTTP(ctx, hc, base, r.http)
		}
	case r.tcp:
		return func(ctx context.Context) error {
			addr, err := n.hostAddr(ctx, r.port)
			if err != nil {
				return err
			}
			return checkTCP(ctx, addr, r.port)
		}
	}
	return nil
}

// waitReady polls the node's check until it passes, ctx ends or the container exits
// (waiting longer for a container that exited is pointless: its log says why).
func (n *node) waitReady(ctx context.Context) error {
	check := n.ready.checker(n)
	if check == nil {
		return nil
	}
	var last error
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		// A check cut short by the deadline says nothing: keep the one before it.
		if last == nil || ctx.Err() == nil {
			last = err
		}
		if exit := n.exited(ctx); exit != nil {
			return fmt.Errorf("%w (last check: %v)", exit, last)
		}
		select {
		case <-ctx.Done():
			return last
		case <-time.After(readyPoll):
		}
	}
}

// exited says whether the container stopped running by itself while starting.
func (n *node) exited(ctx context.Context) error {
	res, err := n.env.eng.ContainerInspect(ctx, n.c.GetContainerID(), client.ContainerInspectOptions{})
	if err != nil || res.Container.State == nil {
		return nil
	}
	st := res.Container.State
	if st.Running || st.Paused || st.Restarting {
		return nil
	}
	return fmt.Errorf("the container exited with code %d", st.ExitCode)
}

func checkHTTP(ctx context.Context, hc *http.Client, base, path string) error {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

// checkTCP connects to a published port. The engine's port proxy accepts a connection
// on the host whether or not anything listens in the container, and closes it at once
// when nothing does; so a connection is the service's when it is still open after
// tcpHold, or when the service says something first.
func checkTCP(ctx context.Context, addr, port string) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(tcpHold))
	var b [1]byte
	_, err = c.Read(b[:])
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return fmt.Errorf("port %s: nothing listens yet (the connection closed: %v)", port, err)
}

// checkPostgres logs in to a published PostgreSQL port as a service would, and leaves
// at once. It passes only once the server takes sessions over TCP for the user and
// database: the temporary server a first start may run listens on its socket only, and
// the engine's port proxy takes a connection whatever is behind it, so a connection
// alone proves nothing. From the host it costs a few milliseconds, where pg_isready
// run in the container took 100–400 ms an attempt (an exec), more than PostgreSQL
// itself takes to start from the image's template.
func checkPostgres(ctx context.Context, addr string, who pgLogin) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return fmt.Errorf("port %q: %w", port, err)
	}
	cfg, err := pgconn.ParseConfig("sslmode=disable")
	if err != nil {
		return fmt.Errorf("a PostgreSQL setting of mscli's environment (a PG* variable): %w", err)
	}
	// The session is configured here alone: what the host's PG* variables would add (a
	// target session kind, channel binding, required authentication, parameters) says
	// nothing about the run's database.
	cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database = host, uint16(p), who.user, who.password, who.database
	cfg.TLSConfig, cfg.Fallbacks, cfg.ValidateConnect, cfg.AfterConnect = nil, nil, nil, nil
	cfg.SSLNegotiation, cfg.ChannelBinding, cfg.RequireAuth = "", "", ""
	cfg.ConnectTimeout, cfg.RuntimeParams = time.Second, map[string]string{}
	c, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	// The session opened: the server is ready, whatever becomes of the goodbye.
	_ = c.Close(ctx)
	return nil
}
