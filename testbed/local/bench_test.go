package local_test

import (
	"context"
	"testing"
	"time"

	"github.com/mscli/mscli/plan"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/testbed"
	"github.com/mscli/mscli/workload"
)

// BenchmarkWorkloadProxyVsDirect runs the bank workload (8 clients, no rate limit) for
// three seconds against one real bank replica through its client->bank proxy, and for
// three seconds straight to the replica, each on a fresh testbed, and reports both
// throughputs and their ratio: what carrying every byte through toxiproxy costs.
func BenchmarkWorkloadProxyVsDirect(b *testing.B) {
	bin := realBinary(b, "broker", "bank")
	w := plan.Workload{Kind: "bank", Clients: 8, Seed: 1,
		Timeout: plan.Duration(5 * time.Second), Retry: plan.Retry{Attempts: 1}, Params: map[string]string{"accounts": "20", "opening": "1099511627776", "mix": "0.5"}}
	measure := func(direct bool) float64 {
		e, _ := up(b, bankPlan(1), testbed.Options{Binary: bin, StartTimeout: 30 * time.Second})
		eps := e.Endpoints("bank")
		if direct {
			eps = e.ObserveURLs("bank")
		}
		rec := history.NewWriter(discard{})
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		st, err := (&workload.Runner{Workload: w, Endpoints: eps, Rec: rec, Start: time.Now()}).Run(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if st.Ok == 0 {
			b.Fatalf("no operation succeeded: %+v", st)
		}
		return float64(st.Ok) / st.Elapsed.Seconds()
	}
	var d, p float64
	for range b.N {
		d += measure(true)
		p += measure(false)
	}
	b.ReportMetric(d/float64(b.N), "direct-ops/s")
	b.ReportMetric(p/float64(b.N), "proxy-ops/s")
	b.ReportMetric(p/d, "proxy/direct")
	b.ReportMetric(0, "ns/op")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
