package runner

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/internal/pgtest"
	"github.com/mscli/mscli/plan"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// ordersDB is the example of docs/effects.md, as the page shows it: a user's service's
// database with an orders table (the write model), a projection of it per customer (a
// read model) and the events the projection applied, and the queries that observe it.
// Numbers come as bigint and numeric (a sum, a money column).
func ordersDB(t *testing.T) (dsn string, db *sql.DB, q plan.SQLObserve) {
	t.Helper()
	tables, q := effectsDoc(t)
	dsn = pgtest.Shared(t).NewDB(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	exec(t, db, tables)
	return dsn, db, q
}

// effectsDoc reads the example of docs/effects.md: its sql block (the tables) and the
// observe: sql: block (the queries).
func effectsDoc(t *testing.T) (tables string, q plan.SQLObserve) {
	t.Helper()
	b, err := os.ReadFile("../docs/effects.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	block := func(start string) string {
		_, rest, ok := strings.Cut(doc, start)
		body, _, ok2 := strings.Cut(rest, "```")
		if !ok || !ok2 {
			t.Fatalf("docs/effects.md has no block starting %q", start)
		}
		return body
	}
	tables = block("```sql\n")
	queries := map[string]*string{"effects": &q.Effects, "states": &q.States, "operations": &q.Operations}
	var cur *string
	body := "    effects: |" + block("```yaml\nobserve:\n  sql:\n    effects: |")
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if k, ok := strings.CutSuffix(strings.TrimSpace(line), ": |"); ok && queries[k] != nil {
			cur = queries[k]
			continue
		}
		if cur == nil || !strings.HasPrefix(line, "      ") {
			t.Fatalf("docs/effects.md: unexpected line in the example's queries: %q", line)
		}
		*cur += line[6:] + "\n"
	}
	if q.Effects == "" || q.States == "" || q.Operations == "" {
		t.Fatalf("docs/effects.md: the example lacks a query: %+v", q)
	}
	return tables, q
}

func exec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	if err := execAll(db, stmts...); err != nil {
		t.Fatal(err)
	}
}

func execAll(db *sql.DB, stmts ...string) error {
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// later runs stmts after d, while the test goes on; wait for it before the test ends.
func later(t *testing.T, db *sql.DB, d time.Duration, stmts ...string) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(d)
		if err := execAll(db, stmts...); err != nil {
			t.Error(err)
		}
	}()
	return func() { <-done }
}

// The queries' rows become the effects records, converging polls the states and
// operations until the projection catches up and every order has settled, and the
// final observation reads all three with the service's clock mapped onto the run's.
func TestObserveSQL(t *testing.T) {
	dsn, db, queries := ordersDB(t)
	start := time.Now()
	at := start.UnixNano() + 2e9 // applied 2 s into the run
	exec(t, db,
		`INSERT INTO orders VALUES ('o-1', 'alice', 25, 1, 'applied', `+itoa(at)+`),
			('o-2', 'alice', 15, 2, 'applied', `+itoa(at+1e6)+`),
			('o-3', 'bob', 7, 1, 'failed', NULL),
			('o-4', 'bob', 30, 1, 'received', NULL)`,
		`INSERT INTO customer_totals VALUES ('alice', 25.00, 1)`,
		`INSERT INTO projected VALUES ('o-1', 'alice', 25, 1, 1, timestamptz 'epoch' + `+itoa(at/1e3)+` * interval '1 microsecond')`)
	sys := observeSystem{dsn: map[string]string{"orders": dsn}}
	src := sourceOf(plan.Service{Name: "orders", Image: "orders:dev", Database: "postgres", Observe: plan.Observe{SQL: &queries}}, sys)
	if s, ok := src.(*sqlSource); !ok || s.dsn != dsn {
		t.Fatalf("source %#v, want SQL on the service's database", src)
	}
	o := newObserver(map[string]source{"orders": src})
	defer o.close()

	// The projection lags one order behind and o-4 is on its way: not converged.
	var buf bytes.Buffer
	rec := history.NewWriter(&buf)
	c, err := o.converge(context.Background(), start, time.Now(), 300*time.Millisecond, 20*time.Millisecond, rec)
	if err != nil || c.Converged || c.Polls < 2 {
		t.Fatalf("converge = %+v, %v; want polls without convergence", c, err)
	}
	_ = rec.Flush()
	snaps, err := history.Read[history.Effect](&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range snaps {
		if e.Kind != history.KindState || e.Service != "orders" || e.Time == 0 {
			t.Fatalf("snapshot %+v: want only states of orders, with a time", e)
		}
	}
	if w := snaps[0]; w.View != history.WriteView || w.Key != "alice" || *w.Value != 40 || w.Seq != 2 {
		t.Errorf("first snapshot %+v, want alice's 40 at seq 2 in the write model (a numeric sum)", w)
	}

	// The projection catches up and o-4 is applied while the observer polls.
	wait := later(t, db, 200*time.Millisecond,
		`UPDATE orders SET status = 'applied', applied_ns = `+itoa(at+2e6)+` WHERE idem_key = 'o-4'`,
		`INSERT INTO customer_totals VALUES ('bob', 30, 1)`,
		`UPDATE customer_totals SET total = 40.00, orders = 2 WHERE customer = 'alice'`,
		`INSERT INTO projected VALUES ('o-2', 'alice', 15.0, 2, 2, now()), ('o-4', 'bob', 30, 1, 1, now())`)
	defer wait()
	heal := time.Now()
	c, err = o.converge(context.Background(), start, heal, 10*time.Second, 20*time.Millisecond, rec)
	if err != nil || !c.Converged || c.Polls < 2 {
		t.Fatalf("converge = %+v, %v; want converged after a few polls", c, err)
	}

	effs, err := o.observeAll(context.Background(), start)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range effs {
		kinds[e.View+" "+e.Kind]++
		if e.Service != "orders" || e.Time != 0 {
			t.Errorf("%+v: want orders' and no time", e)
		}
	}
	want := map[string]int{"write order": 3, "read order": 3, "write state": 2, "read state": 2, "write operation": 4}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s records, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	first := effs[0]
	if first.View != history.WriteView || first.Kind != "order" || first.Key != "alice" || first.ID != "o-1" ||
		first.Amount != 25 || first.Seq != 1 || first.Pos != 0 || first.At != 2e9 {
		t.Errorf("first effect %+v: want o-1 on alice, 25 at seq 1, applied 2s into the run", first)
	}
	for _, e := range effs {
		switch {
		case e.View == history.ReadView && e.Kind == "order" && e.ID == "o-1":
			if e.Pos != 1 || e.Amount != 25 || e.At < 2e9-1e3 || e.At > 2e9+1e3 {
				t.Errorf("projected o-1 %+v: want pos 1, 25, applied at 2s (a timestamp to µs)", e)
			}
		case e.Kind == history.KindOperation && e.ID == "o-3":
			if e.State != history.StateRejected || e.View != history.WriteView {
				t.Errorf("o-3 %+v: want rejected in the write view", e)
			}
		}
	}
	if n, first := unsettled(effs); n != 0 {
		t.Errorf("%d unsettled (%s)", n, first)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A query that fails while converging (its table is not there yet) is tried again,
// as an endpoint that does not answer; one that keeps failing ends the wait with its
// error.
func TestObserveSQLRetriesWhileConverging(t *testing.T) {
	dsn := pgtest.Shared(t).NewDB(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := plan.SQLObserve{States: `SELECT view, key, value FROM balances`}
	o := newObserver(map[string]source{"late": newSQLSource(dsn, q)})
	defer o.close()
	wait := later(t, db, 300*time.Millisecond, `CREATE TABLE balances (view text, key text, value bigint)`,
		`INSERT INTO balances VALUES ('write', 'a', 1), ('read', 'a', 1)`)
	defer wait()
	rec := history.NewWriter(&bytes.Buffer{})
	c, err := o.converge(context.Background(), time.Now(), time.Now(), 10*time.Second, 20*time.Millisecond, rec)
	if err != nil || !c.Converged || c.Polls < 2 {
		t.Fatalf("converge = %+v, %v; want converged once the table exists", c, err)
	}

	o = newObserver(map[string]source{"broken": newSQLSource(dsn, plan.SQLObserve{States: `SELECT view, key, value FROM nowhere`})})
	defer o.close()
	// The window holds a few polls even when opening the first connection is slow (a
	// busy machine took over 200ms): what is judged is the retrying, not its speed.
	c, err = o.converge(context.Background(), time.Now(), time.Now(), 2*time.Second, 20*time.Millisecond, rec)
	if err == nil || c.Converged || c.Polls < 5 || !strings.Contains(err.Error(), `observe broken: states query "SELECT view, key, value FROM nowhere"`) ||
		!strings.Contains(err.Error(), `relation "nowhere" does not exist`) {
		t.Fatalf("converge = %+v, %v; want the query's error after retrying", c, err)
	}

	// While converging only the states and operations queries run: a broken effects
	// query fails the final observation alone.
	o = newObserver(map[string]source{"svc": newSQLSource(dsn, plan.SQLObserve{States: q.States, Effects: `SELEC 1`})})
	defer o.close()
	if c, err := o.converge(context.Background(), time.Now(), time.Now(), 5*time.Second, 20*time.Millisecond, rec); err != nil || !c.Converged {
		t.Fatalf("converge = %+v, %v", c, err)
	}
	if _, err := o.observeAll(context.Background(), time.Now()); err == nil || !strings.Contains(err.Error(), `observe svc: effects query "SELEC 1": `) || !strings.Contains(err.Error(), "syntax error") {
		t.Fatalf("observeAll: %v", err)
	}
}

// What a query must return, and what the observer says when it does not.
func TestObserveSQLColumns(t *testing.T) {
	dsn, db, queries := ordersDB(t)
	exec(t, db, `INSERT INTO orders VALUES ('o-1', 'alice', 25, 1, 'applied', NULL)`)
	read := func(q plan.SQLObserve) ([]history.Effect, error) {
		s := newSQLSource(dsn, q)
		defer s.close()
		return s.read(context.Background(), false)
	}
	for _, c := range []struct {
		name string
		q    plan.SQLObserve
		want string // in the error; "" for none
	}{
		{"missing column", plan.SQLObserve{States: `SELECT 'write' AS view, customer FROM orders`},
			`states query "SELECT 'write' AS view, customer FROM orders": missing column(s) key, value; unknown column(s) customer (it returns view, key, value and optionally seq)`},
		{"missing columns", plan.SQLObserve{Effects: `SELECT 'write' AS view, customer AS key FROM orders`},
			`effects query "SELECT 'write' AS view, customer AS key FROM orders": missing column(s) kind, id, amount (it returns view, kind, key, id, amount and optionally seq, pos, at)`},
		{"unknown column", plan.SQLObserve{Operations: `SELECT idem_key AS id, status AS state, customer FROM orders`},
			`operations query "SELECT idem_key AS id, status AS state, customer FROM orders": unknown column(s) customer (it returns id, state)`},
		{"named twice", plan.SQLObserve{Operations: `SELECT idem_key AS id, idem_key AS ID, status AS state FROM orders`},
			`column(s) named twice: id`},
		{"names in any case", plan.SQLObserve{Operations: `SELECT idem_key AS "ID", status AS "State" FROM orders`}, ""},
		{"bad SQL", plan.SQLObserve{Operations: `SELEC id, state FROM orders`},
			`operations query "SELEC id, state FROM orders": ERROR: syntax error at or near "SELEC"`},
		{"no table", plan.SQLObserve{Operations: `SELECT id, state FROM ops`}, `relation "ops" does not exist`},
		{"NULL required", plan.SQLObserve{Effects: `SELECT 'write' AS view, 'order' AS kind, customer AS key, idem_key AS id, NULL::bigint AS amount FROM orders`},
			`row 1: required column amount is NULL`},
		{"NULL key", plan.SQLObserve{States: `SELECT 'write' AS view, NULL AS key, 1 AS value`}, `row 1: required column key is NULL`},
		{"not an integer", plan.SQLObserve{States: `SELECT 'write' AS view, 'a' AS key, 2.5 AS value`},
			`row 1: column value: "2.5" is not an integer`},
		{"not an integer float", plan.SQLObserve{States: `SELECT 'write' AS view, 'a' AS key, 2.5::float8 AS value`},
			`row 1: column value: 2.5 is not an integer`},
		{"not a number", plan.SQLObserve{States: `SELECT 'write' AS view, 'a' AS key, true AS value`},
			`row 1: column value: want an integer, got bool true`},
		{"not text", plan.SQLObserve{States: `SELECT 'write' AS view, now() AS key, 1 AS value`}, `row 1: column key: want text, got time.Time`},
		{"reserved kind", plan.SQLObserve{Effects: `SELECT 'write' AS view, 'state' AS kind, 'a' AS key, 'o-1' AS id, 1 AS amount`},
			`row 1: column kind: kind "state" is not an applied operation's`},
		{"read only", plan.SQLObserve{Operations: `INSERT INTO orders VALUES ('o-9', 'eve', 1, 1, 'applied', NULL) RETURNING idem_key AS id, status AS state`},
			`read-only transaction`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := read(c.q)
			t.Log(err)
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("err = %v\nwant it to contain %s", err, c.want)
			}
		})
	}

	// NULL is a missing field: a state without a value (the key does not exist in that
	// view), an effect without a position or time. Whole numbers come in any type,
	// and an id may be a number.
	effs, err := read(plan.SQLObserve{
		Effects:    `SELECT 'read' AS view, 'order' AS kind, 'a' AS key, 17 AS id, 3.000 AS amount, 2::float8 AS seq, NULL AS pos, NULL AS at`,
		Operations: `SELECT '9f1c' AS id, 'applied' AS state`,
		States:     `SELECT 'read' AS view, 'a' AS key, NULL::bigint AS value, NULL AS seq UNION ALL SELECT 'write', 'a', 9223372036854775807::numeric, 3::smallint`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(effs) != 4 {
		t.Fatalf("%+v, want 4 records", effs)
	}
	if e := effs[0]; e.ID != "17" || e.Amount != 3 || e.Seq != 2 || e.Pos != 0 || e.At != 0 {
		t.Errorf("effect %+v", e)
	}
	if e := effs[1]; e.Kind != history.KindState || e.Value != nil || e.Seq != 0 {
		t.Errorf("state %+v, want no value", e)
	}
	if e := effs[2]; e.Value == nil || *e.Value != 9223372036854775807 || e.Seq != 3 {
		t.Errorf("state %+v", e)
	}
	if e := effs[3]; e.Kind != history.KindOperation || e.View != history.WriteView || e.ID != "9f1c" || e.State != history.StateApplied {
		t.Errorf("operation %+v", e)
	}
	// A timestamp is accepted for at as it is.
	effs, err = read(plan.SQLObserve{Effects: `SELECT 'write' AS view, 'order' AS kind, 'a' AS key, 'o-1' AS id, 1 AS amount,
		timestamptz 'epoch' + interval '2 seconds' AS at`})
	if err != nil || len(effs) != 1 || effs[0].At != 2e9 {
		t.Errorf("%+v, %v: want at 2s after the epoch", effs, err)
	}

	// A query that takes too long is cut short; a service with no database says so.
	s := newSQLSource(dsn, plan.SQLObserve{States: `SELECT 'write' AS view, 'a' AS key, 1 AS value FROM pg_sleep(3)`})
	s.timeout = 200 * time.Millisecond
	defer s.close()
	t0 := time.Now()
	if _, err := s.read(context.Background(), true); err == nil || !strings.Contains(err.Error(), "no answer within 200ms") {
		t.Errorf("err = %v, want a timeout", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("the slow query took %s", d)
	}
	s = newSQLSource("", queries)
	if _, err := s.read(context.Background(), true); err == nil || !strings.Contains(err.Error(), "no PostgreSQL database") {
		t.Errorf("err = %v", err)
	}
}

// A service observed without a states query has no models to compare: the wait ends
// once its operations settle, not at the deadline.
func TestObserveSQLWithoutStatesConvergesOnOperations(t *testing.T) {
	dsn := pgtest.Shared(t).NewDB(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE ops (id text, state text); INSERT INTO ops VALUES ('o-1', 'received')`); err != nil {
		t.Fatal(err)
	}
	o := newObserver(map[string]source{"svc": newSQLSource(dsn, plan.SQLObserve{
		Effects: `SELECT 'write' AS view, 'order' AS kind, 'k' AS key, id, 1 AS amount FROM ops`, Operations: `SELECT id, state FROM ops`})})
	defer o.close()
	wait := later(t, db, 300*time.Millisecond, `UPDATE ops SET state = 'applied'`)
	defer wait()
	rec := history.NewWriter(&bytes.Buffer{})
	c, err := o.converge(context.Background(), time.Now(), time.Now(), 10*time.Second, 20*time.Millisecond, rec)
	if err != nil || !c.Converged || c.Polls < 2 {
		t.Fatalf("converge = %+v, %v; want converged once the operation settled", c, err)
	}
}
