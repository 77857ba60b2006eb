//go:build !unix

package local

import (
	"os"
	"syscall"
)

// The local testbed freezes, kills and groups processes with Unix signals and process
// groups; elsewhere it reports that it cannot run rather than half-work.
const supported = false

func sysProcAttr() *syscall.SysProcAttr { return nil }

func signalGroup(int, syscall.Signal) error { return errUnsupported }

var (
	sigKill = syscall.Signal(9)
	sigTerm = syscall.Signal(15)
	sigInt  = syscall.Signal(2)
	sigStop = syscall.Signal(19)
	sigCont = syscall.Signal(18)
)

func signalPid(int) error { return errUnsupported }

type credential struct{ Uid, Gid uint32 }

func withUser(a *syscall.SysProcAttr, _ *credential) *syscall.SysProcAttr { return a }

func fileOwner(os.FileInfo) (int, bool) { return 0, false }
