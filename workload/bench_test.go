package workload

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	tpclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/mscli/mscli/fixtures/toxiproxy"
	"github.com/mscli/mscli/internal/testkit"
	"github.com/mscli/mscli/testbed"
)

// BenchmarkProxyOverhead measures what crossing a link costs the workload, against its
// floor: the same PUT to a local HTTP server sent four ways in one run —
//
//   - direct: straight to the server;
//   - forwarder: through a plain TCP forwarder (two io.Copy goroutines per connection),
//     the least any proxy in between can cost;
//   - toxiproxy: through a proxy of toxiproxy's own server, created through its HTTP API
//     (the server the docker testbed runs, `mscli fixture toxiproxy`);
//   - links: through the local testbed's in-process links (testbed.Proxies).
//
// One iteration is a round of perRound requests on each path in turn, so a machine
// that slows down in the middle slows them all alike; the order changes from round to
// round, and a collection runs before each path's turn. It reports each path's requests per second and the ratios
// forwarder/direct, toxiproxy/direct, links/direct and links/toxiproxy (what mscli adds
// on top of toxiproxy's own cost: 1 means nothing).
func BenchmarkProxyOverhead(b *testing.B) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hs.Close()
	upstream := hs.Listener.Addr().String()

	fwd := forwarder(b, upstream)
	tp := toxiproxyServer(b, upstream)
	px := testbed.NewProxies()
	defer px.Close()
	l, err := px.Add("client->bank/0", upstream)
	if err != nil {
		b.Fatal(err)
	}
	paths := []struct{ name, url string }{
		{"direct", hs.URL}, {"forwarder", "http://" + fwd}, {"toxiproxy", "http://" + tp}, {"links", "http://" + l.Listen()},
	}
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
			// Warm every path's keep-alive connections.
			for _, p := range paths {
				run(p.url, 4*clients)
			}
			b.ResetTimer()
			b.StopTimer()
			const perRound = 2000
			took := make([]time.Duration, len(paths))
			for r := range b.N {
				for k := range paths {
					// Each path goes first in turn, and every other round the order
					// runs backwards: no path always follows the same one.
					i := (r + k) % len(paths)
					if r%2 == 1 {
						i = (r + len(paths) - k) % len(paths)
					}
					runtime.GC() // the garbage of the path before is not this one's to collect
					b.StartTimer()
					took[i] += run(paths[i].url, perRound)
					b.StopTimer()
				}
			}
			rate := make(map[string]float64, len(paths))
			for i, p := range paths {
				rate[p.name] = float64(b.N*perRound) / took[i].Seconds()
				b.ReportMetric(rate[p.name], p.name+"-req/s")
			}
			b.ReportMetric(rate["forwarder"]/rate["direct"], "forwarder/direct")
			b.ReportMetric(rate["toxiproxy"]/rate["direct"], "toxiproxy/direct")
			b.ReportMetric(rate["links"]/rate["direct"], "links/direct")
			b.ReportMetric(rate["links"]/rate["toxiproxy"], "links/toxiproxy")
		})
	}
}

// forwarder serves a plain TCP forwarder to upstream on 127.0.0.1 until the benchmark
// ends and returns its address.
func forwarder(b *testing.B, upstream string) string {
	return testkit.Serve(b, testkit.Forward(upstream))
}

// toxiproxyServer runs toxiproxy's server behind its HTTP API until the benchmark
// ends, creates a proxy to upstream through that API, as the docker testbed does, and
// returns the proxy's address.
func toxiproxyServer(b *testing.B, upstream string) string {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- toxiproxy.Run(ctx, toxiproxy.Options{Listen: "127.0.0.1:0", Log: io.Discard, Ready: func(a string) { ready <- a }})
	}()
	b.Cleanup(func() { cancel(); <-done })
	var api string
	select {
	case api = <-ready:
	case err := <-done:
		b.Fatal(err)
	}
	p, err := tpclient.NewClient(api).CreateProxy("client->bank/0", "127.0.0.1:0", upstream)
	if err != nil {
		b.Fatal(err)
	}
	return p.Listen
}
