package runner

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/testbed"
)

// fakeTestbed is registered by this test binary only, ahead of every real testbed for
// auto, but available only while fakeAvailable is set, so auto otherwise sees the real
// ones.
const fakeTestbed = "fake"

// testOnly says whether a testbed was registered by this package's tests (this file's
// fake, the extension test's ext-fake).
func testOnly(name string) bool { return name == fakeTestbed || name == "ext-fake" }

var (
	fakeAvailable atomic.Bool
	fakeUps       atomic.Int32
	fakeFails     atomic.Bool // Up starts nothing and fails
)

type fakeSystem struct{}

func (fakeSystem) Links(string) ([]testbed.Link, error) { return nil, nil }
func (fakeSystem) Nodes(string) ([]testbed.Node, error) { return nil, nil }
func (fakeSystem) BrokerURL() string                    { return "nats://fake" }
func (fakeSystem) Endpoints(string) []string            { return []string{"http://fake"} }
func (fakeSystem) ObserveURLs(string) []string          { return nil }
func (fakeSystem) DatabaseURL(string) string            { return "" }
func (fakeSystem) HostAddr(string, int) string          { return "" }
func (fakeSystem) Down(context.Context) error           { return nil }

func init() {
	testbed.Register(testbed.Testbed{
		Name: fakeTestbed,
		Up: func(context.Context, *plan.Plan, testbed.Options) (testbed.System, error) {
			fakeUps.Add(1)
			if fakeFails.Load() {
				return nil, errors.New("fake: no room")
			}
			return fakeSystem{}, nil
		},
		Available: func(context.Context) (string, error) {
			if !fakeAvailable.Load() {
				return "", errors.New("switched off")
			}
			return "testbed: fake (the test says so)", nil
		},
		Priority: 1 << 20,
	})
}

func TestPickTestbedRegistered(t *testing.T) {
	if _, ok := testbed.Lookup(fakeTestbed); !ok {
		t.Fatal("Lookup does not find the fake testbed")
	}
	if !slices.Contains(testbed.Names(), fakeTestbed) {
		t.Fatalf("Names() = %v, without the fake testbed", testbed.Names())
	}
	name, tb, why, err := PickTestbed(fakeTestbed)
	if name != fakeTestbed || tb == nil || why != "testbed: fake" || err != nil {
		t.Fatalf("PickTestbed(fake) = %q, %v, %q, %v", name, tb, why, err)
	}
	before := fakeUps.Load()
	sys, err := tb(context.Background(), &plan.Plan{}, testbed.Options{})
	if err != nil || sys == nil || fakeUps.Load() != before+1 {
		t.Fatalf("the picked testbed returned %v, %v; fake Up called %d times, want 1", sys, err, fakeUps.Load()-before)
	}
	if got := sys.Endpoints("bank"); !slices.Equal(got, []string{"http://fake"}) {
		t.Fatalf("system's endpoints %v, want the fake's", got)
	}

	// A testbed that started nothing gives a nil System, not a typed nil.
	fakeFails.Store(true)
	defer fakeFails.Store(false)
	if sys, err := tb(context.Background(), &plan.Plan{}, testbed.Options{}); sys != nil || err == nil {
		t.Fatalf("a failed Up returned %v, %v; want nil and its error", sys, err)
	}
}

// auto takes the available testbed of highest priority, and says its line.
func TestPickTestbedAuto(t *testing.T) {
	fakeAvailable.Store(true)
	defer fakeAvailable.Store(false)
	name, tb, why, err := PickTestbed("auto")
	if name != fakeTestbed || tb == nil || why != "testbed: fake (the test says so)" || err != nil {
		t.Fatalf("PickTestbed(auto) = %q, %v, %q, %v; want the fake testbed", name, tb, why, err)
	}
}

func TestPickTestbedUnknown(t *testing.T) {
	_, tb, _, err := PickTestbed("nope")
	if tb != nil || CodeOf(err) != ExitInvalidInput {
		t.Fatalf("PickTestbed(nope) = %v, %v; want invalid input", tb, err)
	}
	if want := `unknown testbed "nope": want auto or one of docker, ext-fake, fake, local`; err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}

// The testbeds the fault kinds declare reach for are the registered ones, each one
// usable by run and clean.
func TestPlanTestbedsRegistered(t *testing.T) {
	for _, name := range plan.Testbeds {
		tb, ok := testbed.Lookup(name)
		if !ok {
			t.Errorf("plan.Testbeds names %q, which is not a registered testbed (%v)", name, testbed.Names())
			continue
		}
		if tb.Doc == "" || tb.Clean == nil || tb.Cleaned == "" {
			t.Errorf("testbed %s lacks a Doc, a Clean or its Cleaned summary", name)
		}
	}
	for _, name := range testbed.Names() {
		if !testOnly(name) && !slices.Contains(plan.Testbeds, name) {
			t.Errorf("testbed %s is registered but not in plan.Testbeds: fault kinds cannot say whether they act there", name)
		}
	}
}

// auto tries docker before local, and local's line is the fallback's.
func TestAutoOrder(t *testing.T) {
	var order []string
	for _, tb := range testbed.All() {
		if !testOnly(tb.Name) {
			order = append(order, tb.Name)
		}
	}
	if want := []string{plan.TestbedDocker, plan.TestbedLocal}; !slices.Equal(order, want) {
		t.Fatalf("auto tries %v, want %v", order, want)
	}
	local, _ := testbed.Lookup(plan.TestbedLocal)
	if why, err := local.Available(context.Background()); err != nil || why != "testbed: local (no Docker engine answers; child processes on 127.0.0.1)" {
		t.Fatalf("local's Available = %q, %v", why, err)
	}
}
