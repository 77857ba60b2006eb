// Package hugemem asks the kernel for huge pages under the large slices a check
// fills: a loaded run and its index are a gigabyte at a million operations, and
// faulting that in 4 KiB at a time was a third of loading it.
package hugemem

import "unsafe"

// hugePage is the size of a huge page on the platforms that have them (x86-64 and
// arm64 with 4 KiB pages).
const hugePage = 2 << 20

// hugeMin is the smallest slice Advise advises: below it, the faults saved are
// not worth a system call.
const hugeMin = 8 << 20

// hugeRange is the part of [start, start+size) that whole huge pages cover: the
// range Advise may advise without touching a byte outside the slice's memory.
// Empty (to <= from) when none fits.
func hugeRange(start, size uintptr) (from, to uintptr) {
	from = (start + hugePage - 1) &^ (hugePage - 1)
	to = (start + size) &^ (hugePage - 1)
	return from, to
}

// Advise asks the kernel to back the memory of a large slice, made and not yet
// written, with huge pages (see hugemem_linux.go); elsewhere it does nothing. It
// changes how the memory is backed, never what it holds.
func Advise[T any](s []T) {
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
