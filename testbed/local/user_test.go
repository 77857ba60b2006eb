package local_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/testbed"
	"github.com/mscli/mscli/testbed/local"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// userApp builds the docker testbed's test service (testdata/userapp there: HTTP on
// $PORT, /env, /dial?env=NAME), a program of the user's own for this testbed too.
func userApp(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "userapp")
	cmd := exec.Command("go", "build", "-o", bin, "../docker/testdata/userapp")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build userapp: %v\n%s", err, out)
	}
	return bin
}

// A service of the user's own runs as its command, in its scenario's folder, told its
// port and each dependency's proxy (never the direct address), its database's URL
// through its link, its templates expanded and the env of its bug — and nothing of
// mscli's own environment beyond what finds programs. Its PostgreSQL is a real server
// whose every process a pause freezes and a wipe restores; Down stops all of it.
func TestUserService(t *testing.T) {
	if _, err := testbed.PostgresBin(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	app := userApp(t)
	t.Setenv("PGHOST", "production.example")
	t.Setenv("DATABASE_URL", "postgres://production.example/x")
	// PostgreSQL runs as the postgres user, which must be able to enter the run
	// directory: not a 0700 t.TempDir.
	root, err := os.MkdirTemp("", "mscli-local-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	svc := plan.Service{Name: "app", Command: []string{"./" + filepath.Base(app), "--x={{.Replica}}"}, Dir: filepath.Dir(app),
		Port: 8080, Ready: plan.Probe{HTTP: "/healthz"}, DependsOn: []string{"broker"}, Database: "postgres", Replicas: 2,
		Env:  map[string]string{"APP_BROKER": "{{.Addr \"broker\"}}", "APP_DB": "{{.DatabaseURL}}"},
		Bugs: []plan.Bug{{Name: "lossy", Breaks: "durable", Env: map[string]string{"APP_LOSSY": "1"}}}}
	pl := &plan.Plan{Scenario: "user", Topology: plan.Topology{Broker: "nats", Services: []plan.Service{svc}, Links: []plan.Link{
		{Name: "client->app", From: "client", To: "app"}, {Name: "app->broker", From: "app", To: "broker"},
		{Name: "app->app-db", From: "app", To: "app-db"}}}}
	runID := "u" + strconv.FormatInt(time.Now().UnixNano(), 36)
	e, err := local.Up(context.Background(), pl, testbed.Options{RunID: runID, Dir: filepath.Join(root, runID), Binary: fakeBinary(t),
		Bugs: []string{"lossy"}, StartTimeout: 30 * time.Second, StopGrace: 2 * time.Second,
		Progress: func(ev testbed.Event) { t.Log(ev.Msg) }})
	downed := false
	t.Cleanup(func() {
		if !downed {
			e.Down(context.Background())
		}
	})
	if err != nil {
		t.Fatalf("up: %v", err)
	}

	get := func(url string, v any) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	eps := e.Endpoints("app")
	if len(eps) != 2 {
		t.Fatalf("endpoints %v, want one per replica", eps)
	}
	proxies := map[string]string{}
	for _, l := range []string{"app/0->broker", "app/0->app-db"} {
		ls, err := e.Links(l)
		if err != nil || len(ls) != 1 {
			t.Fatalf("link %s: %v %v", l, ls, err)
		}
		proxies[l] = ls[0].(*testbed.ProxyLink).Listen()
	}
	var env map[string]string
	get(eps[0]+"/env", &env)
	want := map[string]string{
		"MSCLI_SERVICE": "app", "MSCLI_REPLICA": "0",
		"BROKER_ADDR": proxies["app/0->broker"], "APP_BROKER": proxies["app/0->broker"],
		"NATS_URL":  "nats://" + proxies["app/0->broker"],
		"APP_LOSSY": "1", "PGHOST": "",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if !strings.Contains(env["DATABASE_URL"], "@"+proxies["app/0->app-db"]+"/app") || env["APP_DB"] != env["DATABASE_URL"] {
		t.Errorf("DATABASE_URL %q (APP_DB %q): want the database through %s", env["DATABASE_URL"], env["APP_DB"], proxies["app/0->app-db"])
	}
	if env["PORT"] == "" || env["PORT"] == "8080" {
		t.Errorf("PORT = %q: want the free port the testbed picked", env["PORT"])
	}
	var dial struct {
		Connected bool   `json:"connected"`
		Answer    string `json:"answer"`
	}
	get(eps[1]+"/dial?env=DATABASE_URL&pg=1", &dial)
	if !dial.Connected {
		t.Errorf("replica 1 does not reach its database through its link: %+v", dial)
	}

	// The database: a pause freezes every one of its processes (PostgreSQL's leave the
	// postmaster's group), a wipe with a restore brings the snapshot back.
	dsn := e.DatabaseURL("app")
	db := openDB(t, dsn)
	// The password is the run's own: another is refused.
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		t.Fatalf("database URL %q: %v", dsn, err)
	}
	if pw, _ := u.User.Password(); len(pw) < 16 || pw == "app" {
		t.Errorf("database password %q: want a random one", pw)
	}
	u.User = url.UserPassword(u.User.Username(), "wrong")
	if err := openDB(t, u.String()).Ping(); err == nil {
		t.Error("a wrong database password was let in")
	}
	if _, err := db.Exec("CREATE TABLE t (v int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	dbNode := node(t, e, "app-db")
	ctx := context.Background()
	if err := dbNode.(interface {
		Snapshot(context.Context, string) error
	}).Snapshot(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	if err := dbNode.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	pid := pidOf(t, dbNode)
	if kids := local.Descendants(pid); len(kids) == 0 {
		t.Error("the PostgreSQL server has no child processes to freeze")
	} else {
		for _, k := range append(kids, pid) {
			if !local.Stopped(k) {
				t.Errorf("process %d of the paused database is not stopped", k)
			}
		}
	}
	if err := dbNode.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := dbNode.(interface {
		Wipe(context.Context, string) error
	}).Wipe(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dsn)
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Errorf("after the restore: %d rows (%v), want the snapshot's 1", n, err)
	}
	db.Close()
	get(eps[0]+"/env", &env) // the replicas came back after the wipe

	pid = pidOf(t, dbNode)
	all := append([]int{pid}, local.Descendants(pid)...)
	downed = true
	if err := e.Down(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if !local.Gone(p) {
			t.Errorf("process %d still runs after Down", p)
		}
	}
	if _, err := os.Stat(filepath.Join(root, runID, "data", "app-db")); !os.IsNotExist(err) {
		t.Errorf("the database's data directory is left after Down (%v)", err)
	}
}
