package history

import (
	"fmt"
	"strings"
	"testing"
)

// TestStrArena: every string comes back as added, the empty one included, and a
// string given back before the arena grew still reads the same after.
func TestStrArena(t *testing.T) {
	var a strArena
	var want []string
	var early []string // given back before the growths below
	long := 0
	for i := range 5000 {
		s := fmt.Sprintf("id-%d", i)
		switch {
		case i%7 == 0:
			s = ""
		case i%7 == 3:
			s = strings.Repeat("x", i*10) // some end chunks, some fill them to the byte
		case i%1000 == 1:
			s = strings.Repeat("long", arenaChunk/4+i) // longer than a chunk
			long++
		}
		buf := []byte(s)
		n, ok := a.add(buf)
		if !ok || int(n) != len(want) {
			t.Fatalf("add(%q) = %d, %v; want %d", s, n, ok, len(want))
		}
		for j := range buf {
			buf[j] = '!' // the caller's bytes change; the arena's copy must not
		}
		want = append(want, s)
		if i < 50 {
			early = append(early, a.at(n))
		}
	}
	if a.len() != len(want) || len(a.chunks) < 3 || len(a.long) != long || long == 0 {
		t.Fatalf("%d strings in %d chunks and %d long; want %d in several chunks and %d long", a.len(), len(a.chunks), len(a.long), len(want), long)
	}
	for n, s := range want {
		if got := a.at(int32(n)); got != s {
			t.Fatalf("at(%d) = %q, want %q", n, got, s)
		}
	}
	for n, s := range early {
		if s != want[n] {
			t.Fatalf("string %d given back early reads %q now, want %q", n, s, want[n])
		}
	}
}
