package chaos

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/mscli/mscli/scenarios"
)

// Toxiproxy stream names: upstream carries bytes from the link's "from" end (the
// connecting client) to its "to" end; downstream the answers back.
const (
	upstream   = "upstream"
	downstream = "downstream"
)

func init() {
	Register("latency", toxicFault{typ: "latency", attrs: func(f scenarios.Fault) (map[string]any, error) {
		lat, err := durationParam(f, "latency")
		if err != nil {
			return nil, err
		}
		jit, err := durationParam(f, "jitter")
		if err != nil {
			return nil, err
		}
		return map[string]any{"latency": lat.Milliseconds(), "jitter": jit.Milliseconds()}, nil
	}})
	Register("bandwidth", toxicFault{typ: "bandwidth", attrs: func(f scenarios.Fault) (map[string]any, error) {
		v := param(f, "rate")
		rate, err := strconv.ParseInt(v, 10, 64)
		if err != nil || rate < 0 {
			return nil, fmt.Errorf("bandwidth: parameter \"rate\": want KB/s ≥ 0, got %q", v)
		}
		return map[string]any{"rate": rate}, nil
	}})
	Register("timeout", toxicFault{typ: "timeout", attrs: msAttr("timeout", "timeout")})
	Register("reset", toxicFault{typ: "reset_peer", attrs: msAttr("timeout", "timeout")})
	Register("slow-close", toxicFault{typ: "slow_close", attrs: msAttr("delay", "delay")})
	Register("partition", &partition{disabled: map[any]int{}})
}

// msAttr reads a duration parameter into a toxiproxy attribute in milliseconds.
func msAttr(paramName, attr string) func(scenarios.Fault) (map[string]any, error) {
	return func(f scenarios.Fault) (map[string]any, error) {
		d, err := durationParam(f, paramName)
		if err != nil {
			return nil, err
		}
		return map[string]any{attr: d.Milliseconds()}, nil
	}
}

// streams maps the direction parameter to toxiproxy streams.
func streams(f scenarios.Fault) ([]string, error) {
	switch d := param(f, "direction"); d {
	case "", "both":
		return []string{upstream, downstream}, nil
	case upstream, downstream:
		return []string{d}, nil
	default:
		return nil, fmt.Errorf("%s: parameter \"direction\": want both, upstream or downstream, got %q", f.Kind, d)
	}
}

// toxicSeq makes toxic names unique: two faults of one kind may overlap on one link
// and toxiproxy refuses a second toxic with the same name.
var toxicSeq atomic.Int64

// toxicFault adds one toxiproxy toxic per proxy of the link and per direction.
type toxicFault struct {
	typ   string
	attrs func(scenarios.Fault) (map[string]any, error)
}

func (t toxicFault) Apply(ctx context.Context, env Env, f scenarios.Fault) (Heal, error) {
	attrs, err := t.attrs(f)
	if err != nil {
		return nil, err
	}
	dirs, err := streams(f)
	if err != nil {
		return nil, err
	}
	return addToxics(ctx, env, f, t.typ, dirs, attrs)
}

func addToxics(ctx context.Context, env Env, f scenarios.Fault, typ string, dirs []string, attrs map[string]any) (Heal, error) {
	links, err := env.Links(f.Target)
	if err != nil {
		return nil, err
	}
	type added struct {
		link Link
		name string
	}
	var done []added
	heal := func(ctx context.Context) error {
		var errs []error
		for _, a := range done {
			if err := a.link.RemoveToxic(ctx, a.name); err != nil {
				errs = append(errs, fmt.Errorf("remove toxic %q from %s: %w", a.name, a.link.Name(), err))
			}
		}
		return errors.Join(errs...)
	}
	base := fmt.Sprintf("mscli-%s-%d", f.Kind, toxicSeq.Add(1))
	for _, l := range links {
		for _, dir := range dirs {
			name := base + "-" + dir
			if err := l.AddToxic(ctx, name, typ, dir, 1, attrs); err != nil {
				return heal, fmt.Errorf("add %s toxic to %s: %w", typ, l.Name(), err)
			}
			done = append(done, added{l, name})
		}
	}
	return heal, nil
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

func (p *partition) Apply(ctx context.Context, env Env, f scenarios.Fault) (Heal, error) {
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
