package addrslot

import "testing"

// Strings allocated one after another spread over the slots: 64 neighbours of 16
// bytes each land in at least 56 of 4096 slots, where the address's low bits alone
// would crowd them.
func TestOfSpreadsNeighbours(t *testing.T) {
	buf := make([]byte, 64*16)
	seen := map[int]bool{}
	for i := 0; i < 64; i++ {
		s := Of(&buf[i*16], 4096)
		if s < 0 || s >= 4096 {
			t.Fatalf("slot %d out of 4096", s)
		}
		seen[s] = true
	}
	if len(seen) < 56 {
		t.Fatalf("64 neighbours share %d slots", len(seen))
	}
	if Of(&buf[0], 4096) != Of(&buf[0], 4096) {
		t.Fatal("one address, two slots")
	}
}
