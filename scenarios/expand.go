package scenarios

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// Expand resolves the scenarios a suite names: catalog names, files, folders (every
// .yaml and .yml file in them that looks like a scenario — a mapping with the keys
// every scenario has, so a compose file beside them is left out —, sorted) and globs (over files, and over catalog names:
// "saga-*"). It returns each scenario's argument as a run of it alone would take it, in
// the order given, each once. A folder or glob that names no scenario is an error, so a
// typo in a CI job does not pass with nothing run.
func Expand(args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, a := range args {
		got, err := expandOne(a)
		if err != nil {
			return nil, err
		}
		for _, s := range got {
			add(s)
		}
	}
	return out, nil
}

func expandOne(a string) ([]string, error) {
	if fi, err := os.Stat(a); err == nil && fi.IsDir() {
		var files []string
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, err := filepath.Glob(filepath.Join(a, pat))
			if err != nil {
				return nil, err
			}
			files = append(files, m...)
		}
		files = slices.DeleteFunc(files, func(f string) bool { return !looksLikeScenario(f) })
		if len(files) == 0 {
			return nil, fmt.Errorf("folder %s holds no scenario (*.yaml, *.yml with name, duration, system and invariants)", a)
		}
		slices.Sort(files)
		return files, nil
	}
	if _, err := os.Stat(a); err == nil || !strings.ContainsAny(a, "*?[") {
		return []string{a}, nil
	}
	files, err := filepath.Glob(a)
	if err != nil {
		return nil, fmt.Errorf("bad pattern %q: %v", a, err)
	}
	entries, err := Catalog()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if ok, _ := path.Match(a, e.Name); ok {
			names = append(names, e.Name)
		}
	}
	var out []string
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && !fi.IsDir() {
			out = append(out, f)
		}
	}
	out = append(out, names...)
	if len(out) == 0 {
		all := make([]string, len(entries))
		for i, e := range entries {
			all[i] = e.Name
		}
		return nil, errors.New("pattern " + a + " matches no scenario file and no catalog name (" + strings.Join(all, ", ") + ")")
	}
	return out, nil
}

// looksLikeScenario says whether a file's top level has the keys every scenario has; a
// file that does not parse is taken, so that loading it reports where it is wrong.
func looksLikeScenario(file string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return true
	}
	var top map[string]any
	if err := yaml.Unmarshal(b, &top); err != nil {
		return true
	}
	for _, k := range []string{"name", "duration", "system", "invariants"} {
		if _, ok := top[k]; !ok {
			return false
		}
	}
	return true
}
