package local

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procAvailable reports whether this system has a Linux-style /proc.
func procAvailable() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// procStat reads a process's state letter (R, S, T for stopped, Z…) and process group
// from /proc/<pid>/stat.
func procStat(pid int) (state byte, pgrp int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// "pid (comm) S ppid pgrp …": comm may hold spaces and parentheses, so parse from
	// the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	pgrp, err = strconv.Atoi(f[2])
	if err != nil {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return f[0][0], pgrp, nil
}

// procStopped reports whether every thread of a process is stopped (or the process
// is a zombie: it will not write again either).
func procStopped(pid int) (bool, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return false, err
	}
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, t.Name()))
		if err != nil {
			continue // the thread exited
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) {
			return false, fmt.Errorf("/proc/%d/task/%s/stat: unexpected format", pid, t.Name())
		}
		switch b[i+2] {
		case 'T', 't', 'Z', 'X':
		default:
			return false, nil
		}
	}
	return true, nil
}

// procHasEnv reports whether a process's environment holds the exact entry kv.
func procHasEnv(pid int, kv string) (bool, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false, err
	}
	for _, e := range bytes.Split(b, []byte{0}) {
		if string(e) == kv {
			return true, nil
		}
	}
	return false, nil
}

// procDescendants lists a process's descendants, children first, from
// /proc/<pid>/task/*/children (Linux); none where that is not available.
func procDescendants(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
				out = append(out, procDescendants(c)...)
			}
		}
	}
	return out
}

// procGone reports whether a process has exited (or is a zombie: it runs no more).
func procGone(pid int) bool {
	state, _, err := procStat(pid)
	return err != nil || state == 'Z' || state == 'X'
}
