package scenarios

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCatalog(t *testing.T) {
	entries, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("empty catalog")
	}
	for _, e := range entries {
		t.Run(e.Name, func(t *testing.T) {
			if e.Path != "catalog/"+e.Name+".yaml" {
				t.Errorf("scenario %s lives in %s: the file name must be the scenario's name", e.Name, e.Path)
			}
			if e.Summary == "" || len(e.Catches) == 0 {
				t.Errorf("a built-in scenario needs a summary and the bugs it catches: %+v", e)
			}
			for _, key := range []string{e.Name, e.Path} {
				s, err := Find(key)
				if err != nil {
					t.Fatalf("Find(%q): %v", key, err)
				}
				if s.File != e.Path {
					t.Errorf("Find(%q).File = %q", key, s.File)
				}
				p, err := s.Plan(1)
				if err != nil {
					t.Fatal(err)
				}
				listed := map[string]bool{}
				for _, inv := range p.Invariants {
					listed[inv.Name] = true
				}
				for bug, inv := range p.Catches {
					if !listed[inv] {
						t.Errorf("catches %s by %s, which is not checked", bug, inv)
					}
				}
			}
		})
	}
	if entries[0].Name != "bank-idempotency" {
		t.Errorf("first entry %q", entries[0].Name)
	}
}

func TestFind(t *testing.T) {
	if s, err := Find("testdata/good-minimal.yaml"); err != nil || s.Name != "minimal" {
		t.Fatalf("Find(file) = %v, %v", s, err)
	}
	_, err := Find("bank-idempotncy")
	if err == nil || !strings.Contains(err.Error(), `unknown scenario "bank-idempotncy"`) ||
		!strings.Contains(err.Error(), "(bank-idempotency, ") || !strings.Contains(err.Error(), `did you mean "bank-idempotency"?`) {
		t.Errorf("unknown name: %v", err)
	}
	// Something that looks like a path is reported as a missing file.
	if _, err := Find("scenarios/nope.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// A file's errors come back with the file's name.
	if _, err := Find("testdata/bad.yaml"); err == nil || !strings.HasPrefix(err.Error(), "testdata/bad.yaml:10:1: ") {
		t.Errorf("bad file: %v", err)
	}
}

// FuzzLoad feeds the loader arbitrary bytes: it must never panic, and every problem it
// reports must carry the file name and a position (line and column from 1).
func FuzzLoad(f *testing.F) {
	paths, _ := fs.Glob(catalogFS, "catalog/*.yaml")
	for _, p := range paths {
		data, err := catalogFS.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(""))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("<<: {name: x}\nfaults: [{<<: [*x]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The fuzzer has no per-input time limit: without this an input that loops
		// would only show as a fuzzer that stops making progress.
		done := make(chan struct{})
		var s *Scenario
		var err error
		go func() { s, err = Parse("fuzz.yaml", data); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Parse has not returned after 5s")
		}
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %T %v", err, err)
			}
			for _, e := range list {
				if e.File != "fuzz.yaml" || e.Line < 1 || e.Col < 1 {
					t.Fatalf("error without a position: %#v", e)
				}
			}
			if s != nil {
				t.Fatal("a scenario along with errors")
			}
			return
		}
		// What loads must plan, deterministically.
		p, err := s.Plan(1)
		if err != nil {
			t.Fatalf("a loaded scenario does not plan: %v", err)
		}
		a, err := p.JSON()
		if err != nil {
			t.Fatal(err)
		}
		p2, _ := s.Plan(1)
		b, _ := p2.JSON()
		if string(a) != string(b) {
			t.Fatal("plan is not deterministic")
		}
		if err := p.WriteTimeline(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}
