package chaos

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/mscli/mscli/plan"
)

// The proxies disabled, or a toxic that holds one direction.
func init() {
	Register(plan.FaultKind{Name: "partition", Target: plan.TargetLink, Window: true,
		Doc: "cut the link: refuse new connections and drop existing ones (both ways), or black-hole one direction",
		Params: map[string]plan.Param{
			"direction": directionParam,
		}, Acts: linkTargets}, &partition{disabled: map[any]int{}})
}

// partition cuts a link. Both ways it disables the proxies, which refuses new
// connections and drops existing ones, as a real partition eventually does to TCP.
// One way it black-holes that stream with a timeout toxic that never closes.
//
// Overlapping partitions of one link are counted, so the first heal does not reconnect
// a link another partition still holds cut.
type partition struct {
	mu       sync.Mutex
	disabled map[any]int
}

func (p *partition) Apply(ctx context.Context, env Env, f plan.Fault) (Heal, error) {
	dirs, err := streams(f)
	if err != nil {
		return nil, err
	}
	if len(dirs) == 1 {
		return addToxics(ctx, env, f, "timeout", dirs, map[string]any{"timeout": int64(0)})
	}
	links, err := env.Links(f.Target)
	if err != nil {
		return nil, err
	}
	var cut []Link
	heal := func(ctx context.Context) error {
		var errs []error
		for _, l := range cut {
			if err := p.release(ctx, l); err != nil {
				errs = append(errs, fmt.Errorf("enable %s: %w", l.Name(), err))
			}
		}
		return errors.Join(errs...)
	}
	for _, l := range links {
		if err := p.hold(ctx, l); err != nil {
			return heal, fmt.Errorf("disable %s: %w", l.Name(), err)
		}
		cut = append(cut, l)
	}
	return heal, nil
}

func (p *partition) hold(ctx context.Context, l Link) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := linkKey(l)
	if p.disabled[k] == 0 {
		if err := l.SetEnabled(ctx, false); err != nil {
			return err
		}
	}
	p.disabled[k]++
	return nil
}

func (p *partition) release(ctx context.Context, l Link) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := linkKey(l)
	if p.disabled[k]--; p.disabled[k] > 0 {
		return nil
	}
	delete(p.disabled, k)
	return l.SetEnabled(ctx, true)
}

// linkKey identifies a link across calls: the value itself when it is comparable (a
// pointer), else its name, rather than panicking on a map key.
func linkKey(l Link) any {
	if reflect.TypeOf(l).Comparable() {
		return l
	}
	return "name:" + l.Name()
}
