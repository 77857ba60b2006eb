package chaos_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mscli/mscli/chaos"
)

func TestKillAndRestart(t *testing.T) {
	n0, n1 := newProcNode(t, "bank/0"), newProcNode(t, "bank/1")
	e := &env{nodes: map[string][]chaos.Node{"bank/0": {n0}, "bank": {n0, n1}}}
	old := n0.pid()
	heal := apply(t, e, "kill", "bank/0", map[string]string{"restart-after": "1s"})
	if alive(old) || n0.pid() != 0 {
		t.Fatalf("pid %d still alive after kill", old)
	}
	if n1.pid() == 0 {
		t.Fatal("kill of bank/0 hit bank/1")
	}
	if err := heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := n0.pid(); p == 0 || p == old {
		t.Fatalf("not restarted: pid %d (was %d)", p, old)
	}
	if f, ok := chaos.Lookup("kill"); !ok {
		t.Fatal("kill not registered")
	} else if l, ok := f.(chaos.Lasting); !ok {
		t.Error("kill does not say how long it lasts")
	} else if got, err := l.Lasts(fault("kill", "bank/0", map[string]string{"restart-after": "2s"})); err != nil || got.String() != "2s" {
		t.Errorf("kill lasts %s, %v", got, err)
	}

	// A service name kills every replica.
	heal = apply(t, e, "kill", "bank", nil)
	if n0.pid() != 0 || n1.pid() != 0 {
		t.Fatal("kill of bank left a replica running")
	}
	if err := heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n0.pid() == 0 || n1.pid() == 0 {
		t.Fatal("heal did not restart every replica")
	}
}

func TestPauseAndResume(t *testing.T) {
	n := newProcNode(t, "broker")
	e := &env{nodes: map[string][]chaos.Node{"broker": {n}}}
	pid := n.pid()
	waitState(t, pid, "S")
	heal := apply(t, e, "pause", "broker", nil)
	waitState(t, pid, "Tt")
	if err := heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitState(t, pid, "SR")
	if n.pid() != pid {
		t.Error("pause/resume changed the process")
	}
}

func TestRestart(t *testing.T) {
	n := newProcNode(t, "bank/0")
	e := &env{nodes: map[string][]chaos.Node{"bank/0": {n}}}
	old := n.pid()
	if heal := apply(t, e, "restart", "bank/0", nil); heal != nil {
		t.Error("restart returned a heal: it is instantaneous")
	}
	if p := n.pid(); p == 0 || p == old || alive(old) {
		t.Fatalf("restart: pid %d → %d (old alive: %v)", old, p, alive(old))
	}
}

// dataNode records data faults.
type dataNode struct {
	*procNode
	calls []string
	fail  error
	slow  time.Duration // a wipe takes this long, or until its context ends
}

func (d *dataNode) Snapshot(_ context.Context, name string) error {
	d.calls = append(d.calls, "snapshot "+name)
	return d.fail
}

func (d *dataNode) Wipe(ctx context.Context, restore string) error {
	d.calls = append(d.calls, "wipe "+restore)
	select {
	case <-time.After(d.slow):
	case <-ctx.Done():
		return ctx.Err()
	}
	return d.fail
}

func TestDataFaults(t *testing.T) {
	db := &dataNode{procNode: &procNode{name: "bank-db"}}
	plain := newProcNode(t, "bank/0")
	e := &env{nodes: map[string][]chaos.Node{"bank-db": {db}, "bank/0": {plain}}}
	apply(t, e, "snapshot", "bank-db", nil)
	apply(t, e, "snapshot", "bank-db", map[string]string{"name": "before"})
	apply(t, e, "wipe", "bank-db", nil)
	apply(t, e, "wipe", "bank-db", map[string]string{"restore": "before"})
	want := []string{"snapshot backup", "snapshot before", "wipe ", "wipe before"}
	if len(db.calls) != len(want) {
		t.Fatalf("calls %q, want %q", db.calls, want)
	}
	for i := range want {
		if db.calls[i] != want[i] {
			t.Fatalf("calls %q, want %q", db.calls, want)
		}
	}
	f, _ := chaos.Lookup("wipe")
	if _, err := f.Apply(context.Background(), e, fault("wipe", "bank/0", nil)); err == nil {
		t.Error("wipe of a node without data succeeded")
	}
	db.fail = errors.New("disk on fire")
	if _, err := f.Apply(context.Background(), e, fault("wipe", "bank-db", nil)); err == nil {
		t.Error("a failed wipe reported success")
	}
}
