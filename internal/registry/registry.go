// Package registry is the one shape of mscli's plug-in registries (fault kinds,
// fixtures, workload kinds, invariants, testbeds, checkers): names to values, filled
// in init and read from anywhere. It imports nothing of the module, so the plan, a
// leaf, can hold its declarations in it.
package registry

import (
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Registry maps names to values. It is safe for concurrent use; create one with New.
type Registry[T any] struct {
	what  string
	mu    sync.RWMutex
	m     map[string]T
	order []string
}

// New returns an empty registry. what names it in the panics of Register, prefixed as
// the owning package's messages are: "plan: fault kind".
func New[T any](what string) *Registry[T] {
	return &Registry[T]{what: what, m: map[string]T{}}
}

// Register adds v under name. It panics when name is empty or taken, or v is a nil
// interface, as registrations happen in init and a clash is a bug: "<what> needs a
// name", "<what> <name> registered twice", "<what> <name> is nil".
func (r *Registry[T]) Register(name string, v T) { r.RegisterWith(name, v, nil) }

// RegisterWith is Register for a value declared elsewhere too (a fault kind's
// implementation, declared in the plan): once name and v pass Register's checks, it
// calls declare, under the registry's lock, before it adds v, so a declaration that
// panics adds nothing and two registrations of a name never interleave. A nil declare
// is Register.
func (r *Registry[T]) RegisterWith(name string, v T, declare func()) {
	if name == "" {
		panic(r.what + " needs a name")
	}
	if any(v) == nil {
		panic(fmt.Sprintf("%s %s is nil", r.what, name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[name]; dup {
		panic(fmt.Sprintf("%s %s registered twice", r.what, name))
	}
	if declare != nil {
		declare()
	}
	r.m[name] = v
	r.order = append(r.order, name)
}

// Lookup returns the value registered under name.
func (r *Registry[T]) Lookup(name string) (T, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.m[name]
	return v, ok
}

// Names lists the registered names, sorted.
func (r *Registry[T]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Sorted(maps.Keys(r.m))
}

// Values lists the registered values in the order of their names.
func (r *Registry[T]) Values() []T {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]T, 0, len(r.m))
	for _, name := range slices.Sorted(maps.Keys(r.m)) {
		out = append(out, r.m[name])
	}
	return out
}

// Ordered lists the registered names in the order they registered.
func (r *Registry[T]) Ordered() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.order)
}
