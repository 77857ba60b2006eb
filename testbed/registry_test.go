package testbed

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mscli/mscli/internal/registry"
	"github.com/mscli/mscli/plan"
)

// emptyRegistry swaps the registry for an empty one for the test's duration.
func emptyRegistry(t *testing.T) {
	t.Helper()
	saved := testbeds
	testbeds = registry.New[Testbed]("testbed: testbed")
	t.Cleanup(func() { testbeds = saved })
}

type fakeSystem struct{}

func (*fakeSystem) Links(string) ([]Link, error) { return nil, nil }
func (*fakeSystem) Nodes(string) ([]Node, error) { return nil, nil }
func (*fakeSystem) BrokerURL() string            { return "nats://fake" }
func (*fakeSystem) Endpoints(string) []string    { return nil }
func (*fakeSystem) ObserveURLs(string) []string  { return nil }
func (*fakeSystem) DatabaseURL(string) string    { return "" }
func (*fakeSystem) HostAddr(string, int) string  { return "" }
func (*fakeSystem) Down(context.Context) error   { return nil }

func upFake(ups *int) func(context.Context, *plan.Plan, Options) (System, error) {
	return func(context.Context, *plan.Plan, Options) (System, error) {
		*ups++
		return &fakeSystem{}, nil
	}
}

func TestRegisterLookupNames(t *testing.T) {
	emptyRegistry(t)
	var ups int
	Register(Testbed{Name: "fake", Doc: "a test's", Up: upFake(&ups)})
	Register(Testbed{Name: "another", Up: upFake(new(int))})
	if got, want := Names(), []string{"another", "fake"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	tb, ok := Lookup("fake")
	if !ok || tb.Name != "fake" || tb.Doc != "a test's" {
		t.Fatalf("Lookup(fake) = %+v, %v", tb, ok)
	}
	sys, err := tb.Up(context.Background(), &plan.Plan{}, Options{})
	if err != nil || sys == nil || sys.BrokerURL() != "nats://fake" || ups != 1 {
		t.Fatalf("Up = %v, %v after %d calls; want the fake system after 1", sys, err, ups)
	}
	if _, ok := Lookup("nope"); ok {
		t.Fatal("Lookup(nope) found a testbed")
	}
}

func TestRegisterRefuses(t *testing.T) {
	emptyRegistry(t)
	up := upFake(new(int))
	Register(Testbed{Name: "taken", Up: up})
	for _, tc := range []struct {
		name string
		tb   Testbed
		want string
	}{
		{"no name", Testbed{Up: up}, "needs a name"},
		{"auto", Testbed{Name: "auto", Up: up}, `"auto"`},
		{"no Up", Testbed{Name: "idle"}, "has no Up"},
		{"twice", Testbed{Name: "taken", Up: up}, "registered twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) {
					t.Fatalf("Register panicked with %v, want one containing %q", r, tc.want)
				}
			}()
			Register(tc.tb)
		})
	}
}

// Auto asks the testbeds from the highest priority down and takes the first available
// one, with its line; a nil Available is always available.
func TestAuto(t *testing.T) {
	emptyRegistry(t)
	ctx := context.Background()
	if _, _, err := Auto(ctx); err == nil {
		t.Fatal("Auto with no testbed registered: no error")
	}
	highUp, midUp := errors.New("no engine"), error(nil)
	var asked []string
	Register(Testbed{Name: "low", Priority: 1, Up: upFake(new(int))})
	Register(Testbed{Name: "high", Priority: 3, Up: upFake(new(int)), Available: func(context.Context) (string, error) {
		asked = append(asked, "high")
		return "", highUp
	}})
	Register(Testbed{Name: "mid", Priority: 2, Up: upFake(new(int)), Available: func(context.Context) (string, error) {
		asked = append(asked, "mid")
		return "testbed: mid (because)", midUp
	}})
	Register(Testbed{Name: "also-mid", Priority: 2, Up: upFake(new(int)), Available: func(context.Context) (string, error) {
		asked = append(asked, "also-mid")
		return "", errors.New("not here")
	}})
	var order []string
	for _, tb := range All() {
		order = append(order, tb.Name)
	}
	if want := []string{"high", "also-mid", "mid", "low"}; !slices.Equal(order, want) {
		t.Fatalf("All() in order %v, want %v", order, want)
	}

	name, why, err := Auto(ctx)
	if name != "mid" || why != "testbed: mid (because)" || err != nil {
		t.Fatalf("Auto() = %q, %q, %v; want mid with its line", name, why, err)
	}
	if want := []string{"high", "also-mid", "mid"}; !slices.Equal(asked, want) {
		t.Fatalf("Auto asked %v, want %v", asked, want)
	}

	midUp = errors.New("down too")
	if name, why, err := Auto(ctx); name != "low" || why != "testbed: low" || err != nil {
		t.Fatalf("Auto() = %q, %q, %v; want low, always available", name, why, err)
	}

	highUp = nil // available, but says nothing: auto says the name
	if name, why, err := Auto(ctx); name != "high" || why != "testbed: high" || err != nil {
		t.Fatalf("Auto() = %q, %q, %v; want high", name, why, err)
	}
}

func TestAutoNoneAvailable(t *testing.T) {
	emptyRegistry(t)
	Register(Testbed{Name: "gone", Up: upFake(new(int)), Available: func(context.Context) (string, error) {
		return "", errors.New("no engine answers")
	}})
	name, _, err := Auto(context.Background())
	if name != "" || err == nil || !strings.Contains(err.Error(), "gone: no engine answers") {
		t.Fatalf("Auto() = %q, %v; want an error naming gone and why", name, err)
	}
}

// UpOf turns a nil *Env into a nil System, never a typed nil, and passes the error on.
func TestUpOf(t *testing.T) {
	ctx, boom := context.Background(), errors.New("half started")
	up := UpOf(func(context.Context, *plan.Plan, Options) (*fakeSystem, error) { return nil, boom })
	if sys, err := up(ctx, &plan.Plan{}, Options{}); sys != nil || err != boom {
		t.Fatalf("UpOf(nil env) = %#v, %v; want a nil System and the error", sys, err)
	}
	env := &fakeSystem{}
	up = UpOf(func(context.Context, *plan.Plan, Options) (*fakeSystem, error) { return env, boom })
	if sys, err := up(ctx, &plan.Plan{}, Options{}); sys != System(env) || err != boom {
		t.Fatalf("UpOf(env) = %#v, %v; want the env and the error", sys, err)
	}
}
