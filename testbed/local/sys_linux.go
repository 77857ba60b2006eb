package local

import "syscall"

// sysProcAttr puts a child in its own process group — it and anything it spawns are
// signalled together, and a ^C at the terminal reaches mscli alone, which then stops
// the nodes in order — and asks the kernel to SIGKILL it if mscli dies, so a crashed
// or kill -9'd mscli leaves no fixture behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
