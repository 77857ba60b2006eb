package testbed

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Owner is the mscli process a run's resources belong to: its host and machine, the
// machine's boot, its PID namespace, its pid and the pid's start time (in clock ticks
// since boot, from /proc), so a pid used again by another process after a reboot or an
// exit is never taken for it, and a process of another machine or container is never
// looked up here. Every container, network, volume and image of a docker run carries it
// as a label, and a local run's pid lines carry it; clean leaves a live owner's
// resources alone. Off Linux no owner is recorded.
type Owner struct {
	Host    string
	Machine string // /etc/machine-id, "" where there is none
	Boot    string
	PIDNS   string // the inode of the process's PID namespace
	PID     int
	Start   uint64
}

// String is the owner's label value: "host/machine/boot/pidns/pid/start".
func (o Owner) String() string {
	return fmt.Sprintf("%s/%s/%s/%s/%d/%d", o.Host, o.Machine, o.Boot, o.PIDNS, o.PID, o.Start)
}

// ParseOwner reads an owner's label value.
func ParseOwner(s string) (Owner, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 6 || parts[0] == "" {
		return Owner{}, fmt.Errorf("owner %q: want host/machine/boot/pidns/pid/start", s)
	}
	pid, err := strconv.Atoi(parts[4])
	if err != nil || pid <= 0 {
		return Owner{}, fmt.Errorf("owner %q: bad pid", s)
	}
	start, err := strconv.ParseUint(parts[5], 10, 64)
	if err != nil {
		return Owner{}, fmt.Errorf("owner %q: bad start time", s)
	}
	return Owner{Host: parts[0], Machine: parts[1], Boot: parts[2], PIDNS: parts[3], PID: pid, Start: start}, nil
}

var self struct {
	once  sync.Once
	owner Owner
	err   error
}

// Self is this process as an owner. Where /proc cannot tell a process's start time
// (not Linux) it fails, and the testbeds record no owner.
func Self() (Owner, error) {
	self.once.Do(func() {
		o := Owner{PID: os.Getpid()}
		var err error
		if o.Host, err = os.Hostname(); err != nil {
			self.err = err
			return
		}
		if o.Boot, err = bootID(); err != nil {
			self.err = err
			return
		}
		if o.Start, err = startTime(o.PID); err != nil {
			self.err = err
			return
		}
		ns, err := os.Readlink("/proc/self/ns/pid") // "pid:[4026531836]"
		if err != nil {
			self.err = err
			return
		}
		o.PIDNS = strings.Trim(strings.TrimPrefix(ns, "pid:"), "[]")
		if b, err := os.ReadFile("/etc/machine-id"); err == nil {
			o.Machine = strings.TrimSpace(string(b))
		}
		self.owner = o
	})
	return self.owner, self.err
}

// Liveness is what can be told of an owner from here.
type Liveness int

const (
	// Gone: the owner's process has ended (or its machine rebooted since).
	Gone Liveness = iota
	// Live: the owner's process is running.
	Live
	// Unknowable: the owner ran on another host or machine (a shared engine), in
	// another PID namespace (a container), as a user whose processes are hidden here,
	// or this system cannot tell.
	Unknowable
)

// Liveness tells whether the owner is still running, and says why in words.
func (o Owner) Liveness() (Liveness, string) {
	me, err := Self()
	if err != nil {
		return Unknowable, "this system cannot tell whether a process is alive: " + err.Error()
	}
	sameMachine := o.Machine != "" && o.Machine == me.Machine
	switch {
	case o.Host != me.Host:
		return Unknowable, fmt.Sprintf("its mscli ran on host %s", o.Host)
	case o.Machine != me.Machine:
		return Unknowable, fmt.Sprintf("its mscli ran on another machine named %s", o.Host)
	case o.Boot != me.Boot && sameMachine:
		return Gone, "its machine was restarted since"
	case o.Boot != me.Boot:
		return Unknowable, "its mscli ran on a machine that cannot be told from this one"
	case o.PIDNS != me.PIDNS:
		return Unknowable, "its mscli ran in another PID namespace (a container)"
	}
	start, err := startTime(o.PID)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if syscall.Kill(o.PID, 0) == syscall.EPERM {
			return Unknowable, fmt.Sprintf("pid %d belongs to a user whose processes are hidden here", o.PID)
		}
		return Gone, fmt.Sprintf("its mscli (pid %d) has exited", o.PID)
	case err != nil:
		return Unknowable, err.Error()
	case start != o.Start:
		return Gone, fmt.Sprintf("its mscli (pid %d) has exited", o.PID)
	}
	return Live, fmt.Sprintf("its mscli (pid %d) is running", o.PID)
}

func bootID() (string, error) {
	if runtime.GOOS != "linux" {
		return "", errors.New("no /proc")
	}
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// startTime is field 22 of /proc/<pid>/stat: the process's start, in clock ticks
// after boot. A missing process is os.ErrNotExist.
func startTime(pid int) (uint64, error) {
	if runtime.GOOS != "linux" {
		return 0, errors.New("no /proc")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces: count from
	// the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state): field 22 is fields[19].
	if len(fields) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields)+2)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// KeepRun says whether clean leaves alone a run whose owner is this label value, and
// why: its mscli is running, or it cannot be told from here (another host, a value
// that does not parse). A run with no owner recorded (an older mscli's, or one from a
// system without /proc) is not kept.
func KeepRun(owner string) (bool, string) {
	if owner == "" {
		return false, ""
	}
	o, err := ParseOwner(owner)
	if err != nil {
		return true, err.Error()
	}
	l, why := o.Liveness()
	return l != Gone, why
}

// Password is a fresh random password for a run's database: 24 hex digits. No two
// runs share one, and none is written to the plan, the logs or the reports.
func Password() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}
