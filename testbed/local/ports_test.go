package local_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mscli/mscli/plan"
	"github.com/mscli/mscli/testbed"
	"github.com/mscli/mscli/testbed/local"
)

// A port picked for a service is taken by another process before the service starts
// (picked free, then taken: the race every free-port pick has): the replica gets
// another, free one and says so, rather than dying on the taken port or leaving a
// stranger to answer its readiness probe and its workload.
func TestTakenPortIsReplaced(t *testing.T) {
	app := userApp(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	// The stranger answers every request, /healthz included.
	go http.Serve(taken, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("stranger")) }))
	first := true
	defer local.SetFreeAddr(func() (string, error) {
		if first { // the pick the stranger takes
			first = false
			return taken.Addr().String(), nil
		}
		return testbed.FreeAddr()
	})()

	svc := plan.Service{Name: "app", Command: []string{app}, Port: 8080, Ready: plan.Probe{HTTP: "/healthz"}, Replicas: 1}
	pl := &plan.Plan{Scenario: "ports", Topology: plan.Topology{Services: []plan.Service{svc},
		Links: []plan.Link{{Name: "client->app", From: "client", To: "app"}}}}
	runID := "p" + strconv.FormatInt(time.Now().UnixNano(), 36)
	var mu sync.Mutex
	var said []string
	e, err := local.Up(context.Background(), pl, testbed.Options{RunID: runID, Dir: filepath.Join(t.TempDir(), runID), Binary: fakeBinary(t),
		StartTimeout: 10 * time.Second, StopGrace: 2 * time.Second,
		Progress: func(ev testbed.Event) { mu.Lock(); said = append(said, ev.Msg); mu.Unlock() }})
	if e != nil {
		t.Cleanup(func() { e.Down(context.Background()) })
	}
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	var env map[string]string
	resp, err := http.Get(e.Endpoints("app")[0] + "/env")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("the workload's endpoint reaches no service of ours: %v", err)
	}
	_, takenPort, _ := net.SplitHostPort(taken.Addr().String())
	if env["PORT"] == "" || env["PORT"] == takenPort {
		t.Errorf("the replica listens on port %q; the taken one is %s", env["PORT"], takenPort)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(said, "\n"), "port "+taken.Addr().String()+" of app/0 is taken by another process") {
		t.Errorf("the testbed does not say the port was taken:\n%s", strings.Join(said, "\n"))
	}
}
