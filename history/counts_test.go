package history

import "testing"

func TestCounts(t *testing.T) {
	var c Counts
	for _, tc := range []struct {
		t          OpType
		completion bool
	}{
		{Invoke, false}, {Ok, true}, {Invoke, false}, {Fail, true}, {Invoke, false},
		{Info, true}, {Invoke, false}, {Invoke, false}, {Ok, true}, {"bogus", false},
	} {
		if got := c.Add(tc.t); got != tc.completion {
			t.Errorf("Add(%q) = %v, want %v", tc.t, got, tc.completion)
		}
	}
	if want := (Counts{Invoked: 5, Ok: 2, Fail: 1, Info: 1}); c != want {
		t.Fatalf("counts = %+v, want %+v (an unknown type is not counted)", c, want)
	}
	if c.Completed() != 4 || c.Errors() != 2 || c.InFlight() != 1 {
		t.Fatalf("Completed, Errors, InFlight = %d, %d, %d; want 4, 2, 1", c.Completed(), c.Errors(), c.InFlight())
	}
	if got, want := c.Plus(Counts{Invoked: 1, Ok: 1, Fail: 2, Info: 3}), (Counts{Invoked: 6, Ok: 3, Fail: 3, Info: 4}); got != want {
		t.Fatalf("Plus = %+v, want %+v", got, want)
	}
}
