package history

import "unsafe"

// hugePage is the size of a huge page on the platforms that have them (x86-64 and
// arm64 with 4 KiB pages).
const hugePage = 2 << 20

// hugeMin is the smallest slice hugePages advises: below it, the faults saved are
// not worth a system call.
const hugeMin = 8 << 20

// hugeRange is the part of [start, start+size) that whole huge pages cover: the
// range hugePages may advise without touching a byte outside the slice's memory.
// Empty (to <= from) when none fits.
func hugeRange(start, size uintptr) (from, to uintptr) {
	from = (start + hugePage - 1) &^ (hugePage - 1)
	to = (start + size) &^ (hugePage - 1)
	return from, to
}

// hugePages asks the kernel to back the memory of a large slice, made and not yet
// written, with huge pages (see hugepages_linux.go); elsewhere it does nothing.
func hugePages[T any](s []T) {
	var zero T
	size := uintptr(cap(s)) * unsafe.Sizeof(zero)
	if size < hugeMin {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(s))
	from, to := hugeRange(uintptr(p), size)
	if to <= from {
		return
	}
	adviseHuge(unsafe.Slice((*byte)(unsafe.Add(p, from-uintptr(p))), to-from))
}
