package workload

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

// The http workload: operations the scenario declares (method, path and body templates
// over the key, the operation id and the amount), drawn by weight against any HTTP API,
// recorded exactly as the bank's are, so that the same invariants judge them.
func init() {
	Register(plan.WorkloadKind{
		Name: "http",
		Doc:  "operations declared in the scenario, against the HTTP API of the service named by workload.service",
		Params: map[string]plan.Param{
			"keys":       {Type: plan.ParamInt, Min: 1, Default: "10", Doc: "how many keys: <key-prefix>0 … <key-prefix>N-1"},
			"key-prefix": {Type: plan.ParamName, Default: "key-", Doc: "what every key starts with"},
			"amount":     {Type: plan.ParamRange, Default: "1-100", Doc: "the amount of a write, drawn uniformly from lo-hi (or one number)"},
			"operations": {Type: plan.ParamObject, Schema: httpOperationsSchema(),
				Doc: "the operations: a list of {name, weight, method, path, body, idempotency-key}, or {name, weight, read: true, path, value, seq} for a read"},
			"status": {Type: plan.ParamObject, Optional: true, Schema: httpStatusSchema(),
				Doc: "how response codes classify: ok (default 200-299), fail (400-499, and 503), unknown (500-599)"},
		},
	}, httpKind{})
}

// Keys of an operation, in the order problems are reported.
var (
	httpOpKeys     = []string{"name", "weight", "read", "method", "path", "body", "idempotency-key", "value", "seq"}
	httpStatusKeys = []string{"ok", "fail", "unknown"}
	httpWriteVerbs = []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	httpIdemModes  = []string{idemHeader, idemPath, idemNone}
	// httpFieldRE is a response field: names joined by dots for nested objects.
	httpFieldRE = regexp.MustCompile(`^[^.\s]+(\.[^.\s]+)*$`)
)

// How a write carries its operation id.
const (
	idemHeader = "header" // the Idempotency-Key header
	idemPath   = "path"   // in the path, through {{.ID}}
	idemNone   = "none"   // not at all
)

// IdempotencyHeader is the header a write carries its operation id in (idempotency-key:
// header).
const IdempotencyHeader = "Idempotency-Key"

// httpData is what a write's templates see.
type httpData struct {
	Key    string
	ID     string
	Amount int64
}

// httpReadData is what a read's templates see: a read has no id and no amount.
type httpReadData struct {
	Key string
}

type httpKind struct{}

// httpOp is one declared operation, compiled.
type httpOp struct {
	name   string
	weight int
	read   bool
	method string
	path   *template.Template
	body   *template.Template // nil for none
	idem   string
	amount bool     // the request carries {{.Amount}}
	value  []string // a read's value field, split at dots
	seq    []string // a read's version field, nil for none
}

// httpSpec is an http workload's parameters, compiled.
type httpSpec struct {
	keys   int
	prefix string
	amtLo  int64
	amtHi  int64
	ops    []*httpOp
	total  int     // of the weights
	read   *httpOp // the first read: the final reads' operation
	status statusTable
}

func (httpKind) Check(w plan.Workload) error {
	_, err := compileHTTP(w)
	return err
}

func (httpKind) Bind(w plan.Workload) (Kind, error) {
	s, err := compileHTTP(w)
	if err != nil {
		return nil, err
	}
	return &boundHTTP{s: s}, nil
}

// The methods of the registered kind compile the workload each time (call Check
// first: a workload it refuses panics); the Runner binds it once instead (Bind).
func (httpKind) Openings(plan.Workload) []Planned { return nil }

func (httpKind) Generator(w plan.Workload, proc int) func() Planned {
	return mustHTTP(w).Generator(w, proc)
}

func (httpKind) Keys(w plan.Workload) []string { return mustHTTP(w).Keys(w) }

func (httpKind) Send(context.Context, *http.Client, string, Planned, time.Duration) Attempt {
	return Attempt{Out: NotApplied, Err: "workload http: not bound to a workload"}
}

func (httpKind) Read(context.Context, *http.Client, string, string, time.Duration) (Attempt, history.Observed) {
	return Attempt{Out: NotApplied, Err: "workload http: not bound to a workload"}, history.Observed{}
}

func mustHTTP(w plan.Workload) *boundHTTP {
	s, err := compileHTTP(w)
	if err != nil {
		panic(fmt.Sprintf("workload http: a workload it refuses: %v", err))
	}
	return &boundHTTP{s: s}
}

// boundHTTP is the http kind bound to one workload's operations.
type boundHTTP struct{ s *httpSpec }

func (b *boundHTTP) Openings(plan.Workload) []Planned { return nil }

// Keys are every key when there is a read operation to read them with; none otherwise,
// so the final reads are skipped.
func (b *boundHTTP) Keys(plan.Workload) []string {
	if b.s.read == nil {
		return nil
	}
	keys := make([]string, b.s.keys)
	for i := range keys {
		keys[i] = b.s.key(i)
	}
	return keys
}

func (s *httpSpec) key(i int) string { return s.prefix + strconv.Itoa(i) }

// Generator draws client proc's operations as the bank's does (draws): an operation by
// weight, a key, then for a write an amount, when its request carries one, and its id,
// "<name>-000042".
func (b *boundHTTP) Generator(w plan.Workload, proc int) func() Planned {
	s := b.s
	d := newDraws(w, proc, 0)
	return func() Planned {
		op := s.pick(d.rng.IntN(s.total))
		key := s.key(d.index(s.keys))
		if op.read {
			return Planned{F: FRead, Op: op.name, Key: key}
		}
		p := Planned{F: op.name, Op: op.name, Key: key, NoAmount: !op.amount}
		if op.amount {
			p.Amount = d.amount(s.amtLo, s.amtHi)
		}
		p.ID = numberedID(op.name, d.number())
		return p
	}
}

// pick returns the operation whose share of the weights holds n (0 ≤ n < total).
func (s *httpSpec) pick(n int) *httpOp {
	for _, op := range s.ops {
		if n < op.weight {
			return op
		}
		n -= op.weight
	}
	return s.ops[len(s.ops)-1]
}

func (s *httpSpec) op(name string) *httpOp {
	for _, op := range s.ops {
		if op.name == name {
			return op
		}
	}
	return nil
}

// Send makes one attempt of a write, as the bank's send does: Applied on an ok status,
// NotApplied when the service says so (a fail status; retried when it is a 5xx, 503,
// which says "not now" rather than "not this") or when the connection was refused before
// anything was sent, Unknown (retried) on any other status, a timeout, a reset or EOF.
func (b *boundHTTP) Send(ctx context.Context, c *http.Client, endpoint string, op Planned, timeout time.Duration) Attempt {
	name := cmp.Or(op.Op, op.F)
	o := b.s.op(name)
	if o == nil || o.read {
		return Attempt{Out: NotApplied, Err: fmt.Sprintf("workload http: no write operation %q", name)}
	}
	data := httpData{Key: op.Key, ID: op.ID, Amount: op.Amount}
	path, err := render(o.path, data)
	if err != nil {
		return Attempt{Out: NotApplied, Err: err.Error()}
	}
	var body io.Reader
	if o.body != nil {
		s, err := render(o.body, data)
		if err != nil {
			return Attempt{Out: NotApplied, Err: err.Error()}
		}
		body = strings.NewReader(s)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, o.method, endpoint+path, body)
	if err != nil {
		return Attempt{Out: NotApplied, Err: err.Error()}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if o.idem == idemHeader {
		req.Header.Set(IdempotencyHeader, op.ID)
	}
	code, msg, failed := attempt(c, req, endpoint, timeout)
	if failed != nil {
		return *failed
	}
	switch b.s.status.class(code) {
	case classOK:
		return Attempt{Out: Applied}
	case classFail:
		// A refusal of this operation gets the same answer again; "unavailable" may not.
		return Attempt{Out: NotApplied, Retry: code >= 500, Err: statusErr(endpoint, code, msg)}
	default:
		return Attempt{Out: Unknown, Retry: true, Err: statusErr(endpoint, code, msg)}
	}
}

// Read reads a key with the first read operation: the final reads.
func (b *boundHTTP) Read(ctx context.Context, c *http.Client, endpoint, key string, timeout time.Duration) (Attempt, history.Observed) {
	return b.ReadOp(ctx, c, endpoint, Planned{F: FRead, Key: key}, timeout)
}

// ReadOp reads one key with a read operation (the first when op names none), as the
// bank's get does: an ok status with the value (and version) at the declared fields of
// a JSON body, 404 for a key the service does not hold (a definite answer too: no
// value), NotApplied on a fail status, Unknown otherwise.
func (b *boundHTTP) ReadOp(ctx context.Context, c *http.Client, endpoint string, op Planned, timeout time.Duration) (Attempt, history.Observed) {
	var seen history.Observed
	o := b.s.read
	if op.Op != "" {
		o = b.s.op(op.Op)
	}
	if o == nil || !o.read {
		return Attempt{Out: NotApplied, Err: fmt.Sprintf("workload http: no read operation %q", op.Op)}, seen
	}
	path, err := render(o.path, httpReadData{Key: op.Key})
	if err != nil {
		return Attempt{Out: NotApplied, Err: err.Error()}, seen
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+path, nil)
	if err != nil {
		return Attempt{Out: NotApplied, Err: err.Error()}, seen
	}
	resp, err := c.Do(req)
	if err != nil {
		return Attempt{Out: Unknown, Err: describe(endpoint, err, timeout)}, seen
	}
	defer resp.Body.Close()
	code := resp.StatusCode
	if code == http.StatusNotFound {
		return Attempt{Out: Applied}, seen
	}
	switch b.s.status.class(code) {
	case classOK:
		v, seq, err := readValue(io.LimitReader(resp.Body, 64<<10), o.value, o.seq)
		if err != nil {
			return Attempt{Out: Unknown, Err: fmt.Sprintf("%s: unreadable %s body: %v", hostOf(endpoint), o.name, err)}, seen
		}
		seen.Value, seen.Seq = &v, seq
		return Attempt{Out: Applied}, seen
	case classFail:
		return Attempt{Out: NotApplied, Err: statusErr(endpoint, code, firstLine(resp.Body))}, seen
	default:
		return Attempt{Out: Unknown, Err: statusErr(endpoint, code, firstLine(resp.Body))}, seen
	}
}

// readValue reads the integer at field value and, when seq names one, the integer at
// seq (0 when the body lacks it) from a JSON object.
func readValue(r io.Reader, value, seq []string) (int64, int64, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var body any
	if err := dec.Decode(&body); err != nil {
		return 0, 0, err
	}
	v, ok, err := intAt(body, value)
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		return 0, 0, fmt.Errorf("no %s", strings.Join(value, "."))
	}
	var n int64
	if seq != nil {
		if n, _, err = intAt(body, seq); err != nil {
			return 0, 0, err
		}
	}
	return v, n, nil
}

// intAt finds the integer at a field path; ok is false when the field is absent or null.
func intAt(body any, field []string) (n int64, ok bool, err error) {
	cur := body
	for _, f := range field {
		m, isObj := cur.(map[string]any)
		if !isObj {
			return 0, false, nil
		}
		if cur, isObj = m[f]; !isObj {
			return 0, false, nil
		}
	}
	switch v := cur.(type) {
	case nil:
		return 0, false, nil
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n, true, nil
		}
		if f, err := v.Float64(); err == nil && f == float64(int64(f)) {
			return int64(f), true, nil
		}
	}
	return 0, false, fmt.Errorf("%s is not an integer: %s", strings.Join(field, "."), short(cur))
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

func render(t *template.Template, data any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("workload http: %v", err)
	}
	return b.String(), nil
}
