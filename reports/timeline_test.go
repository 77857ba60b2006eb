package reports

import (
	"reflect"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

const ms1 = int64(time.Millisecond)

func TestTimelineBucketsCompletionsAndLatency(t *testing.T) {
	in := &invariants.Input{Ops: []history.Op{
		{Time: 100 * ms1, Process: 0, Type: history.Invoke},
		{Time: 110 * ms1, Process: 1, Type: history.Invoke},
		{Time: 120 * ms1, Process: 0, Type: history.Ok},    // 20ms, bucket 0
		{Time: 1010 * ms1, Process: 1, Type: history.Info}, // 900ms, bucket 1
		{Time: 1100 * ms1, Process: 0, Type: history.Invoke},
		{Time: 1150 * ms1, Process: 0, Type: history.Fail}, // 50ms, bucket 1
		{Time: 1200 * ms1, Process: 7, Type: history.Ok},   // no invoke: counted, no latency
		{Time: 2500 * ms1, Process: 1 << 20, Type: history.Invoke},
		{Time: 2530 * ms1, Process: 1 << 20, Type: history.Ok}, // large proc number: 30ms
	}}
	tl := BuildTimeline(in, time.Second)
	want := []Bucket{
		{Start: 0, Width: time.Second, Counts: history.Counts{Invoked: 2, Ok: 1}, P50: 20 * time.Millisecond, P99: 20 * time.Millisecond},
		{Start: int64(time.Second), Width: time.Second, Counts: history.Counts{Invoked: 1, Ok: 1, Fail: 1, Info: 1}, P50: 50 * time.Millisecond, P99: 900 * time.Millisecond},
		{Start: 2 * int64(time.Second), Width: time.Second, Counts: history.Counts{Invoked: 1, Ok: 1}, P50: 30 * time.Millisecond, P99: 30 * time.Millisecond},
	}
	if !reflect.DeepEqual(tl.Buckets, want) {
		t.Fatalf("buckets:\n got %+v\nwant %+v", tl.Buckets, want)
	}
	if tl.End != 2530*ms1 {
		t.Errorf("end %d", tl.End)
	}
	tot := tl.Totals
	if tot.Invoked != 4 || tot.Ok != 3 || tot.Fail != 1 || tot.Info != 1 || tot.P50 != 30*time.Millisecond || tot.P99 != 900*time.Millisecond {
		t.Errorf("totals %+v", tot)
	}
	if got := tl.Buckets[1].Rate(tl.Buckets[1].Errors()); got != 2 {
		t.Errorf("errors/s %v", got)
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	lat := make([]uint32, 100)
	for i := range lat {
		lat[i] = uint32(i + 1) // 1..100 µs
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0.001, 1}} {
		if got := percentile(lat, c.p); got != c.want*time.Microsecond {
			t.Errorf("p%v = %v, want %v", c.p*100, got, c.want*time.Microsecond)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("empty percentile not zero")
	}
}

func TestFaultWindowsPairStartsAndStops(t *testing.T) {
	fs := []history.Fault{
		{Time: 1, Phase: history.Stop, Fault: "kill", Target: "bank/0"}, // stop without start: ignored
		{Time: 10, Phase: history.Start, Fault: "latency", Target: "a->b", Params: map[string]string{"latency": "250ms"}},
		{Time: 20, Phase: history.Start, Fault: "latency", Target: "a->b"},
		{Time: 25, Phase: history.Start, Fault: "kill", Target: "bank/0", Error: "no such node"},
		{Time: 30, Phase: history.Stop, Fault: "latency", Target: "a->b"},
		{Time: 40, Phase: history.Stop, Fault: "latency", Target: "a->b", Error: "proxy gone"},
	}
	got := FaultWindows(fs)
	want := []FaultWindow{
		{Fault: "latency", Target: "a->b", Params: map[string]string{"latency": "250ms"}, Start: 10, Stop: 30},
		{Fault: "latency", Target: "a->b", Start: 20, Stop: 40, Error: "heal: proxy gone"},
		{Fault: "kill", Target: "bank/0", Start: 25, Stop: -1, Error: "no such node"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("windows:\n got %+v\nwant %+v", got, want)
	}
	if got[2].Healed() || got[2].Until(100) != 100 || !got[2].Overlaps(1000, 2000) {
		t.Error("an unhealed fault must last to the end of the run")
	}
	for _, c := range []struct {
		from, to int64
		n        int
	}{{0, 9, 0}, {0, 10, 1}, {30, 30, 3}, {31, 39, 2}, {41, 50, 1}} {
		if n := len(ActiveFaults(got, c.from, c.to)); n != c.n {
			t.Errorf("active in [%d,%d]: %d, want %d", c.from, c.to, n, c.n)
		}
	}
}

func TestTimelineCoversFaultsAfterTheLastOp(t *testing.T) {
	b := NewTimelineBuilder(0)
	b.Op(0, 0, history.Invoke)
	b.Op(5*ms1, 0, history.Ok)
	b.AddFault(history.Fault{Time: 3500 * ms1, Phase: history.Start, Fault: "pause", Target: "bank/1"})
	tl := b.Timeline()
	if tl.Bucket != DefaultBucket || len(tl.Buckets) != 4 || tl.End != 3500*ms1 {
		t.Fatalf("bucket %v, %d buckets, end %d", tl.Bucket, len(tl.Buckets), tl.End)
	}
	if len(tl.Faults) != 1 || tl.Faults[0].Label() != "pause bank/1" {
		t.Errorf("faults %+v", tl.Faults)
	}
}

func TestResampleSumsCountsAndKeepsTheWorstLatency(t *testing.T) {
	tl := &Timeline{Bucket: time.Second}
	for i := range 10 {
		tl.Buckets = append(tl.Buckets, Bucket{Start: int64(i) * int64(time.Second), Width: time.Second, Counts: history.Counts{Ok: 10, Fail: i},
			P50: time.Duration(i) * time.Millisecond, P99: time.Duration(10*i) * time.Millisecond})
	}
	got := tl.Resample(4)
	if len(got) != 4 {
		t.Fatalf("%d buckets", len(got))
	}
	// 10 into 4: [0,2) [2,5) [5,7) [7,10)
	wantOk := []int{20, 30, 20, 30}
	wantWidth := []time.Duration{2, 3, 2, 3}
	wantP99 := []time.Duration{10, 40, 60, 90}
	for i, b := range got {
		if b.Ok != wantOk[i] || b.Width != wantWidth[i]*time.Second || b.P99 != wantP99[i]*time.Millisecond {
			t.Errorf("bucket %d: %+v", i, b)
		}
	}
	if got[1].Rate(got[1].Ok) != 10 {
		t.Errorf("rate of a merged bucket: %v", got[1].Rate(got[1].Ok))
	}
	if len(tl.Resample(20)) != 10 || len(tl.Resample(0)) != 10 {
		t.Error("resampling to more columns than buckets must keep the buckets")
	}
}

// BenchmarkTimelineBuilder measures the streaming pass the explorer makes over a
// history: per line, one bucket update and one in-flight lookup.
func BenchmarkTimelineBuilder(b *testing.B) {
	const procs = 32
	for b.Loop() {
		tb := NewTimelineBuilder(0)
		for i := range 1_000_000 {
			t := int64(i) * 50_000
			p := i % procs
			if (i/procs)%2 == 0 {
				tb.Op(t, p, history.Invoke)
			} else {
				tb.Op(t, p, history.Ok)
			}
		}
		tb.Timeline()
	}
}
