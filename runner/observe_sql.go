package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// sqlSource reads a service's effects with the scenario's queries (plan.SQLObserve) on
// the service's own PostgreSQL, connected to directly. The queries of one read run in
// one read-only repeatable-read transaction, so they see one instant: the effects
// summed up agree with the states they made. Each query is bounded by timeout.
type sqlSource struct {
	dsn     string
	queries []sqlQuery
	timeout time.Duration

	mu sync.Mutex
	db *sql.DB // opened on the first read
}

// sqlQuery is one of a service's observation queries and the record each row makes.
type sqlQuery struct {
	name string // "effects", "states", "operations": the scenario's key
	text string
	// converging: also run while converging (states and operation states).
	converging bool
	cols       []sqlColumn
	// fixed fills what the query's kind implies (Kind "state"; Kind "operation" and
	// the write view).
	fixed func(e *history.Effect)
}

// sqlColumn is a column a query may return, matched by name (case-insensitive).
type sqlColumn struct {
	name     string
	required bool // the query must return it
	// nullable: a required column whose NULL is a missing field (a state's value).
	// NULL in an optional column is a missing field too; in any other, an error.
	nullable bool
	// set stores a non-NULL value.
	set func(e *history.Effect, v any) error
}

func textColumn(name string, required bool, field func(*history.Effect) *string) sqlColumn {
	return sqlColumn{name: name, required: required, set: func(e *history.Effect, v any) error {
		s, err := sqlText(v)
		*field(e) = s
		return err
	}}
}

func intColumn(name string, required bool, field func(*history.Effect) *int64) sqlColumn {
	return sqlColumn{name: name, required: required, set: func(e *history.Effect, v any) error {
		n, err := sqlInt(v)
		*field(e) = n
		return err
	}}
}

var (
	colView   = textColumn("view", true, func(e *history.Effect) *string { return &e.View })
	colKey    = textColumn("key", true, func(e *history.Effect) *string { return &e.Key })
	colID     = textColumn("id", true, func(e *history.Effect) *string { return &e.ID })
	colSeq    = intColumn("seq", false, func(e *history.Effect) *int64 { return &e.Seq })
	colEffect = []sqlColumn{
		colView,
		{name: "kind", required: true, set: func(e *history.Effect, v any) error {
			s, err := sqlText(v)
			if err == nil && (s == history.KindState || s == history.KindOperation) {
				err = fmt.Errorf("kind %q is not an applied operation's (final values come from the states query, operation states from the operations query)", s)
			}
			e.Kind = s
			return err
		}},
		colKey,
		colID,
		intColumn("amount", true, func(e *history.Effect) *int64 { return &e.Amount }),
		colSeq,
		intColumn("pos", false, func(e *history.Effect) *int64 { return &e.Pos }),
		{name: "at", set: func(e *history.Effect, v any) error {
			if t, ok := v.(time.Time); ok { // a timestamp column is accepted as it is
				e.At = t.UnixNano()
				return nil
			}
			n, err := sqlInt(v)
			e.At = n
			return err
		}},
	}
	colState = []sqlColumn{
		colView,
		colKey,
		{name: "value", required: true, nullable: true, set: func(e *history.Effect, v any) error {
			n, err := sqlInt(v)
			e.Value = &n
			return err
		}},
		colSeq,
	}
	colOperation = []sqlColumn{
		colID,
		textColumn("state", true, func(e *history.Effect) *string { return &e.State }),
	}
)

// newSQLSource reads with the queries q on the database at dsn ("" when the system
// gives the service none: every read says so).
func newSQLSource(dsn string, q plan.SQLObserve) *sqlSource {
	s := &sqlSource{dsn: dsn, timeout: observeTimeout}
	add := func(name, text string, converging bool, cols []sqlColumn, fixed func(*history.Effect)) {
		if strings.TrimSpace(text) != "" {
			s.queries = append(s.queries, sqlQuery{name, text, converging, cols, fixed})
		}
	}
	add("effects", q.Effects, false, colEffect, func(*history.Effect) {})
	add("states", q.States, true, colState, func(e *history.Effect) { e.Kind = history.KindState })
	add("operations", q.Operations, true, colOperation, func(e *history.Effect) {
		e.Kind, e.View = history.KindOperation, history.WriteView
	})
	return s
}

// hostDSN is observe.sql.url as the runner reaches it: the URL names a node and port
// the way the system's services do ("postgres://u:p@db:5432/x"); its host is replaced
// by the address the testbed gives that port on the host. "" when the testbed has
// none (every read then says so).
func hostDSN(sys System, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	port := 5432
	if u.Port() != "" {
		if port, err = strconv.Atoi(u.Port()); err != nil {
			return ""
		}
	}
	addr := sys.HostAddr(u.Hostname(), port)
	if addr == "" {
		return ""
	}
	u.Host = addr
	return u.String()
}

func (s *sqlSource) open() (*sql.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dsn == "" {
		return nil, errors.New("no PostgreSQL database to run the observation queries on (observe: sql needs database: postgres, or a url: naming a node whose port this testbed reaches from the host)")
	}
	if s.db == nil {
		db, err := sql.Open("pgx", s.dsn)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(2)
		s.db = db
	}
	return s.db, nil
}

// reportsStates: only with a states query.
func (s *sqlSource) reportsStates() bool {
	for _, q := range s.queries {
		if q.name == "states" {
			return true
		}
	}
	return false
}

func (s *sqlSource) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

func (s *sqlSource) read(ctx context.Context, converging bool) ([]history.Effect, error) {
	db, err := s.open()
	if err != nil {
		return nil, err
	}
	// The transaction lives as long as its context, which bounds the whole read: a
	// timeout to connect and begin, and one per query (each query has its own, too).
	ctx, cancel := context.WithTimeout(ctx, s.timeout*time.Duration(1+len(s.queries)))
	defer cancel()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	defer tx.Rollback()
	var out []history.Effect
	for _, q := range s.queries {
		if converging && !q.converging {
			continue
		}
		if out, err = s.run(ctx, tx, q, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// run runs one query and appends a record per row.
func (s *sqlSource) run(ctx context.Context, tx *sql.Tx, q sqlQuery, out []history.Effect) ([]history.Effect, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	fail := func(err error) error {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("no answer within %s: %w", s.timeout, err)
		}
		return fmt.Errorf("%s query %s: %w", q.name, abbreviate(q.text), err)
	}
	rows, err := tx.QueryContext(ctx, q.text)
	if err != nil {
		return out, fail(err)
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return out, fail(err)
	}
	setters, err := matchColumns(q.cols, names)
	if err != nil {
		return out, fail(err)
	}
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for n := 1; rows.Next(); n++ {
		if len(out) >= maxEffectRows {
			return out, fail(fmt.Errorf("more than %d rows: mscli reads no more", maxEffectRows))
		}
		if err := rows.Scan(ptrs...); err != nil {
			return out, fail(err)
		}
		var e history.Effect
		q.fixed(&e)
		for i, c := range setters {
			if vals[i] == nil {
				if c.required && !c.nullable {
					return out, fail(fmt.Errorf("row %d: required column %s is NULL", n, c.name))
				}
				continue
			}
			if err := c.set(&e, vals[i]); err != nil {
				return out, fail(fmt.Errorf("row %d: column %s: %w", n, c.name, err))
			}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return out, fail(err)
	}
	return out, nil
}

// matchColumns maps a result's columns, by name and case-insensitively, to the query's
// columns: one the contract does not know, a name twice, or a required one missing
// is an error naming them.
func matchColumns(cols []sqlColumn, names []string) ([]sqlColumn, error) {
	byName := map[string]sqlColumn{}
	for _, c := range cols {
		byName[c.name] = c
	}
	out := make([]sqlColumn, len(names))
	seen := map[string]bool{}
	var unknown, twice, missing []string
	for i, n := range names {
		l := strings.ToLower(n)
		c, ok := byName[l]
		switch {
		case !ok:
			unknown = append(unknown, n)
		case seen[l]:
			twice = append(twice, l)
		}
		seen[l] = true
		out[i] = c
	}
	for _, c := range cols {
		if c.required && !seen[c.name] {
			missing = append(missing, c.name)
		}
	}
	var errs []string
	if len(missing) > 0 {
		errs = append(errs, "missing column(s) "+strings.Join(missing, ", "))
	}
	if len(unknown) > 0 {
		errs = append(errs, "unknown column(s) "+strings.Join(unknown, ", "))
	}
	if len(twice) > 0 {
		errs = append(errs, "column(s) named twice: "+strings.Join(twice, ", "))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s (it returns %s)", strings.Join(errs, "; "), describeColumns(cols))
	}
	return out, nil
}

// describeColumns says what a query returns: "id, state" or "view, key, value and
// optionally seq".
func describeColumns(cols []sqlColumn) string {
	var req, opt []string
	for _, c := range cols {
		if c.required {
			req = append(req, c.name)
		} else {
			opt = append(opt, c.name)
		}
	}
	out := strings.Join(req, ", ")
	if len(opt) > 0 {
		out += " and optionally " + strings.Join(opt, ", ")
	}
	return out
}

// sqlText is a text column's value: text (or a type PostgreSQL sends as text: uuid,
// numeric), bytes, or an integer in decimal.
func sqlText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	}
	return "", fmt.Errorf("want text, got %T %v", v, v)
}

// sqlInt is an integer column's value: any integer type, or a numeric or floating
// point value that is a whole number within int64.
func sqlInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int64(x), nil
	case float32:
		return sqlInt(float64(x))
	case []byte:
		return sqlInt(string(x))
	case string: // numeric
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return n, nil
		}
		r, ok := new(big.Rat).SetString(strings.TrimSpace(x))
		if !ok || !r.IsInt() || !r.Num().IsInt64() {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return r.Num().Int64(), nil
	}
	return 0, fmt.Errorf("want an integer, got %T %v", v, v)
}

// abbreviate quotes a query for an error message on one line, cut at 80 characters.
func abbreviate(text string) string {
	s := strings.Join(strings.Fields(text), " ")
	if r := []rune(s); len(r) > 80 {
		s = string(r[:79]) + "…"
	}
	return strconv.Quote(s)
}
