package runner

import (
	"strconv"
	"testing"

	"github.com/mscli/mscli/plan"
)

// hostSystem answers HostAddr for the nodes it knows.
type hostSystem struct {
	fakeSystem
	addrs map[string]string // "node:port" → host:port
}

func (s hostSystem) HostAddr(node string, port int) string {
	return s.addrs[node+":"+strconv.Itoa(port)]
}

// observe.sql.url names the database as the system's services do; the runner reaches
// that node's port at the address the testbed gives it on the host, with the URL's
// user, password, database and parameters.
func TestObserveSQLURL(t *testing.T) {
	sys := hostSystem{addrs: map[string]string{"db:5432": "127.0.0.1:32771", "pg:5433": "127.0.0.1:40000"}}
	for _, c := range []struct{ url, want string }{
		{"postgres://orders:orders@db:5432/orders?sslmode=disable", "postgres://orders:orders@127.0.0.1:32771/orders?sslmode=disable"},
		{"postgres://u@db/x", "postgres://u@127.0.0.1:32771/x"},
		{"postgresql://u:p@pg:5433/x", "postgresql://u:p@127.0.0.1:40000/x"},
		{"postgres://u:p@db:6543/x", ""},
		{"postgres://u:p@elsewhere/x", ""},
	} {
		if got := hostDSN(sys, c.url); got != c.want {
			t.Errorf("hostDSN(%s) = %q, want %q", c.url, got, c.want)
		}
	}
	svc := plan.Service{Name: "orders", Image: "o", Observe: plan.Observe{SQL: &plan.SQLObserve{URL: "postgres://u:p@db:5432/x", Effects: "SELECT 1"}}}
	src, ok := sourceOf(svc, sys).(*sqlSource)
	if !ok || src.dsn != "postgres://u:p@127.0.0.1:32771/x" {
		t.Errorf("source of a service observed through url: %+v", src)
	}
}
