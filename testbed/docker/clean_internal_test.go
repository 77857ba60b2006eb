package docker

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/mscli/mscli/testbed"
)

// Clean removes the resources of a run whose mscli has exited and of one that
// recorded no owner, leaves a live run's alone and says so, and removes those too
// under Force.
func TestCleanLeavesLiveRunsAlone(t *testing.T) {
	ctx := context.Background()
	me, err := testbed.Self()
	if err != nil {
		t.Skipf("this system cannot tell owners: %v", err)
	}
	e, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	dead := me
	dead.PID = exited.Process.Pid
	prefix := fmt.Sprintf("test-clean-%d", me.PID)
	runs := map[string]string{prefix + "-live": me.String(), prefix + "-dead": dead.String(), prefix + "-old": ""}
	for run, owner := range runs {
		labels := map[string]string{LabelRun: run}
		if owner != "" {
			labels[LabelOwner] = owner
		}
		if _, err := e.VolumeCreate(ctx, client.VolumeCreateOptions{Name: "mscli-" + run, Labels: labels}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.NetworkCreate(ctx, "mscli-"+run, client.NetworkCreateOptions{Labels: labels}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for run := range runs {
			e.removeRun(context.Background(), run)
		}
	})
	// Only this test's runs: the machine may hold other runs, live or not.
	clean := func(run string, force bool) ([]string, []string) {
		var notes []string
		removed, err := Clean(ctx, testbed.CleanOptions{Run: run, Force: force, Note: func(l string) { notes = append(notes, l) }})
		if err != nil {
			t.Fatal(err)
		}
		return removed, notes
	}
	for run, owner := range runs {
		removed, notes := clean(run, false)
		if owner == me.String() {
			if len(removed) != 0 || len(notes) != 1 || !strings.Contains(notes[0], "is running") {
				t.Errorf("live run: removed %q, notes %q; want nothing removed and one note", removed, notes)
			}
			continue
		}
		if len(removed) != 2 || len(notes) != 0 {
			t.Errorf("run %s (owner %q): removed %q, notes %q; want its volume and network", run, owner, removed, notes)
		}
	}
	removed, _ := clean(prefix+"-live", true)
	slices.Sort(removed)
	if len(removed) != 2 {
		t.Errorf("forced clean of the live run removed %q, want its volume and network", removed)
	}
	vs, err := e.VolumeList(ctx, client.VolumeListOptions{Filters: make(client.Filters).Add("label", LabelRun)})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs.Items {
		if strings.HasPrefix(v.Labels[LabelRun], prefix) {
			t.Errorf("volume %s is left", v.Name)
		}
	}
}
