package history

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"unsafe"
)

// errNotMapped says a file is read with read(2), not mapped: an empty file, one that
// is not regular (a pipe), or a platform where mapfile_linux.go does not build.
var errNotMapped = errors.New("not mapped")

// eachMapped is eachLine over a whole file mapped into memory: the lines are handed
// out of the mapping, never copied. A large run's files were read twice through
// read(2), once to count their lines and once to decode them, and the copies were a
// sixth of loading them; mapped, counting the lines reads the same pages the decoder
// then reads. each must not keep a line past its call (eachLine's buffer is reused
// too). A file cut shorter while it is mapped makes the reads past its new end fault:
// that is an error naming the file's change, not a crash.
func eachMapped(data []byte, each func([]byte) error) error {
	return guarded(data, func() error { return eachLineIn(data, each) })
}

// guarded runs read, which reads the mapping data, turning a fault inside the mapping
// (the file cut shorter) into an error. Any other panic, a fault elsewhere (a nil
// pointer in the decoder) among them, goes on as it was.
func guarded(data []byte, read func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			f, fault := r.(interface{ Addr() uintptr })
			start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
			if !fault || f.Addr() < start || f.Addr()-start >= uintptr(len(data)) {
				panic(r)
			}
			err = errors.New("the file was cut shorter while it was read")
		}
	}()
	return read()
}

// eachLineIn hands every line of data but blank ones to each, as eachLine does for a
// reader: a trailing carriage return dropped, the same errors (a *TornLine for a last
// line without a newline that does not decode), the same bound on a line's length.
func eachLineIn(data []byte, each func([]byte) error) error {
	line := 0
	for len(data) > 0 {
		line++
		var b []byte
		n := bytes.IndexByte(data, '\n')
		unterminated := n < 0
		if unterminated {
			b, data = data, nil
		} else {
			b, data = data[:n], data[n+1:]
		}
		// bufio.Scanner's buffer of maxLine holds a line shorter than it, and its
		// newline.
		if len(b) >= maxLine {
			return fmt.Errorf("line %d: longer than %d MiB, the most a record may be", line, maxLine>>20)
		}
		if k := len(b); k > 0 && b[k-1] == '\r' {
			b = b[:k-1]
		}
		if err := handOut(each, b, line, unterminated); err != nil {
			return err
		}
	}
	return nil
}

// countIn counts the newlines of data a megabyte at a time: bytes.Count over a
// whole file is one call the runtime cannot stop, and a collection started beside it
// (the other file's decoder allocating its records) held every goroutine for as long
// as the count took, 12–14 ms in a large load.
func countIn(data []byte) int {
	n := 0
	for len(data) > 0 {
		k := min(len(data), 1<<20)
		n += bytes.Count(data[:k], []byte{'\n'})
		data = data[k:]
	}
	return n
}

// fileLines is an open record file and the count of its lines (an upper bound of its
// records), read either from a mapping of the whole file or through read(2).
type fileLines struct {
	f     *os.File
	data  []byte       // the mapping; nil when read through read(2)
	unmap func() error // releases data
	lines int
}

func openLines(path string) (*fileLines, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fl := &fileLines{f: f}
	if data, unmap, err := mapFile(f); err == nil {
		fl.data, fl.unmap = data, unmap
		if err := guarded(data, func() error { fl.lines = countIn(data) + 1; return nil }); err != nil {
			fl.close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return fl, nil
	}
	// Counting the lines first costs a read of the file and saves growing the records
	// by copies, which for a moment doubled the memory of a large load.
	if fl.lines, err = countLines(f); err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fl, nil
}

func (fl *fileLines) each(each func([]byte) error) error {
	if fl.data != nil {
		return eachMapped(fl.data, each)
	}
	return eachLine(fl.f, each)
}

func (fl *fileLines) close() {
	if fl.unmap != nil {
		fl.unmap()
	}
	fl.f.Close()
}
