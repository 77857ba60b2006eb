package history

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A fault outside the file's mapping while its lines are read (the decoder reading
// memory it may not) stays a panic: only a fault inside the mapping is the file cut
// shorter.
func TestFaultOutsideTheMapping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	if err := os.WriteFile(path, []byte("{}\n{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fl, err := openLines(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.close()
	closed, err := unix.Mmap(-1, 0, os.Getpagesize(), unix.PROT_NONE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(closed)
	defer func() {
		if r := recover(); r == nil {
			t.Error("a fault outside the mapping read as no fault")
		}
	}()
	err = fl.each(func([]byte) error { return fmt.Errorf("%d", closed[0]) })
	t.Errorf("a fault outside the mapping read as %v", err)
}
