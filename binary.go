package mscli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mscli/mscli/runner"
)

const (
	// modulePath is mscli's module, whose version the built binary is keyed by.
	modulePath = "github.com/mscli/mscli"
	// commandPath is the package of the mscli command.
	commandPath = modulePath + "/cmd/mscli"
	// fix is what every failure to find a binary ends with.
	fix = "set MSCLI_BIN or Options.Binary to an mscli binary"
	// versionTimeout bounds `mscli version` of a binary found on the PATH.
	versionTimeout = 10 * time.Second
	// tempPrefix names the per-process build directories under os.TempDir(); the
	// process id follows it.
	tempPrefix = "mscli-bin-"
)

// The binary built by this process: kept for every later run, and its temporary
// directory (when it was not built into the cache) for Cleanup.
var built struct {
	sync.Mutex
	path, tempDir string
}

// FindBinary returns the mscli binary the testbeds run the node roles from (the
// broker, the fixtures; the docker testbed's image) as an absolute path. It never
// assumes the running executable is one: a test binary has none of those roles. In
// order:
//
//  1. o.Binary, when set;
//  2. $MSCLI_BIN, when set;
//  3. an mscli on the PATH whose `mscli version` answers;
//  4. else it builds one: CGO_ENABLED=0 go build -o <dir>/mscli
//     github.com/mscli/mscli/cmd/mscli, static so that it also runs in a FROM-scratch
//     image, in the working directory's module — a go test runs in its package's
//     directory, so the mscli version the test's go.mod requires is the one built.
//
// A build is cached under os.UserCacheDir()/mscli/mscli-<version>, keyed by the
// version of the mscli module this program was built with (runtime/debug's build
// info), so it happens once per version on a machine. When that version names no
// fixed source — a (devel) build: mscli's own tests, a replace directive pointing at a
// directory, a build of a modified checkout — it is keyed by the build's vcs.revision
// when mscli is the main module of a clean checkout, and otherwise built once per
// process into a temporary directory (go test binaries carry no vcs.revision, so that
// is what mscli's own tests do): Cleanup removes it (call it from TestMain after
// m.Run), and a later build removes those of processes that have exited. o.Progress
// gets a line while it builds. The build needs mscli's command in the module graph
// (`go get -tool github.com/mscli/mscli/cmd/mscli`); a failure says how to do without.
func FindBinary(ctx context.Context, o Options) (string, error) {
	progress := o.progress()
	from, path := "Options.Binary", o.Binary
	if path == "" {
		from, path = "MSCLI_BIN", os.Getenv("MSCLI_BIN")
	}
	if path != "" {
		bin, err := given(path, from)
		if err == nil {
			note(progress, runner.PhaseImages, "node roles: %s (%s)", bin, from)
		}
		return bin, err
	}
	if path, version, ok := onPath(ctx); ok {
		note(progress, runner.PhaseImages, "node roles: %s (%s, found on the PATH)", path, version)
		return path, nil
	}
	return build(ctx, progress)
}

// given checks a binary named by the caller: it must be an executable file. It is not
// run: a test binary named by mistake would run its tests.
func given(path, from string) (string, error) {
	abs, err := filepath.Abs(path)
	if err == nil {
		err = executable(abs)
	}
	if err != nil {
		return "", runner.InvalidInput("%s=%s: %v; %s", from, path, err, fix)
	}
	return abs, nil
}

// executable says why path is no executable file, nil when it is one.
func executable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case fi.IsDir():
		return errors.New("a directory, not a binary")
	case fi.Mode()&0o111 == 0:
		return errors.New("not executable")
	}
	return nil
}

// onPath finds an mscli on the PATH and asks it its version; it is used only when it
// answers as mscli.
func onPath(ctx context.Context) (path, version string, ok bool) {
	p, err := exec.LookPath("mscli")
	if err != nil {
		return "", "", false
	}
	if p, err = filepath.Abs(p); err != nil {
		return "", "", false
	}
	if self, err := os.Executable(); err == nil && sameFile(self, p) {
		return "", "", false
	}
	vctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	out, err := exec.CommandContext(vctx, p, "version").Output()
	line := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(line, "mscli ") {
		return "", "", false
	}
	return p, line, true
}

func sameFile(a, b string) bool {
	fa, erra := os.Stat(a)
	fb, errb := os.Stat(b)
	return erra == nil && errb == nil && os.SameFile(fa, fb)
}

// build builds the binary, or finds the one this process or, for a cacheable key, any
// earlier process built.
func build(ctx context.Context, progress func(runner.Event)) (string, error) {
	built.Lock()
	defer built.Unlock()
	if built.path != "" && executable(built.path) == nil {
		return built.path, nil
	}
	bi, _ := debug.ReadBuildInfo()
	key, version, cacheable := buildKey(bi)
	dir := ""
	if cacheable {
		if cache, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(cache, "mscli", "mscli-"+key)
			if bin := filepath.Join(dir, "mscli"); executable(bin) == nil {
				note(progress, runner.PhaseImages, "node roles: %s (built before for %s)", bin, key)
				built.path = bin
				return bin, nil
			}
			if os.MkdirAll(dir, 0o755) != nil {
				dir = "" // no cache to write to: build for this process
			}
		}
	}
	temp := dir == ""
	if temp {
		reapTempDirs()
		var err error
		if dir, err = os.MkdirTemp("", tempPrefix+strconv.Itoa(os.Getpid())+"-"); err != nil {
			return "", runner.CouldNotRun(fmt.Errorf("build the mscli binary for the node roles: %w; %s", err, fix))
		}
	}
	began := time.Now()
	note(progress, runner.PhaseImages, "building the mscli binary for the node roles (once) …")
	bin := filepath.Join(dir, "mscli")
	// Into a file of this process first, renamed into place: processes building the
	// same version at once (go test ./... runs packages side by side) each rename a
	// complete binary.
	tmp := filepath.Join(dir, fmt.Sprintf(".mscli-%d.tmp", os.Getpid()))
	args := []string{"build", "-o", tmp}
	if version != "" {
		args = append(args, "-ldflags", "-X main.version="+version)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, commandPath)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err == nil {
		err = os.Rename(tmp, bin)
	}
	if err != nil {
		os.Remove(tmp)
		if temp {
			os.RemoveAll(dir)
		}
		return "", runner.CouldNotRun(fmt.Errorf("build the mscli binary for the node roles: go build %s: %v\n%s\n%s "+
			"(or let the build find mscli's command: go get -tool %s in the test's module)",
			commandPath, err, bytes.TrimSpace(out), fix, commandPath))
	}
	note(progress, runner.PhaseImages, "node roles: %s (built in %s)", bin, time.Since(began).Round(100*time.Millisecond))
	built.path = bin
	if temp {
		built.tempDir = dir
	}
	return bin, nil
}

// Cleanup removes the binary FindBinary built into a temporary directory for this
// process, if it did; call it from TestMain after m.Run. A binary built into the user
// cache stays there for the next run.
func Cleanup() {
	built.Lock()
	defer built.Unlock()
	if built.tempDir != "" {
		os.RemoveAll(built.tempDir)
		if strings.HasPrefix(built.path, built.tempDir) {
			built.path = ""
		}
		built.tempDir = ""
	}
}

// reapTempDirs removes the per-process build directories of processes that have
// exited without Cleanup.
func reapTempDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, d := range dirs {
		rest := strings.TrimPrefix(filepath.Base(d), tempPrefix)
		pid, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, '-'), 0)])
		if err != nil || pid == os.Getpid() || !exited(pid) {
			continue
		}
		os.RemoveAll(d)
	}
}

// exited says whether process pid is known to be gone.
func exited(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	err = p.Signal(syscall.Signal(0))
	return errors.Is(err, os.ErrProcessDone) || errors.Is(err, syscall.ESRCH)
}

// unsafeKey is what a cache key may not hold.
var unsafeKey = regexp.MustCompile(`[^A-Za-z0-9._+-]`)

// buildKey is the cache key of the mscli module in a build's info, and the version to
// stamp into the binary; cacheable is false when the module's source is not fixed by
// its version: a directory replacement, a (devel) build without a clean checkout's
// vcs.revision, a +dirty pseudo-version, or no mscli module at all.
func buildKey(bi *debug.BuildInfo) (key, version string, cacheable bool) {
	if bi == nil {
		return "", "", false
	}
	var mod *debug.Module
	if bi.Main.Path == modulePath {
		mod = &bi.Main
	} else {
		for _, d := range bi.Deps {
			if d.Path == modulePath {
				mod = d
				break
			}
		}
	}
	if mod == nil {
		return "", "", false
	}
	if r := mod.Replace; r != nil {
		if r.Version == "" || r.Version == "(devel)" || strings.HasSuffix(r.Version, "+dirty") {
			return "", "", false // a directory: its source changes under the same name
		}
		sum := sha256.Sum256([]byte(r.Path))
		return unsafeKey.ReplaceAllString(r.Version, "_") + "-" + hex.EncodeToString(sum[:4]), r.Version, true
	}
	switch v := mod.Version; {
	case v == "" || v == "(devel)":
		if mod != &bi.Main {
			return "", "", false
		}
		var rev string
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				rev = s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				return "", "", false
			}
		}
		if rev == "" {
			return "", "", false
		}
		rev = unsafeKey.ReplaceAllString(rev, "_")
		return "rev-" + rev, "devel-" + rev[:min(len(rev), 12)], true
	case strings.HasSuffix(v, "+dirty"):
		return "", "", false
	default:
		return unsafeKey.ReplaceAllString(v, "_"), v, true
	}
}
