package scenarios

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/mscli/mscli/plan"
)

// What each kind acts on, on which testbed, as testbed/local and testbed/docker
// implement it today. It repeats FaultKinds' Acts on purpose: a change there has to be
// a decision, made here too, not a slip.
func TestFaultKindsActOn(t *testing.T) {
	const (
		both   = "local docker"
		local  = "local"
		docker = "docker"
	)
	links := map[plan.TargetRole]string{plan.RoleLink: both, plan.RoleDatabaseLink: docker}
	process := map[plan.TargetRole]string{plan.RoleBroker: both, plan.RoleReplica: both, plan.RolePostgres: docker}
	data := map[plan.TargetRole]string{plan.RolePostgres: both, plan.RoleSQLite: local, plan.RoleBroker: local}
	want := map[string]map[plan.TargetRole]string{
		"latency": links, "bandwidth": links, "timeout": links, "reset": links, "slow-close": links, "partition": links,
		"http-errors": {plan.RoleLink: both}, "kill": process, "pause": process, "restart": process,
		"snapshot": data, "wipe": data,
		"duplicate": {plan.RoleStream: both},
		"redeliver": {plan.RoleStream: both}, "drop": {plan.RoleStream: both}, "delay": {plan.RoleStream: both},
		"reorder": {plan.RoleStream: both}, "stream-full": {plan.RoleStream: both}, "pause-consumers": {plan.RoleStream: both},
	}
	if got, w := plan.FaultKindNames(), sortedKeys(want); !slices.Equal(got, w) {
		t.Fatalf("kinds %v, want %v", got, w)
	}
	roles := []plan.TargetRole{plan.RoleBroker, plan.RoleReplica, plan.RolePostgres, plan.RoleSQLite, plan.RoleLink, plan.RoleDatabaseLink, plan.RoleStream}
	for _, name := range plan.FaultKindNames() {
		k := kindOf(name)
		for _, r := range roles {
			var on []string
			for _, tb := range plan.Testbeds {
				if k.ActsOn(r, tb) {
					on = append(on, tb)
				}
			}
			if got := strings.Join(on, " "); got != want[name][r] {
				t.Errorf("%s on %s: testbeds %q, want %q", name, r, got, want[name][r])
			}
			if k.ActsEverywhere(r) != (want[name][r] == both) || k.ActsAnywhere(r) != (want[name][r] != "") {
				t.Errorf("%s on %s: ActsEverywhere/ActsAnywhere disagree with ActsOn", name, r)
			}
		}
	}
}

// Each declaration is well formed: roles of the kind's target kind, each once, on known
// testbeds, with a reason wherever a testbed cannot.
func TestFaultKindsDeclareReach(t *testing.T) {
	roleKind := map[plan.TargetRole]plan.TargetKind{
		plan.RoleBroker: plan.TargetNode, plan.RoleReplica: plan.TargetNode, plan.RolePostgres: plan.TargetNode, plan.RoleSQLite: plan.TargetNode, plan.RoleDatabase: plan.TargetNode,
		plan.RoleLink: plan.TargetLink, plan.RoleDatabaseLink: plan.TargetLink, plan.RoleStream: plan.TargetStream,
	}
	for _, name := range plan.FaultKindNames() {
		k := kindOf(name)
		if len(k.Acts) == 0 {
			t.Errorf("%s declares no target", name)
		}
		seen := map[plan.TargetRole]bool{}
		for _, re := range k.Acts {
			if seen[re.Role] {
				t.Errorf("%s: role %s declared twice", name, re.Role)
			}
			seen[re.Role] = true
			if roleKind[re.Role] != k.Target {
				t.Errorf("%s acts on a %s, but declares role %q", name, k.Target, re.Role)
			}
			if _, ok := roleNoun[re.Role]; !ok {
				t.Errorf("%s: role %q has no name for messages", name, re.Role)
			}
			if len(re.On) == 0 {
				t.Errorf("%s on %s: no testbed; leave the role out instead", name, re.Role)
			}
			for _, tb := range re.On {
				if !slices.Contains(plan.Testbeds, tb) {
					t.Errorf("%s on %s: unknown testbed %q", name, re.Role, tb)
				}
			}
			if (len(re.On) < len(plan.Testbeds)) != (re.Why != "") {
				t.Errorf("%s on %s (testbeds %v): Why %q must say why the others cannot, and only then", name, re.Role, re.On, re.Why)
			}
		}
	}
}

// validateErrors loads a scenario and returns its errors as lines.
func validateErrors(t *testing.T, name, src string) []string {
	t.Helper()
	_, err := Parse(name, []byte(src))
	if err == nil {
		return nil
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, not an ErrorList: %v", err, err)
	}
	return strings.Split(err.Error(), "\n")
}

// A fault whose target its kind cannot take on any testbed is an error at the target.
func TestValidateRejectsTargetsNoTestbedTakes(t *testing.T) {
	const sqlite = "name: x\nduration: 20s\nsystem:\n  services:\n    bank: {fixture: bank, replicas: 2}\ninvariants: [durable]\n"
	tests := []struct {
		name, in string
		want     []string // "line:col: message"
	}{
		{"wipe on a replica", head + "faults:\n  - {at: 1s, fault: wipe, node: bank/0}\n",
			[]string{"8:33: fault wipe acts on a PostgreSQL database node (bank-db) or the broker (local testbed only), not on the replica bank/0: a replica keeps no data of its own; bank's is bank-db"}},
		{"wipe on a replica, SQLite", sqlite + "faults:\n  - {at: 1s, fault: wipe, node: bank/0}\n",
			[]string{"8:33: fault wipe acts on an SQLite database node (bank-db; local testbed only) or the broker (local testbed only), not on the replica bank/0"}},
		{"snapshot on a service", head + "faults:\n  - {at: 1s, fault: snapshot, node: bank}\n",
			[]string{"8:37: fault snapshot acts on a PostgreSQL database node (bank-db) or the broker (local testbed only), not on the service bank (one of its replicas)"}},
		{"pause on an SQLite database", sqlite + "faults:\n  - {at: 1s, for: 2s, fault: pause, node: bank-db}\n",
			[]string{"8:43: fault pause acts on the broker or a service replica (bank/0, bank/1), not on the SQLite database bank-db: bank-db is the SQLite file the bank replicas share, with no process of its own"}},
		{"kill and restart on an SQLite database", sqlite + "faults:\n  - {at: 1s, fault: kill, node: bank-db}\n  - {at: 2s, fault: restart, node: bank-db}\n", []string{
			"8:33: fault kill acts on the broker or a service replica (bank/0, bank/1), not on the SQLite database bank-db",
			"9:36: fault restart acts on the broker or a service replica (bank/0, bank/1), not on the SQLite database bank-db",
		}},
		// What one testbed can apply is valid: `mscli run` checks the testbed.
		{"one testbed is enough", head + "faults:\n  - {at: 1s, fault: kill, node: bank-db}\n  - {at: 2s, for: 1s, fault: partition, link: bank/1->bank-db}\n  - {at: 3s, fault: snapshot, node: broker}\n", nil},
		{"SQLite data faults", sqlite + "faults:\n  - {at: 1s, fault: snapshot, node: bank-db}\n  - {at: 2s, fault: wipe, node: bank-db, restore: backup}\n", nil},

		// The nemesis draws only what every testbed can apply.
		{"nemesis data faults without PostgreSQL", sqlite + "nemesis: {faults: [kill, wipe]}\n", []string{
			"7:26: the nemesis cannot draw wipe: it draws only targets every testbed can apply it to, for wipe a PostgreSQL database node or your service's PostgreSQL database node, and the system has none (give a service database: postgres); the broker and the SQLite database bank-db take it on the local testbed only: write such a fault under faults:",
		}},
		{"nemesis data faults with PostgreSQL", head + "nemesis: {faults: [kill, wipe, snapshot, pause, partition]}\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := validateErrors(t, "t.yaml", tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				pos, msg, _ := strings.Cut(w, ": ")
				if !strings.HasPrefix(got[i], "t.yaml:"+pos+": ") || !strings.Contains(got[i], msg) {
					t.Errorf("error %d:\n got %s\nwant t.yaml:%s", i, got[i], w)
				}
			}
		})
	}
}

// The built-in scenario with data faults in its nemesis, as it was first written: the
// nemesis drew "snapshot broker" (which only the local testbed can take) and could
// draw a replica for wipe or snapshot (which no testbed can).
func TestNemesisDataFaultsNeedADatabase(t *testing.T) {
	_, err := Load("testdata/nemesis-sqlite-data.yaml")
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("got %v, want two errors", err)
	}
	for i, want := range []string{
		"testdata/nemesis-sqlite-data.yaml:16:20: the nemesis cannot draw wipe: ",
		"testdata/nemesis-sqlite-data.yaml:16:26: the nemesis cannot draw snapshot: ",
	} {
		if !strings.HasPrefix(list[i].Error(), want) {
			t.Errorf("error %d: %s\nwant %s…", i, list[i], want)
		}
	}
}

// Over seeds 1..1000 no drawn fault lands on a target its kind cannot take on either
// testbed, and each kind lands on every target it may.
func TestNemesisDrawsOnlyWhatEveryTestbedApplies(t *testing.T) {
	files := []string{"testdata/good-nemesis-data.yaml", "testdata/good-nemesis-every-kind.yaml", "testdata/good-image.yaml"}
	paths, _ := fs.Glob(catalogFS, "catalog/*.yaml")
	for _, p := range paths {
		files = append(files, strings.TrimSuffix(strings.TrimPrefix(p, "catalog/"), ".yaml"))
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			s, err := Find(file)
			if err != nil {
				t.Fatal(err)
			}
			tg := s.targets()
			// Every (kind, target) the nemesis may draw: what every testbed can apply.
			may := map[string]bool{}
			if s.Nemesis != nil {
				for _, nf := range s.Nemesis.Faults {
					k := kindOf(nf.Kind)
					for _, name := range tg.valid[k.Target] {
						_, isService := tg.services[name]
						perReplica := k.Target == plan.TargetLink && strings.Contains(name, "/")
						if k.ActsEverywhere(tg.role[k.Target][name]) && !isService && !perReplica {
							may[nf.Kind+" "+name] = true
						}
					}
				}
			}
			drawn := map[string]bool{}
			for seed := int64(1); seed <= 1000; seed++ {
				p, err := s.Plan(seed)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range p.Faults {
					if f.Source != "nemesis" {
						continue
					}
					k := kindOf(f.Kind)
					role := tg.role[k.Target][f.Target]
					for _, tb := range plan.Testbeds {
						if !k.ActsOn(role, tb) {
							t.Fatalf("seed %d: nemesis drew %s on %s (%s), which the %s testbed cannot apply", seed, f.Kind, f.Target, role, tb)
						}
					}
					drawn[f.Kind+" "+f.Target] = true
				}
				for _, tb := range plan.Testbeds {
					// good-image.yaml writes faults only docker applies, on purpose.
					if s.CheckTestbed(tb) != nil {
						continue
					}
					if err := CheckPlanTestbed(p, tb); err != nil {
						t.Fatalf("seed %d, testbed %s: %v", seed, tb, err)
					}
				}
			}
			for _, pair := range sortedKeys(may) {
				if !drawn[pair] {
					t.Errorf("never drew %s in 1000 seeds", pair)
				}
			}
			for _, pair := range sortedKeys(drawn) {
				if !may[pair] {
					t.Errorf("drew %s", pair)
				}
			}
		})
	}
}

// `mscli run` refuses, for the testbed it runs on, the faults that testbed cannot apply,
// at their positions; the other testbed takes the same scenario.
func TestCheckTestbed(t *testing.T) {
	src := "name: x\nduration: 20s\nsystem:\n  services:\n" +
		"    bank: {fixture: bank, replicas: 2, database: postgres}\n" +
		"    shop: {fixture: bank}\n" +
		"invariants: [durable]\nfaults:\n" +
		"  - {at: 1s, fault: kill, node: bank-db, restart-after: 1s}\n" + // 9
		"  - {at: 1s, for: 1s, fault: partition, link: bank->bank-db}\n" + // 10
		"  - {at: 2s, for: 1s, fault: pause, node: bank-db}\n" + // 11
		"  - {at: 3s, for: 1s, fault: latency, link: bank/1->bank-db, latency: 10ms}\n" + // 12
		"  - {at: 4s, fault: snapshot, node: broker}\n" + // 13
		"  - {at: 5s, fault: wipe, node: shop-db}\n" + // 14
		"  - {at: 6s, fault: wipe, node: bank-db}\n" + // 15: both
		"  - {at: 7s, fault: kill, node: bank}\n" + // 16: both
		"  - {at: 8s, for: 1s, fault: partition, link: client->shop}\n" // 17: both
	s, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		plan.TestbedLocal: {
			"t.yaml:9:33: fault kill cannot act on the PostgreSQL database bank-db on the local testbed: on the local testbed the database is an SQLite file inside the service's processes, with no process of its own; the docker testbed can (--testbed docker)",
			"t.yaml:10:47: fault partition cannot act on the database link bank->bank-db on the local testbed: on the local testbed the database is an SQLite file inside the service's processes, with no network path to it; the docker testbed can (--testbed docker)",
			"t.yaml:11:43: fault pause cannot act on the PostgreSQL database bank-db on the local testbed",
			"t.yaml:12:45: fault latency cannot act on the database link bank/1->bank-db on the local testbed",
		},
		plan.TestbedDocker: {
			"t.yaml:13:37: fault snapshot cannot act on the broker on the docker testbed: the docker testbed keeps no snapshots of the broker's data: only a PostgreSQL database's; the local testbed can (--testbed local)",
			"t.yaml:14:33: fault wipe cannot act on the SQLite database shop-db on the docker testbed: on the docker testbed an SQLite database is a volume the service's containers share, not a node; the local testbed can (--testbed local)",
		},
	}
	for _, tb := range plan.Testbeds {
		err := s.CheckTestbed(tb)
		var list ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("%s: got %v, want an ErrorList", tb, err)
		}
		got := strings.Split(err.Error(), "\n")
		if len(got) != len(want[tb]) {
			t.Fatalf("%s: got %d errors, want %d:\n%s", tb, len(got), len(want[tb]), err)
		}
		for i, w := range want[tb] {
			if !strings.HasPrefix(got[i], w) {
				t.Errorf("%s, error %d:\n got %s\nwant %s…", tb, i, got[i], w)
			}
		}
		// The plan says the same, without positions.
		p, err := s.Plan(1)
		if err != nil {
			t.Fatal(err)
		}
		perr := CheckPlanTestbed(p, tb)
		if !errors.As(perr, &list) || len(list) != len(want[tb]) {
			t.Errorf("%s: plan: got %v, want %d errors", tb, perr, len(want[tb]))
		}
	}
	if err := s.CheckTestbed("kubernetes"); err != nil {
		t.Errorf("a testbed the kinds declare nothing about is not checked; got %v", err)
	}
	// A scenario that only names what both testbeds apply passes on both.
	for _, name := range []string{"bank-idempotency", "db-loss-restore", "testdata/good-nemesis-data.yaml", "testdata/good-nemesis-every-kind.yaml"} {
		s, err := Find(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range plan.Testbeds {
			if err := s.CheckTestbed(tb); err != nil {
				t.Errorf("%s on %s: %v", name, tb, err)
			}
		}
	}
}

// Plans of seeds where nothing was wrong stay as they were: a draw on a target its kind
// can act on everywhere consumes the same numbers as before kinds declared their
// targets. The nemesis faults below are what the planner drew then.
func TestNemesisKeepsValidDraws(t *testing.T) {
	want := map[string]map[int64]string{
		"bank-idempotency": {
			1: "kill bank/0 2.83s; pause broker 13.4s; partition bank->broker 13.49s",
			2: "latency bank->broker 4.32s; pause bank/1 10s; pause bank/0 11.91s",
			3: "kill bank/1 7.69s; pause bank/0 9.54s; pause broker 15.47s",
		},
		// PostgreSQL with link kinds: seeds that never drew shop->shop-db, which the
		// nemesis no longer draws, kept their plans.
		"testdata/good-image.yaml": {
			2:  "partition client->bank 8.51s; slow-close shop->broker 11.86s; slow-close shop->broker 18.24s; slow-close client->bank 27.76s; duplicate bank.events 27.77s; latency bank->broker 40.87s",
			13: "duplicate bank.commands 15.79s; duplicate bank.commands 31.61s; slow-close bank->broker 32.13s; slow-close shop->broker 36.08s; duplicate bank.commands 41.88s; duplicate bank.events 58.3s",
		},
	}
	for _, name := range sortedKeys(want) {
		s, err := Find(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, seed := range slices.Sorted(maps.Keys(want[name])) {
			p, err := s.Plan(seed)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range p.Faults {
				if f.Source == "nemesis" {
					got = append(got, fmt.Sprintf("%s %s %s", f.Kind, f.Target, f.At))
				}
			}
			if g := strings.Join(got, "; "); g != want[name][seed] {
				t.Errorf("%s seed %d: nemesis %s\nwant %s", name, seed, g, want[name][seed])
			}
		}
	}
}

// A service of the user's own runs where its testbed can start it: command: on the
// local testbed, image: on docker; run refuses the other at the key, before anything
// starts, and a service with both runs on either.
func TestUserServiceOnEachTestbed(t *testing.T) {
	const head = "name: x\nduration: 5s\nsystem:\n  services:\n"
	const tail = "workload: {kind: http, operations: [{name: buy, path: /buy}]}\ninvariants: [durable]\n"
	for _, tc := range []struct {
		svc, tb, want string
	}{
		{"    shop: {image: acme/shop, port: 80}\n", "local", "5:12: service shop runs from an image, which the local testbed cannot start"},
		{"    shop: {image: acme/shop, port: 80}\n", "docker", ""},
		{"    shop: {command: ./shop, port: 80}\n", "docker", "5:12: service shop is a command, which the docker testbed cannot start"},
		{"    shop: {command: ./shop, port: 80}\n", "local", ""},
		{"    shop: {command: ./shop, image: acme/shop, port: 80}\n", "local", ""},
		{"    shop: {command: ./shop, image: acme/shop, port: 80}\n", "docker", ""},
	} {
		s, err := Parse("t.yaml", []byte(head+tc.svc+tail))
		if err != nil {
			t.Fatal(err)
		}
		err = s.CheckTestbed(tc.tb)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s on %s: %v", strings.TrimSpace(tc.svc), tc.tb, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s on %s: got %v, want %q", strings.TrimSpace(tc.svc), tc.tb, err, tc.want)
		}
		p, _ := s.Plan(1)
		if perr := CheckPlanTestbed(p, tc.tb); (perr == nil) != (tc.want == "") {
			t.Errorf("%s on %s: the plan's check says %v", strings.TrimSpace(tc.svc), tc.tb, perr)
		}
	}
}

// A system that is part images only, part commands only runs nowhere: validate says so.
func TestMixedSystemRunsNowhere(t *testing.T) {
	const y = "name: x\nduration: 5s\nsystem:\n  services:\n    a: {image: acme/a, port: 80}\n    b: {command: ./b, port: 80}\n" +
		"workload: {kind: http, service: a, operations: [{name: buy, path: /buy}]}\ninvariants: [durable]\n"
	_, err := Parse("t.yaml", []byte(y))
	if err == nil || !strings.Contains(err.Error(), "t.yaml:5:5: no testbed can start every service") {
		t.Fatalf("got %v", err)
	}
}
