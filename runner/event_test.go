package runner

import (
	"bytes"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/testbed"
)

// The testbed's events become the run's with their typed fields: image steps in the
// images phase, node events with their node and state, and everything from the moment
// the testbed is brought down in the down phase.
func TestTestbedEventsBecomeRunEvents(t *testing.T) {
	var got []Event
	o := &Options{Progress: func(e Event) { got = append(got, e) }}
	var down atomic.Bool
	tb := testbed.Options{Progress: o.testbedProgress(time.Now(), &down)}
	tb.Imagesf("looking for the image of %s", "/bin/mscli")
	tb.Node("bank/0", testbed.NodeReady, "something unrelated")
	tb.NodeFailed("bank-db", errBoom{}, "bank-db: start after the snapshot: boom")
	tb.Progressf("bank/1 ready (pid 1) in 2ms") // a plain step, whatever it reads like
	down.Store(true)
	tb.Progressf("testbed down")

	want := []Event{
		{Phase: PhaseImages, Msg: "looking for the image of /bin/mscli"},
		{Phase: PhaseTestbed, Msg: "something unrelated", Node: "bank/0", State: testbed.NodeReady},
		{Phase: PhaseTestbed, Msg: "bank-db: start after the snapshot: boom", Node: "bank-db", State: testbed.NodeFailed, Err: "boom"},
		{Phase: PhaseTestbed, Msg: "bank/1 ready (pid 1) in 2ms"},
		{Phase: PhaseDown, Msg: "testbed down"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g := got[i]
		g.At = 0
		if g != want[i] {
			t.Errorf("event %d: got %+v, want %+v", i, g, want[i])
		}
	}
}

type errBoom struct{}

func (errBoom) Error() string { return "boom" }

func TestFaultEventCarriesTheRecord(t *testing.T) {
	e := faultEvent(3*time.Second, history.Fault{Time: int64(2 * time.Second), Phase: history.Start, Fault: "kill", Target: "bank/0", Error: "not running"})
	if e.Phase != PhaseFaults || e.Fault == nil || e.Fault.Fault != "kill" || e.Fault.Target != "bank/0" || e.At != 3*time.Second {
		t.Fatalf("fault event: %+v", e)
	}
	if e.Msg != "start kill bank/0: not running" {
		t.Errorf("msg %q", e.Msg)
	}
}

func TestProgressLinesPrintTheEvents(t *testing.T) {
	var b bytes.Buffer
	p := ProgressLines(&b)
	p(Event{At: 1500 * time.Millisecond, Phase: PhaseTestbed, Msg: "bank/0 ready (pid 7) in 26ms", Node: "bank/0", State: testbed.NodeReady})
	p(Event{At: 2 * time.Second, Phase: PhaseWorkload, Msg: "8 clients"})
	want := regexp.MustCompile(`^\d\d:\d\d:\d\d    1\.50s testbed   bank/0 ready \(pid 7\) in 26ms\n\d\d:\d\d:\d\d    2\.00s workload  8 clients\n$`)
	if !want.MatchString(b.String()) {
		t.Errorf("lines:\n%s", b.String())
	}
}
