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
