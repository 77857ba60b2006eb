package scenarios

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	scenario := []byte("name: s\nduration: 5s\nsystem: {}\ninvariants: [durable]\n")
	for f, text := range map[string][]byte{"b.yaml": scenario, "a.yml": []byte("name: [broken"), "notes.txt": scenario,
		"docker-compose.yml": []byte("services: {web: {image: x}}\n")} {
		if err := os.WriteFile(filepath.Join(dir, f), text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Expand([]string{"bank-idempotency", dir, "saga-*", "bank-idempotency"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"bank-idempotency", filepath.Join(dir, "a.yml"), filepath.Join(dir, "b.yaml"),
		"saga-choreography", "saga-db-loss", "saga-order"}
	if !slices.Equal(got, want) {
		t.Fatalf("Expand = %q, want %q", got, want)
	}
	if got, err := Expand([]string{filepath.Join(dir, "*.yaml")}); err != nil || !slices.Equal(got, []string{filepath.Join(dir, "b.yaml")}) {
		t.Fatalf("file glob = %q, %v", got, err)
	}
	// A file whose name looks like a pattern is that file.
	odd := filepath.Join(dir, "odd[1].yaml")
	if err := os.WriteFile(odd, scenario, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Expand([]string{odd}); err != nil || !slices.Equal(got, []string{odd}) {
		t.Fatalf("file with brackets = %q, %v", got, err)
	}
	for _, bad := range []string{"nothing-*", t.TempDir()} {
		if _, err := Expand([]string{bad}); err == nil || !strings.Contains(err.Error(), "no scenario") {
			t.Errorf("Expand(%q) = %v, want an error saying it names no scenario", bad, err)
		}
	}
}
