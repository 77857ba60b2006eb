package invariants

import "testing"

func TestByVerdict(t *testing.T) {
	for v, want := range map[Verdict]string{Pass: "p", Fail: "f", Unknown: "u", "": "u", "bogus": "u"} {
		if got := ByVerdict(v, "p", "f", "u"); got != want {
			t.Errorf("ByVerdict(%q) = %q, want %q", v, got, want)
		}
	}
}
