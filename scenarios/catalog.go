package scenarios

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"strings"
)

// The built-in scenarios travel inside the binary, so `mscli run bank-idempotency` works
// anywhere without a checkout.
//
//go:embed catalog/*.yaml
var catalogFS embed.FS

//go:embed schema.json
var schemaJSON []byte

// Schema is the JSON Schema (draft 2020-12) of the scenario format, for editors and
// other tools; Load checks more than it can say (targets exist, faults end in time).
func Schema() []byte { return bytes.Clone(schemaJSON) }

// Entry is one built-in scenario.
type Entry struct {
	Name    string
	Summary string
	Path    string // inside the binary: "catalog/bank-idempotency.yaml"
	// Catches maps the fixtures' known bugs this scenario must catch to the invariant
	// that catches each.
	Catches map[string]string
}

// Catalog lists the built-in scenarios, sorted by name. It fails only if a built-in
// scenario is invalid, which the package's tests prevent.
func Catalog() ([]Entry, error) {
	paths, err := fs.Glob(catalogFS, "catalog/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, p := range paths { // fs.Glob returns sorted names; file name = scenario name
		s, err := loadEmbedded(p)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Name: s.Name, Summary: s.Summary, Path: p, Catches: maps.Clone(s.Catches)})
	}
	return out, nil
}

func loadEmbedded(p string) (*Scenario, error) {
	data, err := catalogFS.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return Parse(p, data)
}

// Find resolves a catalog name ("bank-idempotency") or path ("catalog/bank-idempotency.yaml"),
// or else a file path, and loads the scenario. An unknown name's error lists the
// catalog.
func Find(nameOrPath string) (*Scenario, error) {
	entries, err := Catalog()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
		if nameOrPath == e.Name || nameOrPath == e.Path {
			return loadEmbedded(e.Path)
		}
	}
	if _, err := os.Stat(nameOrPath); err == nil || looksLikePath(nameOrPath) {
		return Load(nameOrPath)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	return nil, fmt.Errorf("unknown scenario %q: no such file, and not in the catalog (%s)%s",
		nameOrPath, strings.Join(names, ", "), didYouMean(nameOrPath, names))
}

// looksLikePath says whether a Find argument is meant as a file, so that a missing file
// is reported as such rather than as an unknown catalog name.
func looksLikePath(s string) bool {
	ext := path.Ext(s)
	return strings.ContainsAny(s, `/\`) || ext == ".yaml" || ext == ".yml"
}
