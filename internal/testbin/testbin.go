// Package testbin gives the tests that run real mscli processes (fixtures, testbeds,
// end-to-end runs) the binary they run: MSCLI_BIN when it is set (make test builds the
// binary once for every package), or one built here, once per test process, static
// (CGO_ENABLED=0) so that it also runs in the FROM-scratch image.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

var (
	once sync.Once
	dir  string
	path string
	err  error
)

// Path returns the mscli binary, building it the first time when MSCLI_BIN is unset.
func Path() (string, error) {
	once.Do(func() {
		if b := os.Getenv("MSCLI_BIN"); b != "" {
			path = b
			return
		}
		if dir, err = os.MkdirTemp("", "mscli-test-bin-"); err != nil {
			return
		}
		bin := filepath.Join(dir, "mscli")
		cmd := exec.Command("go", "build", "-o", bin, "github.com/mscli/mscli/cmd/mscli")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, berr := cmd.CombinedOutput(); berr != nil {
			err = fmt.Errorf("go build ./cmd/mscli (or set MSCLI_BIN): %v\n%s", berr, out)
			return
		}
		path = bin
	})
	return path, err
}

// Cleanup removes a binary Path built; TestMain calls it after m.Run.
func Cleanup() {
	if dir != "" {
		os.RemoveAll(dir)
	}
}
