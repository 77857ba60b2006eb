package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mscli/mscli/plan"
)

// A scenario that names files by relative paths — orders.yaml's command, and
// orders-compose.yaml's compose file — rewritten with WithDir and WithFaults, written
// into another folder and loaded from there, plans to the original's plan with the
// kept faults: the command resolves and runs where it did, the compose file is found.
// Without WithDir the same file, loaded from there, does not.
func TestWithDirRunsFromElsewhere(t *testing.T) {
	examples, err := filepath.Abs("../examples")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"orders.yaml", "orders-compose.yaml"} {
		t.Run(name, func(t *testing.T) {
			orig, err := Load(filepath.Join("..", "examples", name))
			if err != nil {
				t.Fatal(err)
			}
			if orig.Dir != examples {
				t.Fatalf("Dir %q, want %q", orig.Dir, examples)
			}
			want, err := orig.Plan(3)
			if err != nil {
				t.Fatal(err)
			}
			kept := want.Faults[len(want.Faults)-1:]
			for i := range kept {
				kept[i].Source = "scenario"
			}
			anchored, err := WithDir(orig.Source, orig.Dir, "where the original was")
			if err != nil {
				t.Fatal(err)
			}
			elsewhere := filepath.Join(t.TempDir(), "shrink")
			if err := os.MkdirAll(elsewhere, 0o755); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(elsewhere, "scenario.yaml")
			for _, c := range []struct {
				src    []byte
				anchor bool
			}{{orig.Source, false}, {anchored, true}} {
				src, err := WithFaults(c.src, kept, "")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, src, 0o644); err != nil {
					t.Fatal(err)
				}
				s, err := Load(file)
				if !c.anchor {
					// The defect WithDir mends: the compose file is looked for beside the
					// written file, the command runs there.
					if err == nil {
						if s.Dir != elsewhere {
							t.Errorf("without dir: the file resolves against %s", s.Dir)
						}
					} else if !strings.Contains(err.Error(), "compose file") {
						t.Errorf("without dir: %v", err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%v\n%s", err, src)
				}
				got, err := s.Plan(3)
				if err != nil {
					t.Fatal(err)
				}
				if withoutFaults(t, got) != withoutFaults(t, want) || len(got.Faults) != 1 || got.Faults[0].At != kept[0].At {
					t.Errorf("loaded from %s, it plans otherwise:\n%s\n%+v", elsewhere, withoutFaults(t, got), got.Faults)
				}
				if s.Dir != examples {
					t.Errorf("Dir %q, want %q", s.Dir, examples)
				}
				for _, svc := range got.Topology.Services {
					if len(svc.Command) == 0 {
						continue
					}
					argv, err := svc.Argv(plan.Vars{Service: svc.Name, Port: 1})
					if err != nil {
						t.Fatal(err)
					}
					if svc.Dir != examples || argv[0] != filepath.Join(examples, "orders", "orders") {
						t.Errorf("service %s runs %s in %s", svc.Name, argv[0], svc.Dir)
					}
				}
			}
		})
	}
}

// WithDir adds dir: after name: and summary: (with its comment), replaces a dir: the
// file has, and leaves every other line as it was.
func TestWithDirShapes(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, in, want string }{
		{"after name and summary", "# head\nname: x\nsummary: y\n\n# the run\nduration: 5s\n",
			"# head\nname: x\nsummary: y\n# here\ndir: \"" + dir + "\"\n\n# the run\nduration: 5s\n"},
		{"first", "duration: 5s\nname: x\n", "# here\ndir: \"" + dir + "\"\nduration: 5s\nname: x\n"},
		{"only name", "name: x", "name: x\n# here\ndir: \"" + dir + "\"\n"},
		{"replaced", "name: x\ndir: ../elsewhere   # was\nduration: 5s\n", "name: x\n# here\ndir: \"" + dir + "\"\nduration: 5s\n"},
	} {
		got, err := WithDir([]byte(c.in), dir, "here")
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%s:\n%s\nwant:\n%s", c.name, got, c.want)
		}
	}
	if _, err := WithDir([]byte("name: x\n"), "relative", ""); err == nil {
		t.Error("a relative dir was taken")
	}
	if _, err := WithDir([]byte("{name: x}\n"), dir, ""); err == nil {
		t.Error("a flow mapping was rewritten")
	}
}

// dir: resolves relative to the file's folder, moves where commands run and what
// system.compose names, and must be a folder that exists.
func TestDirKey(t *testing.T) {
	examples, _ := filepath.Abs("../examples")
	src, err := os.ReadFile("../examples/orders-compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// testdata/x/../../../examples is the examples folder.
	moved := strings.Replace(string(src), "duration: 20s\n", "duration: 20s\ndir: ../../../examples\n", 1)
	s, err := Parse("testdata/x/orders.yaml", []byte(moved))
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir != examples {
		t.Errorf("Dir %q, want %q", s.Dir, examples)
	}
	for _, c := range []struct{ dir, want string }{
		{"./nowhere", "16:6: dir testdata/nowhere: no such folder"},
		{"../docs_test.go", "16:6: dir docs_test.go: not a folder"},
		{`""`, "16:6: dir: empty"},
	} {
		bad := strings.Replace(string(src), "duration: 20s\n", "duration: 20s\ndir: "+c.dir+"\n", 1)
		_, err := Parse("testdata/orders.yaml", []byte(bad))
		var list ErrorList
		if !errors.As(err, &list) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("dir: %s: %v, want %q", c.dir, err, c.want)
		}
	}
}
