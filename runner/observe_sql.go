package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/stdlib" // also the database/sql driver "pgx"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// sqlSource reads a service's effects with the scenario's queries (plan.SQLObserve) on
// the service's own PostgreSQL, connected to directly. The queries of one read run in
// one read-only repeatable-read transaction, so they see one instant: the effects
// summed up agree with the states they made. Each query is bounded by timeout, and
// what a read's rows hold by limits: a row (the PostgreSQL message that carries it),
// the bytes of all rows, their number.
type sqlSource struct {
	dsn     string
	queries []sqlQuery
	timeout time.Duration
	limits  readLimits

	mu    sync.Mutex
	db    *sql.DB // opened on the first read
	where string  // the database, host:port/name, for an error that names it
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
	s := &sqlSource{dsn: dsn, timeout: observeTimeout, limits: defaultLimits}
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
		cfg, err := pgx.ParseConfig(s.dsn)
		if err != nil {
			return nil, err
		}
		// A row longer than a record may be fails as it arrives, before its bytes
		// are read.
		cfg.MaxProtocolMessageBodyLen = s.limits.line
		s.where = fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
		s.db = stdlib.OpenDB(*cfg)
		s.db.SetMaxOpenConns(2)
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
	var size int64 // the bytes of the rows read
	for _, q := range s.queries {
		if converging && !q.converging {
			continue
		}
		if out, err = s.run(ctx, tx, q, out, &size); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// run runs one query and appends a record per row, adding the rows' bytes to size.
func (s *sqlSource) run(ctx context.Context, tx *sql.Tx, q sqlQuery, out []history.Effect, size *int64) ([]history.Effect, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	fail := func(err error) error {
		// The query ends now: closing its rows would otherwise read an endless
		// answer to the timeout.
		cancel()
		var long *pgproto3.ExceededMaxBodyLenErr
		switch {
		case errors.As(err, &long):
			err = fmt.Errorf("the database %s sent a row of %d bytes, longer than %s, the most mscli reads of one record",
				s.where, long.ActualBodyLen, sizeOf(int64(s.limits.line)))
		case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
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
		if len(out) >= s.limits.rows {
			return out, fail(fmt.Errorf("the database %s sent more than %d rows, the most mscli reads of one observation", s.where, s.limits.rows))
		}
		if err := rows.Scan(ptrs...); err != nil {
			return out, fail(err)
		}
		for _, v := range vals {
			*size += valueSize(v)
		}
		if *size > s.limits.bytes {
			return out, fail(fmt.Errorf("the database %s sent more than %s, the most mscli reads of one observation", s.where, sizeOf(s.limits.bytes)))
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

// valueSize is what a column's value costs: its text, or a number's 8 bytes.
func valueSize(v any) int64 {
	switch x := v.(type) {
	case string:
		return int64(len(x))
	case []byte:
		return int64(len(x))
	}
	return 8
}

// sqlText is a text column's value: text (or a type PostgreSQL sends as text: uuid,
// numeric), bytes, or an integer in decimal.
func sqlText(v any) (string, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case int64:
		return strconv.FormatInt(x, 10), nil
	default:
		return "", fmt.Errorf("want text, got %T %v", v, v)
	}
	if strings.IndexByte(s, 0) >= 0 { // bytea can hold one
		return "", fmt.Errorf("a NUL character in %s: a record's fields are text", quoteStart([]byte(s)))
	}
	return s, nil
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
	case string: // numeric: digits, a point, digits (PostgreSQL's text of one)
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return n, nil
		}
		// A whole number with a fraction of zeros ("40.00"). No exponent: a service's
		// text "1e999999999" would make a number of a billion digits.
		whole, frac, _ := strings.Cut(strings.TrimSpace(x), ".")
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || strings.Trim(frac, "0") != "" {
			return 0, fmt.Errorf("%s is not an integer", quoteStart([]byte(x)))
		}
		return n, nil
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
