//go:build !unix

package testbed

import "os"

// tryLock: no lock between processes here; the port's check before a lease is all.
func tryLock(*os.File) bool { return true }
