package hugemem

import (
	"testing"
	"unsafe"
)

func TestHugeRangeStaysInside(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		start, size uintptr
		from, to    uintptr
	}{
		{start: 0, size: 8 * mb, from: 0, to: 8 * mb},
		{start: 1, size: 8 * mb, from: 2 * mb, to: 8 * mb},
		{start: 2*mb - 1, size: 4 * mb, from: 2 * mb, to: 4 * mb},
		{start: 3 * mb, size: 2 * mb, from: 4 * mb, to: 4 * mb}, // no whole page: empty
		{start: 4 * mb, size: 2*mb + 5, from: 4 * mb, to: 6 * mb},
	} {
		from, to := hugeRange(c.start, c.size)
		if from != c.from || to != c.to {
			t.Errorf("hugeRange(%#x, %#x) = [%#x, %#x), want [%#x, %#x)", c.start, c.size, from, to, c.from, c.to)
		}
		if to > from && (from < c.start || to > c.start+c.size || from%hugePage != 0 || to%hugePage != 0) {
			t.Errorf("hugeRange(%#x, %#x) = [%#x, %#x) leaves the slice or a page boundary", c.start, c.size, from, to)
		}
	}
}

// The advice changes how memory is backed, never what it holds: a slice advised
// before it is written reads back what was written, small or large.
func TestAdviseKeepsTheSlice(t *testing.T) {
	for _, n := range []int{0, 1, hugeMin/8 - 1, 3 * hugeMin / 8} {
		s := make([]int64, 0, n)
		Advise(s)
		s = s[:n]
		for i := range s {
			if s[i] != 0 {
				t.Fatalf("cap %d: element %d is %d before it was written", n, i, s[i])
			}
			s[i] = int64(i)
		}
		for i := range s {
			if s[i] != int64(i) {
				t.Fatalf("cap %d: element %d reads %d", n, i, s[i])
			}
		}
		if n > 0 && uintptr(n)*unsafe.Sizeof(s[0]) >= hugeMin {
			t.Logf("cap %d advised (%d MiB)", n, uintptr(n)*8>>20)
		}
	}
}
