package registry

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestRegisterLookupNamesOrdered(t *testing.T) {
	r := New[int]("test: thing")
	if got, vals := r.Names(), r.Values(); len(got) != 0 || len(vals) != 0 {
		t.Fatalf("Names(), Values() of an empty registry = %v, %v", got, vals)
	}
	if v, ok := r.Lookup("a"); ok || v != 0 {
		t.Fatalf("Lookup(a) in an empty registry = %v, %v", v, ok)
	}
	r.Register("b", 2)
	r.Register("c", 3)
	r.Register("a", 1)
	if got, want := r.Names(), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v (sorted)", got, want)
	}
	if got, want := r.Ordered(), []string{"b", "c", "a"}; !slices.Equal(got, want) {
		t.Fatalf("Ordered() = %v, want %v (registration order)", got, want)
	}
	if got, want := r.Values(), []int{1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("Values() = %v, want %v (in the order of their names)", got, want)
	}
	if v, ok := r.Lookup("c"); !ok || v != 3 {
		t.Fatalf("Lookup(c) = %v, %v; want 3, true", v, ok)
	}
	if _, ok := r.Lookup("d"); ok {
		t.Fatal("Lookup(d) found a value")
	}
	// The lists are copies: changing one changes nothing registered.
	r.Names()[0], r.Ordered()[0] = "x", "x"
	if r.Names()[0] != "a" || r.Ordered()[0] != "b" {
		t.Fatal("a caller changed the registry through a returned list")
	}
}

func TestRegisterRefuses(t *testing.T) {
	r := New[string]("test: thing")
	r.Register("taken", "first")
	for _, tc := range []struct{ name, want string }{
		{"", "test: thing needs a name"},
		{"taken", "test: thing taken registered twice"},
	} {
		func() {
			defer func() {
				if got := recover(); got != tc.want {
					t.Errorf("Register(%q) panicked with %v, want %q", tc.name, got, tc.want)
				}
			}()
			r.Register(tc.name, "second")
		}()
	}
	if v, _ := r.Lookup("taken"); v != "first" {
		t.Fatalf("a refused registration replaced the value: %q", v)
	}
	if got := r.Ordered(); !slices.Equal(got, []string{"taken"}) {
		t.Fatalf("Ordered() = %v after refusals", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	r := New[int]("test: thing")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			r.Register(fmt.Sprintf("n%d", i), i)
			r.Names()
			r.Ordered()
			r.Lookup("n0")
		})
	}
	wg.Wait()
	if got := r.Names(); len(got) != 8 || !strings.HasPrefix(got[0], "n") {
		t.Fatalf("Names() = %v, want 8 names", got)
	}
}

func TestRegisterRefusesNilInterface(t *testing.T) {
	r := New[fmt.Stringer]("test: stringer")
	defer func() {
		if got, want := recover(), "test: stringer s is nil"; got != want {
			t.Fatalf("Register(nil) panicked with %v, want %q", got, want)
		}
		if _, ok := r.Lookup("s"); ok {
			t.Fatal("a nil value was registered")
		}
	}()
	r.Register("s", nil)
}

// Only a nil interface is refused: a func or pointer type's nil is a value like any other.
func TestRegisterTakesNilOfOtherTypes(t *testing.T) {
	r := New[func()]("test: func")
	r.Register("f", nil)
	if _, ok := r.Lookup("f"); !ok {
		t.Fatal("a nil func was refused")
	}
}

// RegisterWith declares after its own checks and before it adds: a declaration that
// panics adds nothing, and a name that is taken declares nothing.
func TestRegisterWith(t *testing.T) {
	r := New[int]("test: thing")
	var declared []string
	declare := func(name string) func() { return func() { declared = append(declared, name) } }
	r.RegisterWith("a", 1, declare("a"))
	if v, ok := r.Lookup("a"); !ok || v != 1 || !slices.Equal(declared, []string{"a"}) {
		t.Fatalf("after RegisterWith(a): Lookup = %v, %v; declared %v", v, ok, declared)
	}

	func() {
		defer func() {
			if got := recover(); got != "test: thing a registered twice" {
				t.Errorf("RegisterWith(a) again panicked with %v", got)
			}
		}()
		r.RegisterWith("a", 2, declare("a again"))
	}()
	if !slices.Equal(declared, []string{"a"}) {
		t.Fatalf("a taken name was declared: %v", declared)
	}

	func() {
		defer func() {
			if got := recover(); got != "declaration refused" {
				t.Errorf("RegisterWith(b) panicked with %v, want the declaration's panic", got)
			}
		}()
		r.RegisterWith("b", 2, func() { panic("declaration refused") })
	}()
	if _, ok := r.Lookup("b"); ok {
		t.Fatal("a value whose declaration panicked was added")
	}
	r.RegisterWith("b", 3, nil) // the lock was released; a nil declare is Register
	if got := r.Ordered(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Ordered() = %v", got)
	}
}
