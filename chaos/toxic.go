package chaos

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/mscli/mscli/plan"
)

// This file holds what the link faults share: a toxiproxy toxic per proxy of the link
// and per direction, and the targets and direction parameter they declare.

// Toxiproxy stream names: upstream carries bytes from the link's "from" end (the
// connecting client) to its "to" end; downstream the answers back.
const (
	upstream   = "upstream"
	downstream = "downstream"
)

// directionParam is the parameter every link fault takes.
var directionParam = plan.Param{Type: plan.ParamEnum, Enum: []string{"both", upstream, downstream}, Default: "both",
	Doc: "which way the fault acts: upstream is from→to, downstream to→from"}

// linkTargets are what a link fault acts on: a toxiproxy proxy. On the local testbed a
// service's database is an SQLite file inside its processes, even for database:
// postgres, so no proxy stands before it.
var linkTargets = []plan.Reach{
	{Role: plan.RoleLink, On: plan.Testbeds},
	{Role: plan.RoleDatabaseLink, On: []string{plan.TestbedDocker},
		Why: "on the local testbed the database is an SQLite file inside the service's processes, with no network path to it"},
}

// msAttr reads a duration parameter into a toxiproxy attribute in milliseconds.
func msAttr(paramName, attr string) func(plan.Fault) (map[string]any, error) {
	return func(f plan.Fault) (map[string]any, error) {
		d, err := f.Args().Duration(paramName)
		if err != nil {
			return nil, err
		}
		return map[string]any{attr: d.Milliseconds()}, nil
	}
}

// streams maps the direction parameter to toxiproxy streams.
func streams(f plan.Fault) ([]string, error) {
	switch d := f.Args().Value("direction"); d {
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
	attrs func(plan.Fault) (map[string]any, error)
}

func (t toxicFault) Apply(ctx context.Context, env Env, f plan.Fault) (Heal, error) {
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

func addToxics(ctx context.Context, env Env, f plan.Fault, typ string, dirs []string, attrs map[string]any) (Heal, error) {
	return addToxicsEach(ctx, env, f, typ, dirs, func(Link) map[string]any { return attrs })
}

// addToxicsEach is addToxics with attributes of each proxy's own (a seed per proxy).
func addToxicsEach(ctx context.Context, env Env, f plan.Fault, typ string, dirs []string, attrs func(Link) map[string]any) (Heal, error) {
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
			if err := l.AddToxic(ctx, name, typ, dir, 1, attrs(l)); err != nil {
				return heal, fmt.Errorf("add %s toxic to %s: %w", typ, l.Name(), err)
			}
			done = append(done, added{l, name})
		}
	}
	return heal, nil
}
