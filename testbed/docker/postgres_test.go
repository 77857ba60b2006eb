package docker_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"

	"github.com/mscli/mscli/fixtures/images"
	"github.com/mscli/mscli/testbed/docker"
)

// The offline image's first start honours POSTGRES_USER/PASSWORD/DB as the official
// image does, by either path: the template copied (the default settings, a password
// with quotes in it) or a fresh initdb (initdb arguments asked for). A wrong password
// is refused on both.
func TestOfflinePostgresFirstStart(t *testing.T) {
	ctx := context.Background()
	ref := images.OfflinePostgres
	if asked := os.Getenv(docker.PostgresEnv); asked != "" {
		ref = asked
	}
	img, err := docker.InspectImage(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if !img.Present || img.Labels[images.LabelImage] != "postgres" {
		t.Skipf("%s is not an offline PostgreSQL image built here (the runs use the official image)", ref)
	}
	cases := []struct {
		name     string
		env      map[string]string
		user, db string
		template bool   // the first start copies the template
		setting  string // a setting the start must show, "name=value"
	}{
		{"template", map[string]string{"POSTGRES_USER": "shop", "POSTGRES_PASSWORD": `it's "x"`, "POSTGRES_DB": "orders"},
			"shop", "orders", true, "data_checksums=off"},
		{"template, user postgres", map[string]string{"POSTGRES_PASSWORD": "pw"}, "postgres", "postgres", true, "data_checksums=off"},
		{"initdb", map[string]string{"POSTGRES_USER": "shop", "POSTGRES_PASSWORD": "pw", "POSTGRES_DB": "orders",
			"POSTGRES_INITDB_ARGS": "--data-checksums"}, "shop", "orders", false, "data_checksums=on"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctr, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: testcontainers.ContainerRequest{
				Image: ref, Env: c.env, ExposedPorts: []string{"5432/tcp"},
				Labels: map[string]string{docker.LabelRun: "test-postgres-first-start"},
				HostConfigModifier: func(hc *container.HostConfig) {
					hc.PortBindings = network.PortMap{network.MustParsePort("5432/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1")}}}
				},
			}, Started: true})
			testcontainers.CleanupContainer(t, ctr, testcontainers.RemoveVolumes())
			if err != nil {
				t.Fatal(err)
			}
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
			name, want, _ := strings.Cut(c.setting, "=")
			var got string
			if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&got); err != nil || got != want {
				t.Errorf("%s = %q (%v), want %q", name, got, err, want)
			}
			if wrong, err := pgx.Connect(ctx, url("wrong")); err == nil {
				wrong.Close(ctx)
				t.Error("a wrong password was let in")
			}
			out := logs(t, ctr)
			if copied := strings.Contains(out, "copied from the image's template"); copied != c.template {
				t.Errorf("template copied: %v, want %v:\n%s", copied, c.template, out)
			}
		})
	}
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
