package messages

import (
	"slices"
	"testing"

	"github.com/mscli/mscli/plan"
)

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"tele.alert.>", "tele.alert.>", true},
		{">", "tele.alert.>", true},
		{"tele.>", "tele.alert.>", true},
		{"tele.alert.robot-1", "tele.alert.>", true},
		{"*.alert.*", "tele.alert.>", true},
		{"tele.*", "tele.alert.>", false}, // tele.x has no third token
		{"tele.alert", "tele.alert.>", false},
		{"tele.location.>", "tele.alert.>", false},
		{"tele.alert.a.b", "tele.alert.*", false},
		{"tele.alert.a", "tele.alert.*", true},
	} {
		if got := overlap(tc.a, tc.b); got != tc.want {
			t.Errorf("overlap(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := overlap(tc.b, tc.a); got != tc.want {
			t.Errorf("overlap(%q, %q) = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestPick(t *testing.T) {
	var seqs []uint64
	for s := uint64(100); s < 200; s += 2 {
		seqs = append(seqs, s)
	}
	f := plan.Fault{Kind: "drop", Target: "tele.alert", At: plan.Duration(3e9)}
	for _, tc := range []struct {
		ratio float64
		k     int
	}{{0, 0}, {0.1, 5}, {0.25, 13}, {1, 50}} { // round(0.25 × 50) = 13
		got := pick(f, seqs, tc.ratio)
		if len(got) != tc.k || !slices.IsSorted(got) {
			t.Errorf("ratio %v: picked %v, want %d in order", tc.ratio, got, tc.k)
		}
		for i, s := range got {
			if !slices.Contains(seqs, s) || i > 0 && got[i-1] == s {
				t.Errorf("ratio %v: picked %d: not a sequence given, or twice", tc.ratio, s)
			}
		}
		if again := pick(f, seqs, tc.ratio); !slices.Equal(got, again) {
			t.Errorf("ratio %v: two picks differ: %v, %v", tc.ratio, got, again)
		}
	}
	g := f
	g.At += plan.Duration(1e9)
	if slices.Equal(pick(f, seqs, 0.2), pick(g, seqs, 0.2)) {
		t.Error("faults at two times picked the same messages")
	}
}
