package scenarios

import (
	"testing"
)

// httpHead is a valid scenario's beginning of nine lines, up to the http workload's
// common keys; cases append its parameters, which start on line 10.
const httpHead = `name: x
duration: 20s
system:
  services:
    orders: {command: ["./orders"], port: 8080}
invariants: [idempotent, durable]
workload:
  kind: http
  service: orders
`

// httpOps is a valid operations parameter, for cases about the others.
const httpOps = `  operations:
    - {name: order, path: /orders, body: '{"amount":{{.Amount}}}'}
`

// The http workload's operations and status are structured parameters: the plan
// carries them as canonical JSON, the same however the file spells them, and the same
// scenario and seed give a byte-identical plan.
func TestHTTPWorkloadPlans(t *testing.T) {
	s, err := Load("testdata/good-http.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Workload.Kind != "http" || s.Workload.Service != "orders" {
		t.Fatalf("workload %+v: want kind http driving orders", s.Workload)
	}
	a, b := mustPlan(t, s, 7), mustPlan(t, s, 7)
	if string(a) != string(b) {
		t.Fatal("one scenario and seed planned twice differ")
	}
	p, err := s.Plan(7)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"keys":       "10",
		"key-prefix": "c-",
		"amount":     "1-100",
		"operations": `[{"body":"{\"customer\":\"{{.Key}}\",\"amount\":{{.Amount}}}","idempotency-key":"header","method":"POST","name":"order","path":"/orders","weight":9},` +
			`{"name":"read","path":"/customers/{{.Key}}","read":true,"seq":"orders","value":"total","weight":1}]`,
		"status": `{"fail":"400-499","ok":"200-299","unknown":"500-599"}`,
	}
	for k, v := range want {
		if got := p.Workload.Params[k]; got != v {
			t.Errorf("planned %s:\n got %s\nwant %s", k, got, v)
		}
	}
	if len(p.Workload.Params) != len(want) {
		t.Errorf("planned parameters %v: want exactly %v", p.Workload.Params, want)
	}

	// Another spelling of the same values: flow style, other key order, an anchor, a
	// folded block string, numbers as YAML writes them.
	other := `name: orders-http
duration: 20s
system:
  services:
    orders: {command: ["./orders"], port: 8080}
invariants: [idempotent, durable]
x-read: &read {seq: orders, value: total, path: "/customers/{{.Key}}", read: true, name: read, weight: 0x1}
workload:
  status: {unknown: "500-599", ok: "200-299", fail: "400-499"}
  operations:
    - idempotency-key: header
      body: >-
        {"customer":"{{.Key}}","amount":{{.Amount}}}
      path: /orders
      method: POST
      weight: 9
      name: order
    - *read
  amount: 1-100
  key-prefix: c-
  keys: 10
  service: orders
  kind: http
`
	s2, err := Parse("other.yaml", []byte(other))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s2.Plan(7)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if got := p2.Workload.Params[k]; got != v {
			t.Errorf("another spelling plans %s:\n got %s\nwant %s", k, got, v)
		}
	}
}

// Everything the http kind cannot run is refused at the line and column of the item
// at fault.
func TestHTTPWorkloadErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"valid", httpOps, nil},
		{"block style", `  operations:
    - name: order
      path: /orders/{{.ID}}
      method: PUT
      idempotency-key: path
      body: |
        {"customer": "{{.Key}}", "amount": {{.Amount}}}
    - {name: lookup, read: true, path: "/customers/{{.Key}}", value: account.total}
`, nil},
		{"operations missing", "  keys: 3\n", []string{`8:3: workload http needs parameter operations:`}},
		{"operations not a list", "  operations: {name: order}\n", []string{`10:15: expected a list of operations, got a mapping`}},
		{"no operations", "  operations: []\n", []string{`10:15: no operations`}},
		{"unknown operation key", "  operations:\n    - {name: order, path: /orders, methd: PUT}\n",
			[]string{`11:36: unknown key "methd" in an operation; did you mean "method"?`}},
		{"unknown operation key, no suggestion", "  operations:\n    - {name: order, path: /orders, colour: blue}\n",
			[]string{`11:36: unknown key "colour" in an operation (known: name, weight, read, method, path, body, idempotency-key, value, seq)`}},
		{"missing path", "  operations:\n    - name: order\n      method: PUT\n",
			[]string{`11:7: missing required key "path" in operation`}},
		{"bad method", "  operations:\n    - {name: order, path: /orders, method: FETCH}\n",
			[]string{`11:44: invalid method "FETCH" for a write (one of POST, PUT, PATCH, DELETE)`}},
		{"a read that is no GET", httpOps + "    - {name: r, read: true, path: /r, value: v, method: POST}\n",
			[]string{`12:57: invalid method "POST": a read is a GET`}},
		{"weight below 1", "  operations:\n    - name: order\n      path: /orders\n      weight: 0\n",
			[]string{`13:15: weight must be from 1 to 1000000, not 0`}},
		{"weight not a number", "  operations:\n    - {name: order, path: /orders, weight: many}\n",
			[]string{`11:44: weight: expected an integer, got a string`}},
		{"no write operation", "  operations:\n    - {name: r, read: true, path: /r, value: v}\n",
			[]string{`11:5: no write operation`}},
		{"bad status range", httpOps + "  status:\n    fail: 400-4999\n",
			[]string{`13:11: invalid status codes "400-4999": status codes are from 100 to 599`}},
		{"reversed status range", httpOps + "  status: {unknown: [500-599, 599-500]}\n",
			[]string{`12:31: invalid status codes "599-500": 599-500 is empty`}},
		{"ambiguous status", httpOps + "  status: {ok: 200-299, fail: 200-299}\n",
			[]string{`12:31: 200-299 is both fail (200-299) and ok (200-299)`}},
		{"unknown status key", httpOps + "  status: {fial: 400}\n",
			[]string{`12:12: unknown key "fial" in status; did you mean "fail"?`}},
		{"unknown status key, no suggestion", httpOps + "  status: {okay: 200}\n",
			[]string{`12:12: unknown key "okay" in status (known: ok, fail, unknown)`}},
		{"unknown template field", "  operations:\n    - {name: order, path: /orders, body: '{\"c\":\"{{.Customer}}\"}'}\n",
			[]string{`11:42: body: unknown field .Customer in template (it may use {{.Key}}, {{.ID}}, {{.Amount}})`}},
		{"a read's template sees the key only", httpOps + "    - {name: r, read: true, path: '/r/{{.ID}}', value: v}\n",
			[]string{`12:35: path: unknown field .ID in template (it may use {{.Key}})`}},
		{"template syntax", "  operations:\n    - {name: order, path: '/orders/{{.Key'}\n",
			[]string{`11:27: path: invalid template: path:1: unclosed action`}},
		{"path mode without the id", "  operations:\n    - {name: order, path: '/orders/{{.Key}}', idempotency-key: path}\n",
			[]string{`11:27: idempotency-key: path needs the operation id in the path: {{.ID}}`}},
		{"bad idempotency mode", "  operations:\n    - {name: order, path: /orders, idempotency-key: body}\n",
			[]string{`11:53: invalid idempotency-key "body" (one of header, path, none)`}},
		{"a read without value", httpOps + "    - name: r\n      read: true\n      path: /r/{{.Key}}\n",
			[]string{`12:7: missing required key "value" in a read`}},
		{"a read with a body", httpOps + "    - {name: r, read: true, path: /r, value: v, body: x}\n",
			[]string{`12:49: body: does not apply to a read`}},
		{"a write with a value", "  operations:\n    - {name: order, path: /orders, value: total}\n",
			[]string{`11:36: value: applies to a read only`}},
		{"path not a path", "  operations:\n    - {name: order, path: orders}\n",
			[]string{`11:27: path must be a URL path starting with /`}},
		{"operation twice", httpOps + "    - {name: order, path: /other}\n",
			[]string{`12:14: operation "order" is declared twice`}},
		{"a write named read", "  operations:\n    - {name: read, path: /orders}\n",
			[]string{`11:14: a write cannot be named "read"`}},
		{"an operation not a mapping", httpOps + "    - order\n",
			[]string{`12:7: expected an operation (a mapping with name: and path:), got a string`}},
		{"not JSON", "  operations:\n    - {name: order, path: /orders, weight: .inf}\n",
			[]string{`11:44: weight: expected a value JSON can hold`}},
		{"amount and key-prefix", httpOps + "  amount: 9-1\n  key-prefix: 'c:'\n", []string{
			`12:11: invalid amount "9-1": want a whole number or a range lo-hi`,
			`13:15: invalid key-prefix "c:": use letters, digits, '-' and '_'`,
		}},
		{"every problem at once", `  operations:
    - {name: order, path: /orders, weight: 0}
    - {name: r, read: true, path: /r}
  status: {fail: 4xx}
`, []string{
			`11:44: weight must be from 1 to 1000000, not 0`,
			`12:7: missing required key "value" in a read`,
			`13:18: invalid status codes "4xx"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(httpHead+tt.in))
			if tt.want == nil {
				if err != nil || s == nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				if _, err := s.Plan(1); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErrors(t, err, tt.want)
		})
	}
}

// The schema knows the http kind's parameters: the valid example passes, and what the
// loader refuses for reasons a schema can express, the schema refuses too.
func TestHTTPWorkloadSchema(t *testing.T) {
	sch := compileSchema(t)
	for name, in := range map[string]string{
		"unknown operation key": "  operations:\n    - {name: order, path: /orders, methd: PUT}\n",
		"missing path":          "  operations:\n    - {name: order}\n",
		"bad method":            "  operations:\n    - {name: order, path: /orders, method: FETCH}\n",
		"weight below 1":        "  operations:\n    - {name: order, path: /orders, weight: 0}\n",
		"no write":              "  operations:\n    - {name: r, read: true, path: /r, value: v}\n",
		"a read without value":  httpOps + "    - {name: r, read: true, path: /r}\n",
		"a write named read":    "  operations:\n    - {name: read, path: /orders}\n",
		"bad status":            httpOps + "  status: {fail: 4xx}\n",
		"unknown status key":    httpOps + "  status: {okay: 200}\n",
		"bad amount":            httpOps + "  amount: lots\n",
		"operations missing":    "  keys: 3\n",
	} {
		data := []byte(httpHead + in)
		if sch.Validate(yamlInstance(t, data)) == nil {
			t.Errorf("%s: schema accepts it", name)
		}
		if _, err := Parse(name+".yaml", data); err == nil {
			t.Errorf("%s: loader accepts it", name)
		}
	}
	for name, in := range map[string]string{
		"one write":    httpOps,
		"status forms": httpOps + "  status: {ok: 200, fail: [400-499, '503'], unknown: '500-502, 504-599'}\n  amount: 5\n",
	} {
		data := []byte(httpHead + in)
		if err := sch.Validate(yamlInstance(t, data)); err != nil {
			t.Errorf("%s: schema: %v", name, err)
		}
		if _, err := Parse(name+".yaml", data); err != nil {
			t.Errorf("%s: loader: %v", name, err)
		}
	}
}
