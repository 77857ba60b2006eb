package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Clean kills what crashed runs left behind: every process listed in a pid file under
// <root>/.mscli/runs/*/pids that is still alive and provably one of that run's
// fixtures — its command line is `… fixture …` and its environment carries
// MSCLI_RUN=<run id> — so a recycled pid is never killed. It returns one line per
// killed process. It needs /proc (Linux).
func Clean(ctx context.Context, root string) ([]string, error) {
	if runtime.GOOS != "linux" || !procAvailable() {
		return nil, errors.New("clean: finding leftover processes needs /proc (Linux); on this system kill them by the pids in .mscli/runs/*/pids")
	}
	files, err := filepath.Glob(filepath.Join(root, ".mscli", "runs", "*", "pids"))
	if err != nil {
		return nil, err
	}
	var killed []string
	var errs []error
	seen := map[int]bool{}
	for _, file := range files {
		entries, err := readPids(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, en := range entries {
			if err := ctx.Err(); err != nil {
				return killed, err
			}
			if seen[en.pid] || en.pid == os.Getpid() {
				continue
			}
			seen[en.pid] = true
			if !isFixture(en.pid, en.run) {
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
	pid       int
	node, run string
}

// readPids parses "<pid> <node> <run id>" lines.
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
		if len(fields) != 3 {
			continue
		}
		pid, err := strconv.Atoi(fields[0])
		if err != nil || pid <= 1 {
			continue
		}
		out = append(out, pidEntry{pid: pid, node: fields[1], run: fields[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// isFixture reports whether pid is a fixture process of run.
func isFixture(pid int, run string) bool {
	args, err := procArgs(pid)
	if err != nil || len(args) < 2 || args[1] != "fixture" {
		return false
	}
	ok, err := procHasEnv(pid, "MSCLI_RUN="+run)
	return err == nil && ok
}
