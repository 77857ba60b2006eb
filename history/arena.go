package history

import (
	"math"
	"unsafe"
)

// strArena keeps strings end to end in chunks of bytes, numbered from 0 in the order
// added: 4 bytes a string beside its own bytes, where a []string of copies spends 16
// and an allocation, rounded up to its size class, each (a million ids of ten
// characters: 14 MB, not 32). The chunks are never grown by copying, which would
// leave the arena's size again in garbage behind a large load. A string it gives back
// is a view of its bytes, which never change once added.
type strArena struct {
	// chunks hold the bytes at offsets [k·arenaChunk, (k+1)·arenaChunk) of the
	// arena, chunk k at chunks[k]; a string never spans two: one that does not fit in
	// the last chunk's rest starts the next.
	chunks [][]byte
	ends   []uint32 // string n's bytes end at offset ends[n] and start at ends[n-1] (0 for n = 0) or at its chunk's start
	// long are the strings longer than a chunk, by number (none of them in chunks).
	long map[int32]string
}

const arenaChunk = 1 << 20

func (a *strArena) len() int { return len(a.ends) }

// at is string n.
func (a *strArena) at(n int32) string {
	end, start := a.ends[n], uint32(0)
	if n > 0 {
		start = a.ends[n-1]
	}
	if end == start {
		if a.long != nil {
			return a.long[n]
		}
		return ""
	}
	k := (end - 1) / arenaChunk
	start = max(start, k*arenaChunk)
	return unsafe.String(&a.chunks[k][start-k*arenaChunk], end-start)
}

// add keeps a copy of s and returns its number; false when the arena would pass 4 GiB
// (or 2³¹ strings), which its 32-bit numbers cannot count.
func (a *strArena) add(s []byte) (int32, bool) {
	used := uint64(0)
	if k := len(a.chunks); k > 0 {
		used = uint64(k-1)*arenaChunk + uint64(len(a.chunks[k-1]))
	}
	switch {
	case len(a.ends) == math.MaxInt32 || used+2*arenaChunk > math.MaxUint32:
		return 0, false
	case len(s) > arenaChunk:
		if a.long == nil {
			a.long = map[int32]string{}
		}
		a.long[int32(len(a.ends))] = string(s)
	case len(s) > 0:
		k := len(a.chunks) - 1
		if k < 0 || len(a.chunks[k])+len(s) > arenaChunk {
			// The first chunk starts small and grows (a run of ten operations needs
			// no megabyte); the others are made whole.
			c := arenaChunk
			if k < 0 {
				c = 4 << 10
			}
			a.chunks = append(a.chunks, make([]byte, 0, c))
			k++
		}
		a.chunks[k] = append(a.chunks[k], s...)
		used = uint64(k)*arenaChunk + uint64(len(a.chunks[k]))
	}
	a.ends = append(doubled(a.ends, 1), uint32(used))
	return int32(len(a.ends) - 1), true
}

// doubled is s with room for more elements after its end: the same slice when it has
// it, else a copy with twice the room. append grows a large slice by a quarter at a
// time, which leaves several times its size behind in copies.
func doubled[T any](s []T, more int) []T {
	if cap(s)-len(s) >= more {
		return s
	}
	g := make([]T, len(s), max(2*cap(s), len(s)+more, 1024))
	copy(g, s)
	return g
}
