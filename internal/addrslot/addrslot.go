// Package addrslot places a string in a small cache by the address of its bytes: the
// caches in front of the tables that number a run's names and ids, which an
// interning decoder hands the same copy of each time.
package addrslot

import (
	"math/bits"
	"unsafe"
)

// Of is the slot of a cache of n slots (a power of two) for the string whose bytes
// start at p: the address's bits mixed (Fibonacci hashing), so that strings allocated
// next to each other do not crowd a few slots.
func Of(p *byte, n int) int {
	return int(uint64(uintptr(unsafe.Pointer(p))) * 0x9E3779B97F4A7C15 >> (64 - bits.TrailingZeros(uint(n))))
}
