package testbed_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/mscli/mscli/testbed"
)

// An owner is live while its process runs, gone once it exits, after a reboot or when
// its pid was given to another process, and unknowable on another host.
func TestOwnerLiveness(t *testing.T) {
	me, err := testbed.Self()
	if err != nil {
		t.Skipf("this system cannot tell owners: %v", err)
	}
	if me.PID != os.Getpid() || me.Start == 0 || me.Boot == "" || me.PIDNS == "" {
		t.Fatalf("Self() = %+v", me)
	}
	back, err := testbed.ParseOwner(me.String())
	if err != nil || back != me {
		t.Fatalf("ParseOwner(%q) = %+v, %v", me.String(), back, err)
	}
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	with := func(f func(*testbed.Owner)) testbed.Owner { o := me; f(&o); return o }
	// Without a machine id, another boot cannot be told from another machine.
	rebooted := testbed.Gone
	if me.Machine == "" {
		rebooted = testbed.Unknowable
	}
	for _, c := range []struct {
		name  string
		owner testbed.Owner
		want  testbed.Liveness
	}{
		{"this process", me, testbed.Live},
		{"an exited process", with(func(o *testbed.Owner) { o.PID = exited.Process.Pid }), testbed.Gone},
		{"its pid given to another process", with(func(o *testbed.Owner) { o.Start++ }), testbed.Gone},
		{"a machine restarted since", with(func(o *testbed.Owner) { o.Boot = "another-boot" }), rebooted},
		{"another host", with(func(o *testbed.Owner) { o.Host = "elsewhere" }), testbed.Unknowable},
		{"another machine of the same name", with(func(o *testbed.Owner) { o.Machine = "another-machine"; o.Boot = "another-boot" }), testbed.Unknowable},
		{"another PID namespace", with(func(o *testbed.Owner) { o.PIDNS = "1" }), testbed.Unknowable},
	} {
		if got, why := c.owner.Liveness(); got != c.want || why == "" {
			t.Errorf("%s: liveness %v (%q), want %v", c.name, got, why, c.want)
		}
	}
	if keep, _ := testbed.KeepRun(me.String()); !keep {
		t.Error("a live owner's run is not kept")
	}
	if keep, _ := testbed.KeepRun(""); keep {
		t.Error("a run with no owner recorded is kept: an older mscli's leftovers would stay for ever")
	}
	for _, bad := range []string{"h/m/b/n/0/1", "h/m/b/n/x/1", "h/b/1/2", "/m/b/n/1/2", "h/m/b/n/1/-2"} {
		if _, err := testbed.ParseOwner(bad); err == nil {
			t.Errorf("ParseOwner(%q) accepted", bad)
		}
	}
}
