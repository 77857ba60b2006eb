package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/mscli/mscli/testbed"
)

// Clean kills what crashed runs left behind: every process listed in a pid file under
// <o.Root>/.mscli/runs/*/pids that is still alive and provably that node of that run —
// its environment carries MSCLI_RUN=<run id> and MSCLI_NODE=<node> — so a recycled pid
// is never killed; and, when such a process is gone, what is left of its process group
// (a user's service started through a shell leaves its program behind), each member
// proven the same way. A run whose owner (the mscli that started it, on each line) is
// still running is left alone and said through o.Note, unless o.Force. It returns one
// line per killed process. It needs /proc (Linux).
func Clean(ctx context.Context, o testbed.CleanOptions) ([]string, error) {
	root := o.Root
	if runtime.GOOS != "linux" || !procAvailable() {
		return nil, errors.New("clean: finding leftover processes needs /proc (Linux); on this system kill them by the pids in .mscli/runs/*/pids")
	}
	files, err := pidFiles(filepath.Join(root, ".mscli", "runs"))
	if err != nil {
		return nil, err
	}
	var killed []string
	var errs []error
	seen := map[int]bool{}
	kept := map[string]bool{}
	for _, file := range files {
		entries, err := readPids(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, en := range entries {
			if o.Run != "" && en.run != o.Run {
				continue
			}
			if keep, why := testbed.KeepRun(en.owner); keep && !o.Force {
				if !kept[en.run] {
					kept[en.run] = true
					o.Notef("left run %s alone: %s (--force kills its processes)", en.run, why)
				}
				continue
			}
			if err := ctx.Err(); err != nil {
				return killed, err
			}
			if seen[en.pid] || en.pid == os.Getpid() {
				continue
			}
			seen[en.pid] = true
			if !isNodeOf(en.pid, en) {
				for _, m := range groupLeft(en) {
					if err := signalPid(m); err == nil {
						killed = append(killed, fmt.Sprintf("killed pid %d (left by %s of run %s)", m, en.node, en.run))
					}
				}
				continue
			}
			_, pgrp, err := procStat(en.pid)
			if err != nil {
				continue // exited meanwhile
			}
			target := en.pid
			if pgrp == en.pid {
				target = -en.pid // its own group: take anything it spawned too
			}
			if err := signalPid(target); err != nil {
				errs = append(errs, fmt.Errorf("kill %d (%s of run %s): %w", en.pid, en.node, en.run, err))
				continue
			}
			killed = append(killed, fmt.Sprintf("killed pid %d (%s of run %s)", en.pid, en.node, en.run))
		}
	}
	return killed, errors.Join(errs...)
}

type pidEntry struct {
	pid              int
	node, run, owner string
}

// readPids parses "<pid> <node> <run id> [<owner>]" lines.
func readPids(path string) ([]pidEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []pidEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 && len(fields) != 4 {
			continue
		}
		pid, err := strconv.Atoi(fields[0])
		if err != nil || pid <= 1 {
			continue
		}
		en := pidEntry{pid: pid, node: fields[1], run: fields[2]}
		if len(fields) == 4 {
			en.owner = fields[3]
		}
		out = append(out, en)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// isNodeOf reports whether pid is the node en names, of en's run.
func isNodeOf(pid int, en pidEntry) bool {
	run, err := procHasEnv(pid, "MSCLI_RUN="+en.run)
	if err != nil || !run {
		return false
	}
	node, err := procHasEnv(pid, "MSCLI_NODE="+en.node)
	return err == nil && node
}

// groupLeft lists the live members of the process group en.pid led, once its leader
// is gone, that carry en's run and node in their environment.
func groupLeft(en pidEntry) []int {
	if !procGone(en.pid) {
		return nil // alive but not that node: a recycled pid
	}
	dirs, _ := os.ReadDir("/proc")
	var out []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, pgrp, err := procStat(pid); err == nil && pgrp == en.pid && isNodeOf(pid, en) {
			out = append(out, pid)
		}
	}
	return out
}

// pidFiles finds the runs' pid files under runs: a run's own directory, or one inside a
// suite's directory or a shrink's (<run>/shrink/runs/), at any depth; a run's data
// and logs are not searched.
func pidFiles(runs string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(runs, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		case d.IsDir() && (d.Name() == "logs" || d.Name() == "data"):
			return filepath.SkipDir
		case !d.IsDir() && d.Name() == "pids":
			out = append(out, path)
		}
		return nil
	})
	return out, err
}
