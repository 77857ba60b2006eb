package workload

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mscli/mscli/testbed"
)

// BenchmarkProxyOverhead measures what crossing a toxiproxy proxy (no toxics) costs the
// workload: the same PUT to a local HTTP server, direct and through a proxy, with one
// client and with 8 concurrent ones. It reports requests per second both ways and
// their ratio (proxy/direct: 1 means free).
func BenchmarkProxyOverhead(b *testing.B) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hs.Close()
	px := testbed.NewProxies()
	defer px.Close()
	l, err := px.Add("client->bank/0", hs.Listener.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	direct, proxied := hs.URL, "http://"+l.Listen()
	op := Planned{ID: "d-000001", F: FDeposit, Key: "acct-1", Amount: 1}

	for _, clients := range []int{1, 8} {
		b.Run(map[int]string{1: "clients=1", 8: "clients=8"}[clients], func(b *testing.B) {
			c := NewHTTPClient(clients, 5*time.Second)
			defer c.CloseIdleConnections()
			run := func(endpoint string, n int) time.Duration {
				var wg sync.WaitGroup
				began := time.Now()
				for w := range clients {
					wg.Go(func() {
						for i := w; i < n; i += clients {
							if a := send(context.Background(), c, endpoint, op, 5*time.Second); a.Out != Applied {
								b.Errorf("request failed: %s", a.Err)
								return
							}
						}
					})
				}
				wg.Wait()
				return time.Since(began)
			}
			// Warm both paths' keep-alive connections.
			run(direct, clients)
			run(proxied, clients)
			b.ResetTimer()
			dt := run(direct, b.N)
			pt := run(proxied, b.N)
			dRate, pRate := float64(b.N)/dt.Seconds(), float64(b.N)/pt.Seconds()
			b.ReportMetric(dRate, "direct-req/s")
			b.ReportMetric(pRate, "proxy-req/s")
			b.ReportMetric(pRate/dRate, "proxy/direct")
		})
	}
}
