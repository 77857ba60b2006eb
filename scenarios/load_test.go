package scenarios

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/mscli/mscli/plan"
)

// head is a valid scenario of six lines; cases append to it, so what they add starts
// on line 7.
const head = `name: x
duration: 20s
system:
  services:
    bank: {fixture: bank, replicas: 2, database: postgres}
invariants: [durable]
`

// TestParseErrors checks every kind of problem the loader reports, with its exact
// position. want holds "line:col: part of the message", one per problem, in file order:
// a case fails on a missing, extra or misplaced error.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		// The file as a whole.
		{"empty", "", []string{"1:1: empty scenario"}},
		{"only a comment", "# nothing\n", []string{"1:1: empty scenario"}},
		{"a string", "hello\n", []string{`1:1: expected a mapping (name:, duration:, system:, invariants: …), got string "hello"`}},
		{"a list", "- a\n- b\n", []string{"1:1: expected a mapping (name:, duration:, system:, invariants: …), got a list"}},
		{"syntax error", "name: x\nsystem: {services: [a\n", []string{"2:20: YAML syntax: sequence end token ']' not found"}},
		{"duplicate key", "name: x\nname: y\n", []string{`2:1: YAML syntax: mapping key "name" already defined`}},
		{"second document", head + "---\nname: y\n", []string{"8:1: a scenario file holds one YAML document"}},
		{"missing keys", "name: x\n", []string{
			`1:1: missing required key "duration" in the scenario`,
			`1:1: missing required key "system" in the scenario`,
			`1:1: missing required key "invariants" in the scenario`,
		}},
		{"unknown alias", head + "summary: *nope\n", []string{"7:10: unknown alias *nope"}},

		// Unknown keys, at every level, with a suggestion when one is close.
		{"misspelt root key", "nmae: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable]\n",
			[]string{`1:1: unknown key "nmae" in the scenario; did you mean "name"?`}},
		{"unknown root key", head + "colour: blue\n", []string{`7:1: unknown key "colour" in the scenario (known: name, summary`}},
		{"x- keys are ignored", head + "x-anything: {a: 1}\n", nil},
		{"misspelt system key", "name: x\nduration: 20s\nsystem: {brokr: nats, services: {bank: {fixture: bank}}}\ninvariants: [durable]\n",
			[]string{`3:10: unknown key "brokr" in system; did you mean "broker"?`}},
		{"misspelt service key", "name: x\nduration: 20s\nsystem:\n  services:\n    bank: {fixture: bank, replica: 2}\ninvariants: [durable]\n",
			[]string{`5:27: unknown key "replica" in service bank; did you mean "replicas"?`}},
		{"misspelt workload key", head + "workload: {client: 3}\n", []string{`7:12: unknown key "client" in workload; did you mean "clients"?`}},
		{"misspelt retry key", head + "workload: {retry: {atempts: 3}}\n", []string{`7:20: unknown key "atempts" in retry; did you mean "attempts"?`}},
		{"misspelt nemesis key", head + "nemesis: {faults: [pause], cont: 2}\n", []string{`7:28: unknown key "cont" in nemesis; did you mean "count"?`}},
		{"misspelt fault key", head + "faults:\n  - {at: 1s, fro: 2s, fault: pause, node: bank/0}\n",
			[]string{`8:14: fault pause has no parameter "fro"; did you mean "for"?`}},
		{"misspelt invariant param", "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [{converges: {withn: 5s}}]\n",
			[]string{`4:27: invariant converges has no parameter "withn"; did you mean "within"?`}},

		// Wrong types.
		{"duration: fast", "name: x\nduration: fast\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable]\n",
			[]string{`2:11: invalid duration "fast"`}},
		{"duration without unit", "name: x\nduration: 20\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable]\n",
			[]string{`2:11: invalid duration "20": give a unit, e.g. 20s or 20ms`}},
		{"negative duration", "name: x\nduration: -5s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable]\n",
			[]string{`2:11: invalid duration "-5s": must not be negative`}},
		{"name not a string", "name: 42\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable]\n",
			[]string{`1:7: name: expected a string, got integer 42`}},
		{"replicas not an integer", "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank, replicas: two}}}\ninvariants: [durable]\n",
			[]string{`3:53: replicas: expected an integer, got string "two"`}},
		{"a service not a mapping", "name: x\nduration: 20s\nsystem:\n  services:\n    bank: {fixture: bank}\n    shop: fast\ninvariants: [durable]\nfaults:\n  - {at: 1s, fault: kill, node: shop/0}\n",
			[]string{`6:11: shop: expected a mapping (fixture:, or image: and/or command:, …), got string "fast"`}},
		{"services a list", "name: x\nduration: 20s\nsystem: {services: [bank]}\ninvariants: [durable]\n",
			[]string{`3:20: services: expected a mapping of service names to services, got a list`}},
		{"missing value", "name:\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable]\n",
			[]string{`1:6: name: missing value: expected a string`}},
		{"workload types", head + "workload: {clients: many, mix: half, timeout: soon, retry: 3}\n", []string{
			`7:21: clients: expected an integer, got string "many"`,
			`7:32: mix: expected a number, got string "half"`,
			`7:47: invalid duration "soon"`,
			`7:60: retry: expected a mapping (attempts:, backoff:, max:), got integer 3`,
		}},
		{"faults a mapping", head + "faults: {at: 1s}\n", []string{`7:9: faults: expected a list, got a mapping`}},
		{"fault not a mapping", head + "faults: [5]\n", []string{`7:10: faults[0]: expected a fault (a mapping with at:, fault: and a target), got integer 5`}},
		{"int param not a number", head + "faults:\n  - {at: 1s, for: 1s, fault: bandwidth, link: client->bank, rate: fast}\n",
			[]string{`8:67: rate: expected an integer, got string "fast"`}},
		{"ratio param out of range", head + "faults:\n  - {at: 1s, fault: duplicate, stream: bank.events, ratio: 2}\n",
			[]string{`8:60: invalid ratio "2": want a number from 0 to 1`}},
		{"enum param", head + "faults:\n  - {at: 1s, for: 1s, fault: partition, link: client->bank, direction: upstreem}\n",
			[]string{`8:72: invalid direction "upstreem"; did you mean "upstream"? (one of both, upstream, downstream)`}},
		{"invariants a string", "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: durable\n",
			[]string{`4:13: invariants: expected a list, got string "durable"`}},

		// Faults: kinds, targets, parameters, timing.
		{"unknown fault kind", head + "faults:\n  - {at: 1s, for: 1s, fault: partitoin, link: bank->broker}\n",
			[]string{`8:30: unknown fault "partitoin"; did you mean "partition"?`}},
		{"missing fault and at", head + "faults:\n  - {node: bank/0}\n", []string{
			`8:5: missing required key "fault" in fault`,
			`8:5: missing required key "at" in fault`,
		}},
		{"unknown link", head + "faults:\n  - {at: 1s, for: 1s, fault: partition, link: client->bnak}\n",
			[]string{`8:47: unknown link "client->bnak"; did you mean "client->bank"?`}},
		{"unknown link, no suggestion", head + "faults:\n  - {at: 1s, for: 1s, fault: partition, link: shop->broker}\n",
			[]string{`8:47: unknown link "shop->broker" (links: client->bank, bank->broker, bank->bank-db, client->bank/0`}},
		{"unknown node", head + "faults:\n  - {at: 1s, fault: kill, node: bank/2}\n",
			[]string{`8:33: unknown node "bank/2"; did you mean "bank/0"?`}},
		{"client is not a node", head + "faults:\n  - {at: 1s, fault: kill, node: client}\n",
			[]string{`8:33: unknown node "client"`}},
		{"unknown stream", head + "faults:\n  - {at: 1s, fault: duplicate, stream: bank.commandz}\n",
			[]string{`8:40: unknown stream "bank.commandz"; did you mean "bank.commands"?`}},
		{"no database link without postgres", "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank, database: sqlite}}}\ninvariants: [durable]\nfaults:\n  - {at: 1s, for: 1s, fault: partition, link: bank->bank-db}\n",
			[]string{`6:47: unknown link "bank->bank-db"`}},
		{"wrong target key", head + "faults:\n  - {at: 1s, fault: kill, link: bank->broker}\n",
			[]string{`8:27: fault kill acts on a node: write node: instead of link:`}},
		{"two targets", head + "faults:\n  - {at: 1s, for: 1s, fault: pause, node: bank/0, link: client->bank}\n",
			[]string{`8:51: a fault has one target: node: and link: are both given`}},
		{"no target", head + "faults:\n  - {at: 1s, for: 1s, fault: pause}\n",
			[]string{`8:5: fault pause needs a target: node: <node name>`}},
		{"param of another kind", head + "faults:\n  - {at: 1s, for: 1s, fault: partition, link: client->bank, ratio: 0.5}\n",
			[]string{`8:61: fault partition has no parameter "ratio" (its parameters: direction)`}},
		{"param on a kind without any", head + "faults:\n  - {at: 1s, for: 1s, fault: pause, node: bank/0, ratio: 0.5}\n",
			[]string{`8:51: fault pause has no parameter "ratio" (it takes none)`}},
		{"missing required param", head + "faults:\n  - {at: 1s, for: 1s, fault: latency, link: client->bank}\n",
			[]string{`8:5: fault latency needs parameter latency: (added delay)`}},
		{"past the end", head + "faults:\n  - {at: 15s, for: 10s, fault: partition, link: bank->broker}\n",
			[]string{`8:20: fault ends at 25s, after the scenario's duration 20s`}},
		{"ends exactly at the end", head + "faults:\n  - {at: 15s, for: 5s, fault: partition, link: bank->broker}\n", nil},
		{"instant at the end", head + "faults:\n  - {at: 20s, fault: restart, node: bank/1}\n",
			[]string{`8:10: fault at 20s is not before the end of the scenario (duration 20s)`}},
		{"window without for", head + "faults:\n  - {at: 1s, fault: partition, link: bank->broker}\n",
			[]string{`8:5: fault partition lasts a while: give for:`}},
		{"for on an instant", head + "faults:\n  - {at: 1s, for: 2s, fault: restart, node: bank/1}\n",
			[]string{`8:14: fault restart is instantaneous: for: does not apply`}},
		{"restart after the end", head + "faults:\n  - {at: 10s, fault: kill, node: bank/0, restart-after: 15s}\n",
			[]string{`8:57: node restarts at 25s, after the scenario's duration 20s`}},
		{"restore without snapshot", head + "faults:\n  - {at: 1s, fault: snapshot, node: bank-db, name: a}\n  - {at: 2s, fault: wipe, node: bank-db, restore: b}\n",
			[]string{`9:51: no snapshot "b" of bank-db is taken before 2s`}},
		{"no check against a broken duration", "name: x\nduration: soon\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable]\nfaults:\n  - {at: 50s, for: 10s, fault: partition, link: bank->broker}\n",
			[]string{`2:11: invalid duration "soon"`}},

		// Nemesis.
		{"nemesis errors", head + "nemesis: {faults: [latency, duplicat, {wipe: {restore: x}}], count: 0, min: 5s, max: 2s, between: [2s, 30s]}\n", []string{
			`7:29: unknown fault "duplicat"; did you mean "duplicate"?`,
			`7:47: the nemesis cannot restore`,
			`7:69: count must be from 1 to 1000`,
			`7:86: max (2s) must not be less than min (5s)`,
			`7:99: between ends at 30s, after the scenario's duration 20s`,
		}},
		{"nemesis may run past the end", head + "nemesis: {faults: [pause], between: [10s, 15s], max: 12s}\n",
			[]string{`7:54: a nemesis fault starting at 10s may last until 22s, after the scenario's duration 20s`}},
		{"nemesis without faults", head + "nemesis: {count: 2}\n", []string{`7:10: missing required key "faults" in nemesis`}},
		{"nemesis between shape", head + "nemesis: {faults: [pause], between: [1s]}\n", []string{`7:37: between is [start, end]: two durations, not 1`}},
		{"nemesis without streams", "name: x\nduration: 20s\nsystem: {services: {shop: {image: acme/shop, port: 80}}}\nworkload: {kind: http, operations: [{name: buy, path: /buy}]}\ninvariants: [durable]\nnemesis: {faults: [duplicate]}\n",
			[]string{`6:20: the nemesis cannot draw duplicate: the system has no stream to act on (only fixture services have streams)`}},
		{"the bank's workload without the bank", "name: x\nduration: 20s\nsystem: {services: {shop: {image: acme/shop, port: 80}}}\ninvariants: [durable]\n",
			[]string{`1:1: the "bank" workload drives the bank fixture, which this system does not run: for your own services give workload: {kind: http, …}`}},
		{"nemesis bad param", head + "nemesis: {faults: [{latency: {latency: fast}}]}\n", []string{`7:40: invalid duration "fast"`}},

		// System.
		{"unknown fixture", "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bnak}}}\ninvariants: [durable]\n",
			[]string{`3:37: unknown fixture "bnak"; did you mean "bank"? (known: bank, catalog, gateway, saga-inventory, saga-orders, saga-payments, telemetry)`}},
		{"fixture and image", "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank, image: acme/bank}}}\ninvariants: [durable]\n",
			[]string{`3:43: service bank has both fixture: and image:; give one`}},
		{"neither fixture nor image", "name: x\nduration: 20s\nsystem: {services: {bank: {replicas: 2}}}\ninvariants: [durable]\n",
			[]string{`3:21: service bank needs fixture: (a built-in service: bank, catalog, gateway, saga-inventory, saga-orders, saga-payments, telemetry), or image: (docker testbed) and/or command: (local testbed) for your own`}},
		{"observe on a fixture", "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank, observe: /e}}}\ninvariants: [durable]\n",
			[]string{`3:43: observe: is for a service of your own; fixture bank declares it itself`}},
		{"service names", "name: x\nduration: 20s\nsystem:\n  services:\n    client: {fixture: bank}\n    bank-db: {fixture: bank}\n    Bank: {fixture: bank}\ninvariants: [durable]\n", []string{
			`5:5: "client" names the workload's clients or the broker`,
			`6:5: invalid service name "bank-db": names ending in -db are kept for databases`,
			`7:5: invalid service name "Bank"`,
		}},
		{"unknown broker and database", "name: x\nduration: 20s\nsystem: {broker: kafka, services: {bank: {fixture: bank, database: mysql}}}\ninvariants: [durable]\n", []string{
			`3:18: unknown broker "kafka" (known: nats)`,
			`3:68: unknown database "mysql" (known: postgres, sqlite)`,
		}},
		{"replicas zero", "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank, replicas: 0}}}\ninvariants: [durable]\n",
			[]string{`3:53: replicas must be at least 1`}},
		{"no services", "name: x\nduration: 20s\nsystem: {services: {}}\ninvariants: [durable]\n",
			[]string{`3:20: no services: a scenario needs at least one`}},
		{"workload ranges", head + "workload: {kind: shop, clients: 0, timeout: 0s, retry: {attempts: 0, backoff: 2s, max: 1s}}\n", []string{
			`7:18: unknown workload kind "shop" (known: bank, gateway, http, saga, telemetry)`,
			`7:33: clients must be at least 1`,
			`7:45: timeout must be more than 0s`,
			`7:67: retry.attempts must be at least 1`,
			`7:88: max (1s) must not be less than backoff (2s)`,
		}},
		// The kind's own parameters, as it declares them.
		{"workload parameters", head + "workload: {kind: bank, accounts: 0, opening: -5, mix: 1.5, acounts: 3}\n", []string{
			`7:34: invalid accounts "0": want a whole number, 1 or more`,
			`7:46: invalid opening "-5": want a whole number, 0 or more`,
			`7:55: invalid mix "1.5": want a number from 0 to 1`,
			`7:60: unknown key "acounts" in workload; did you mean "accounts"?`,
		}},

		// Invariants and catches.
		{"unknown invariant", "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable, idempotnt]\n",
			[]string{`4:23: unknown invariant "idempotnt"; did you mean "idempotent"?`}},
		{"invariant twice", "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [durable, durable]\n",
			[]string{`4:23: invariant durable is listed twice`}},
		{"invariant param value", "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: [{converges: {within: later}}]\n",
			[]string{`4:35: invalid duration "later"`}},
		{"no invariants", "name: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank}}}\ninvariants: []\n",
			[]string{`4:13: no invariants: a scenario must check at least one`}},
		{"catches an unlisted invariant", head + "catches: {double-apply: idempotent}\n",
			[]string{`7:25: double-apply is caught by invariant idempotent, which the scenario does not check`}},
		{"catches an unknown invariant", head + "catches:\n  ack-before-commit: durabel\n",
			[]string{`8:22: unknown invariant "durabel"; did you mean "durable"?`}},
		{"catches a bad bug name", head + "catches: {Lost_Ack: durable}\n", []string{`7:11: invalid bug name "Lost_Ack"`}},
		{"catches a bug no fixture knows", head + "catches: {double-aply: durable}\n",
			[]string{`7:11: no service of this system knows the bug "double-aply"; did you mean "double-apply"?`}},

		// Every problem of one file at once.
		{"all at once", "nmae: x\nduration: 20s\nsystem: {services: {bank: {fixture: bank, replicas: two}}}\ninvariants: [durable, idempotnt]\nworkload: {clients: 0}\nfaults:\n  - {at: 1s, for: 1s, fault: partition, link: client->bnak}\n  - {at: 19s, for: 5s, fault: pause, node: broker}\n", []string{
			`1:1: unknown key "nmae" in the scenario; did you mean "name"?`,
			`3:53: replicas: expected an integer, got string "two"`,
			`4:23: unknown invariant "idempotnt"`,
			`5:21: clients must be at least 1`,
			// No unknown link: the services did not decode, so targets are not checked.
			`8:20: fault ends at 24s, after the scenario's duration 20s`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(tt.in))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				if s == nil {
					t.Fatal("nil scenario without error")
				}
				return
			}
			if s != nil {
				t.Errorf("got a scenario along with errors")
			}
			wantErrors(t, err, tt.want)
		})
	}
}

// bad.yaml is what the command line's tests load; its header documents what it holds.
func TestBadFile(t *testing.T) {
	_, err := Load("testdata/bad.yaml")
	want := []string{
		`testdata/bad.yaml:10:1: unknown key "summry" in the scenario; did you mean "summary"?`,
		`testdata/bad.yaml:15:21: clients: expected an integer, got string "eight"`,
		`testdata/bad.yaml:18:45: unknown link "client->bnak"; did you mean "client->bank"?`,
		`testdata/bad.yaml:19:20: fault ends at 25s, after the scenario's duration 20s`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("got\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 4 || list[0].File != "testdata/bad.yaml" || list[0].Line != 10 || list[0].Col != 1 {
		t.Fatalf("ErrorList fields: %#v", list)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
}

func TestDefaults(t *testing.T) {
	s, err := Load("testdata/good-minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Workload, DefaultWorkload()) {
		t.Errorf("workload %+v, want the defaults %+v", s.Workload, DefaultWorkload())
	}
	want := DefaultWorkload()
	if want.Kind != "bank" || want.Clients != 4 || want.Rate != 100 || want.Params != nil ||
		want.Timeout.String() != "500ms" || want.Retry.Attempts != 5 || want.Retry.Backoff.String() != "20ms" || want.Retry.Max.String() != "1s" {
		t.Errorf("DefaultWorkload() = %+v, not the documented defaults", want)
	}
	// The kind's parameters take their declared defaults in the plan.
	p, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Workload.Params, map[string]string{"accounts": "10", "opening": "1000", "mix": "0.7"}) {
		t.Errorf("planned workload parameters %v, want the bank's defaults", p.Workload.Params)
	}
	if s.System.Broker != "nats" || len(s.System.Services) != 1 || s.System.Services[0].Replicas != 1 {
		t.Errorf("system %+v: want broker nats, one service with one replica", s.System)
	}
	if s.Nemesis != nil || len(s.Faults) != 0 {
		t.Errorf("faults %v, nemesis %v: want none", s.Faults, s.Nemesis)
	}

	// A workload given in part keeps the defaults of the rest.
	s, err = Parse("t.yaml", []byte(head+"workload: {clients: 9, retry: {max: 2s}}\nnemesis: {faults: [pause]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want.Clients, want.Retry.Max = 9, plan.Duration(2e9)
	if !reflect.DeepEqual(s.Workload, want) {
		t.Errorf("workload %+v, want %+v", s.Workload, want)
	}
	if n := s.Nemesis; n.Count != 3 || n.Min.String() != "1s" || n.Max.String() != "3s" || n.Between != [2]plan.Duration{} {
		t.Errorf("nemesis %+v: want the defaults", n)
	}

	s, err = Load("testdata/good-image.yaml")
	if err != nil {
		t.Fatal(err)
	}
	shop := s.System.Services[1]
	if shop.Name != "shop" || shop.Observe.HTTP != "/effects" || shop.Replicas != 3 || shop.Database != "postgres" {
		t.Errorf("shop %+v: want observe /effects, 3 replicas on postgres", shop)
	}
	p, err = s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	// Parameters the file leaves out come with their kind's defaults; a merge key's too.
	var f plan.Fault
	for _, pf := range p.Faults {
		if pf.Source == "scenario" && pf.Kind == "latency" {
			f = pf
		}
	}
	if f.Target != "shop/1->shop-db" || fmt.Sprint(f.Params) != "map[direction:both jitter:50ms latency:400ms]" {
		t.Errorf("first fault %+v: want the merged latency with direction=both", f)
	}
	for _, inv := range p.Invariants {
		if inv.Name == "converges" && inv.Params["within"] != "10s" {
			t.Errorf("converges params %v: want within=10s", inv.Params)
		}
	}
}

func TestTopology(t *testing.T) {
	s, err := Load("testdata/good-image.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var links []string
	for _, l := range s.Topology().Links {
		links = append(links, l.Name)
		if l.Name != l.From+"->"+l.To {
			t.Errorf("link %+v: name is not from->to", l)
		}
	}
	if got, want := strings.Join(links, " "), "client->bank bank->broker client->shop shop->broker shop->shop-db"; got != want {
		t.Errorf("links %s, want %s", got, want)
	}
	tg := s.targets()
	for k, names := range map[plan.TargetKind][]string{
		plan.TargetLink: {"client->shop/2", "shop/0->broker", "shop/1->shop-db", "bank/1->broker", "client->bank/0"},
		// bank-db is the fixture's data (its SQLite file on the local testbed).
		plan.TargetNode:   {"broker", "shop", "shop/2", "shop-db", "bank/1", "bank-db"},
		plan.TargetStream: {"bank.commands", "bank.events"},
	} {
		for _, n := range names {
			if !contains(tg.valid[k], n) {
				t.Errorf("%s %s is not a valid target", k, n)
			}
		}
	}
	for k, names := range map[plan.TargetKind][]string{
		plan.TargetLink:   {"bank->bank-db", "client->shop/3", "shop->bank", "client->broker"},
		plan.TargetNode:   {"client", "shop/3"},
		plan.TargetStream: {"shop.commands"},
	} {
		for _, n := range names {
			if contains(tg.valid[k], n) {
				t.Errorf("%s %s is a valid target; it should not be", k, n)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A Scenario built in Go is checked the same way; its errors name paths, not positions.
func TestValidateBuilt(t *testing.T) {
	s := &Scenario{
		Name:       "built",
		Duration:   plan.Duration(10e9),
		System:     System{Broker: "nats", Services: []plan.Service{{Name: "bank", Fixture: "bank", Replicas: 1}}},
		Workload:   DefaultWorkload(),
		Invariants: []plan.Invariant{{Name: "durable"}},
		Faults:     []FaultSpec{{At: plan.Duration(1e9), For: plan.Duration(2e9), Kind: "partition", Target: "client->bank"}},
	}
	p, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Faults) != 1 || p.Faults[0].Params["direction"] != "both" {
		t.Errorf("faults %+v", p.Faults)
	}
	s.Faults[0].Target = "client->bnak"
	s.Invariants = append(s.Invariants, plan.Invariant{Name: "nope"})
	err = s.Validate()
	want := "scenario: invariants[1].name: unknown invariant \"nope\" (known: idempotent, durable, conservation, ordered, converges, fail-fast, bounded-load, recovers, delivery, dead-letters-accounted, saga-atomic, saga-conservation, spread)\n" +
		"scenario: faults[0].target: unknown link \"client->bnak\"; did you mean \"client->bank\"?"
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	if _, err := s.Plan(1); err == nil {
		t.Fatal("Plan accepted an invalid scenario")
	}
}

func TestSuggest(t *testing.T) {
	for _, tt := range []struct{ word, want string }{
		{"nmae", "name"}, // a swap is one edit
		{"durtion", "duration"},
		{"base", ""}, // two edits from "name", too many for a short word
		{"x", ""},
		{"invariant", "invariants"},
	} {
		if got := suggest(tt.word, rootKeys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

// wantErrors holds err, from a file named t.yaml, to want: one "line:col: message"
// per problem, in order (the message may be a part of the one reported).
func wantErrors(t *testing.T, err error, want []string) {
	t.Helper()
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, not an ErrorList: %v", err, err)
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(got), len(want), err)
	}
	for i, w := range want {
		pos, msg, _ := strings.Cut(w, ": ")
		if !strings.HasPrefix(got[i], "t.yaml:"+pos+": ") || !strings.Contains(got[i], msg) {
			t.Errorf("error %d:\n got %s\nwant t.yaml:%s", i, got[i], w)
		}
	}
}
