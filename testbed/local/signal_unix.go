//go:build unix

package local

import (
	"errors"
	"os"
	"syscall"
)

// supported is false where the local testbed cannot run (see signal_other.go).
const supported = true

// signalGroup signals a child's whole process group (its pgid is its pid). A group
// that is already gone is not an error.
func signalGroup(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

var (
	sigKill = syscall.SIGKILL
	sigTerm = syscall.SIGTERM
	sigInt  = syscall.SIGINT
	sigStop = syscall.SIGSTOP
	sigCont = syscall.SIGCONT
)

// signalPid sends SIGKILL to a pid, or to a process group when pid is negative.
func signalPid(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// credential is who a child runs as (PostgreSQL: not root).
type credential = syscall.Credential

// withUser runs the child as c.
func withUser(a *syscall.SysProcAttr, c *credential) *syscall.SysProcAttr {
	if a == nil {
		a = &syscall.SysProcAttr{}
	}
	a.Credential = c
	return a
}

// fileOwner is the user id that owns a file.
func fileOwner(fi os.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
