//go:build unix && !linux

package local

import "syscall"

// sysProcAttr puts a child in its own process group. Without Linux's Pdeathsig a child
// outlives a crashed mscli; Clean finds it through the run's pid file.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
