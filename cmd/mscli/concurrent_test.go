package main

import (
	"encoding/json"
	"maps"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mscli/mscli/reports"
)

// Two runs at once of one scenario on one seed, on one testbed, and a clean of each
// while both are under way: each run has its own run directory, addresses (local) or
// network and containers (docker); clean leaves both alone and says so; and each ends
// with the verdicts the scenario gives alone on that seed: every check passes, exit 0
// (TestRunLocal and TestRunDocker hold that of bank-idempotency run alone).
func TestConcurrentRuns(t *testing.T) {
	for _, tb := range []string{"local", "docker"} {
		t.Run(tb, func(t *testing.T) {
			if tb == "docker" {
				dockerImages(t)
			}
			root := t.TempDir()
			out := filepath.Join(root, ".mscli", "runs")
			var runs []*launched
			for range 2 {
				runs = append(runs, launch(t, tb, out, "--seed", "1", "--format", "json"))
			}
			for _, r := range runs {
				waitWorking(t, r.cmd, r.working)
			}
			dirs, _ := filepath.Glob(filepath.Join(out, "*"))
			if len(dirs) != 2 {
				t.Fatalf("want two run directories, found %v", dirs)
			}
			if tb == "docker" {
				var nets []string
				for _, d := range dirs {
					n := labelled(t, "network ls", filepath.Base(d))
					if len(n) == 0 || len(labelled(t, "container ls", filepath.Base(d))) == 0 {
						t.Errorf("run %s has no network or no container of its own under way", filepath.Base(d))
					}
					nets = append(nets, n...)
				}
				if len(slices.Compact(slices.Sorted(slices.Values(nets)))) != len(nets) {
					t.Errorf("the two runs share a network: %v", nets)
				}
			}
			// --run: a clean of every run would also sweep what other tests hold.
			for _, d := range dirs {
				run := filepath.Base(d)
				msg, err := exec.Command(mscliBinary(t), "clean", "--root", root, "--run", run).CombinedOutput()
				if err != nil {
					t.Errorf("mscli clean --run %s: %v\n%s", run, err, msg)
				}
				if !strings.Contains(string(msg), "left run "+run+" alone") {
					t.Errorf("clean did not say it left run %s alone:\n%s", run, msg)
				}
			}
			var results []map[string]string
			var addrs []map[string]string
			for i, r := range runs {
				code, stderr := r.wait()
				if code != 0 {
					t.Errorf("run %d after the clean: exit %d, want 0\n%s", i, code, strings.Join(stderr, "\n"))
				}
				var res reports.Run
				if err := json.Unmarshal(r.stdout.Bytes(), &res); err != nil {
					t.Fatalf("run %d: stdout is not a result: %v\n%s", i, err, r.stdout.String())
				}
				v := map[string]string{}
				for _, c := range res.Results {
					v[c.Name] = string(c.Verdict)
					if c.Verdict != "pass" {
						t.Errorf("run %d: %s: %s, want pass as alone: %s", i, c.Name, c.Verdict, c.Summary)
					}
				}
				if len(v) == 0 {
					t.Errorf("run %d judged nothing", i)
				}
				results = append(results, v)
				addrs = append(addrs, nodeAddrs(stderr))
			}
			if !maps.Equal(results[0], results[1]) {
				t.Errorf("two runs of one scenario and seed, different verdicts: %v and %v", results[0], results[1])
			}
			if tb == "local" {
				if len(addrs[0]) == 0 {
					t.Fatalf("the local run named no node's address")
				}
				for node, a := range addrs[0] {
					for other, b := range addrs[1] {
						if a == b {
							t.Errorf("%s of one run and %s of the other both on %s", node, other, a)
						}
					}
				}
			}
		})
	}
}

// nodeAddrs is each node's address, from a local run's "starting <node> on <addr>" lines.
func nodeAddrs(stderr []string) map[string]string {
	re := regexp.MustCompile(`starting (\S+) on (\S+:\d+)`)
	m := map[string]string{}
	for _, l := range stderr {
		if s := re.FindStringSubmatch(l); s != nil {
			m[s[1]] = s[2]
		}
	}
	return m
}

// labelled lists the ids of the docker objects of kind ("container ls", "network ls",
// "volume ls") labelled with run.
func labelled(t *testing.T, kind, run string) []string {
	t.Helper()
	b, err := exec.Command("docker", append(strings.Fields(kind), "-q", "--filter", "label=mscli.run="+run)...).Output()
	if err != nil {
		t.Fatalf("docker %s: %v", kind, err)
	}
	return strings.Fields(string(b))
}
