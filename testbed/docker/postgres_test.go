package docker_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"

	"github.com/mscli/mscli/fixtures/images"
	"github.com/mscli/mscli/testbed"
	"github.com/mscli/mscli/testbed/docker"
)

// The offline image's first start honours POSTGRES_USER/PASSWORD/DB as the official
// image does, by either path: the template copied (the default settings, a password
// with quotes in it) or a fresh initdb (initdb arguments asked for). A wrong password
// is refused on both.
func TestOfflinePostgresFirstStart(t *testing.T) {
	ctx := context.Background()
	ref := offlinePostgres(t)
	cases := []struct {
		name     string
		env      map[string]string
		user, db string
		template bool   // the first start copies the template
		setting  string // a setting the start must show, "name=value"
		trust    bool   // any password is let in
	}{
		{"template", map[string]string{"POSTGRES_USER": "shop", "POSTGRES_PASSWORD": `it's "x"`, "POSTGRES_DB": "orders"},
			"shop", "orders", true, "data_checksums=off", false},
		{"template, user postgres", map[string]string{"POSTGRES_PASSWORD": "pw"}, "postgres", "postgres", true, "data_checksums=off", false},
		{"initdb", map[string]string{"POSTGRES_USER": "shop", "POSTGRES_PASSWORD": "pw", "POSTGRES_DB": "orders",
			"POSTGRES_INITDB_ARGS": "--data-checksums"}, "shop", "orders", false, "data_checksums=on", false},
		{"template, database postgres", map[string]string{"POSTGRES_USER": "shop", "POSTGRES_PASSWORD": "pw", "POSTGRES_DB": "postgres"},
			"shop", "postgres", true, "data_checksums=off", false},
		{"template, database named as the spare", map[string]string{"POSTGRES_USER": "shop", "POSTGRES_PASSWORD": "pw", "POSTGRES_DB": images.PostgresSpare},
			"shop", images.PostgresSpare, true, "data_checksums=off", false},
		{"initdb, trust", map[string]string{"POSTGRES_USER": "shop", "POSTGRES_HOST_AUTH_METHOD": "trust"},
			"shop", "shop", false, "data_checksums=off", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctr := startPostgres(t, ref, c.env)
			port, err := ctr.MappedPort(ctx, "5432/tcp")
			if err != nil {
				t.Fatal(err)
			}
			url := func(pw string) string {
				return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%s/%s?sslmode=disable", c.user, escape(pw), port.Port(), c.db)
			}
			var conn *pgx.Conn
			deadline := time.Now().Add(60 * time.Second)
			for {
				if conn, err = pgx.Connect(ctx, url(c.env["POSTGRES_PASSWORD"])); err == nil || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("connect as %s to %s: %v\n%s", c.user, c.db, err, logs(t, ctr))
			}
			defer conn.Close(ctx)
			var super bool
			var user, db string
			if err := conn.QueryRow(ctx, `SELECT current_user, current_database(), rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&user, &db, &super); err != nil {
				t.Fatal(err)
			}
			if user != c.user || db != c.db || !super {
				t.Errorf("connected as %s to %s (superuser %v), want %s to %s as a superuser", user, db, super, c.user, c.db)
			}
			// The databases and owners the official image leaves, whichever path made them.
			var dbs, owner string
			if err := conn.QueryRow(ctx, `SELECT string_agg(datname, ',' ORDER BY datname),
				(SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) FROM pg_database`).Scan(&dbs, &owner); err != nil {
				t.Fatal(err)
			}
			wantDBs := []string{"postgres", "template0", "template1"}
			wantOwner := "postgres"
			if c.db != "postgres" {
				wantDBs, wantOwner = append(wantDBs, c.db), c.user
			}
			slices.Sort(wantDBs)
			if dbs != strings.Join(wantDBs, ",") || owner != wantOwner {
				t.Errorf("databases %s, %s owned by %s; want %s, owned by %s", dbs, c.db, owner, strings.Join(wantDBs, ","), wantOwner)
			}
			name, want, _ := strings.Cut(c.setting, "=")
			var got string
			if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&got); err != nil || got != want {
				t.Errorf("%s = %q (%v), want %q", name, got, err, want)
			}
			if wrong, err := pgx.Connect(ctx, url("wrong")); err == nil {
				wrong.Close(ctx)
				if !c.trust {
					t.Error("a wrong password was let in")
				}
			}
			out := logs(t, ctr)
			if copied := strings.Contains(out, "copied from the image's template"); copied != c.template {
				t.Errorf("template copied: %v, want %v:\n%s", copied, c.template, out)
			}
		})
	}
}

// A first start whose setup fails (a user name PostgreSQL reserves) stops with the
// error and without the password in its log, and leaves no cluster behind: a second
// start makes it again, and fails the same way, rather than serve one without its user.
func TestOfflinePostgresFailedSetup(t *testing.T) {
	ctx := context.Background()
	ref := offlinePostgres(t)
	const secret = "s3cret-never-logged"
	ctr := startPostgres(t, ref, map[string]string{"POSTGRES_USER": "pg_reserved", "POSTGRES_PASSWORD": secret})
	exited := func() bool {
		st, err := ctr.State(ctx)
		return err == nil && !st.Running
	}
	for deadline := time.Now().Add(60 * time.Second); !exited(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the container still runs 60s after a setup that must fail:\n%s", logs(t, ctr))
		}
	}
	if st, _ := ctr.State(ctx); st.ExitCode == 0 {
		t.Errorf("exit code 0 after a failed setup")
	}
	out := logs(t, ctr)
	if !strings.Contains(out, "setting up pg_reserved/pg_reserved on the template failed") || strings.Contains(out, secret) {
		t.Errorf("want the failure named and no password in the log:\n%s", out)
	}
	if err := ctr.Start(ctx); err == nil {
		for deadline := time.Now().Add(60 * time.Second); !exited() && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		}
	}
	if out := logs(t, ctr); strings.Count(out, "on the template failed") != 2 || strings.Contains(out, "ready to accept connections") {
		t.Errorf("the second start served what the first left:\n%s", out)
	}
}

// offlinePostgres is the offline image these tests start ($MSCLI_POSTGRES_IMAGE, else
// images.OfflinePostgres); it skips when that is not one built here.
func offlinePostgres(t *testing.T) string {
	t.Helper()
	ref := images.OfflinePostgres
	if asked := os.Getenv(docker.PostgresEnv); asked != "" {
		ref = asked
	}
	img, err := docker.InspectImage(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if !img.Present || img.Labels[images.LabelImage] != "postgres" {
		t.Skipf("%s is not an offline PostgreSQL image built here (the runs use the official image)", ref)
	}
	return ref
}

// startPostgres starts the image with env, its port published on 127.0.0.1, removed
// with its volume when the test ends; labelled as a run of this process, so a clean
// beside it leaves it alone.
func startPostgres(t *testing.T, ref string, env map[string]string) testcontainers.Container {
	t.Helper()
	labels := map[string]string{docker.LabelRun: "test-postgres-" + strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-")}
	if o, err := testbed.Self(); err == nil {
		labels[docker.LabelOwner] = o.String()
	}
	ctr, err := testcontainers.GenericContainer(context.Background(), testcontainers.GenericContainerRequest{ContainerRequest: testcontainers.ContainerRequest{
		Image: ref, Env: env, ExposedPorts: []string{"5432/tcp"}, Labels: labels,
		HostConfigModifier: func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{network.MustParsePort("5432/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1")}}}
		},
	}, Started: true})
	testcontainers.CleanupContainer(t, ctr, testcontainers.RemoveVolumes())
	if err != nil {
		t.Fatal(err)
	}
	return ctr
}

func escape(s string) string {
	return strings.NewReplacer("%", "%25", "'", "%27", `"`, "%22", " ", "%20", "@", "%40", ":", "%3A", "/", "%2F").Replace(s)
}

func logs(t *testing.T, c testcontainers.Container) string {
	r, err := c.Logs(context.Background())
	if err != nil {
		return err.Error()
	}
	defer r.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
