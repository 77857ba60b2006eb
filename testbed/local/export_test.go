package local

// For the tests: what /proc says of a process.
var (
	Descendants = procDescendants
	Gone        = procGone
)

// Stopped reports whether every thread of a process is stopped.
func Stopped(pid int) bool {
	ok, err := procStopped(pid)
	return err == nil && ok
}

// SetFreeAddr replaces how a user's service replica's port is picked, until restore.
func SetFreeAddr(f func() (string, error)) (restore func()) {
	old := freeAddr
	freeAddr = f
	return func() { freeAddr = old }
}
