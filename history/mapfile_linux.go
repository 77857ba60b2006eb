package history

import (
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the whole of a regular, non-empty file for reading, its pages filled
// in by the call (MAP_POPULATE) rather than one fault at a time.
func mapFile(f *os.File) ([]byte, func() error, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() || st.Size() == 0 || st.Size() > math.MaxInt {
		return nil, nil, errNotMapped
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, nil, err
	}
	return data, func() error { return unix.Munmap(data) }, nil
}
