package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

// BenchmarkCheckRecordedRun is what `mscli check` does with a run of a million
// operations: load the three record files from disk and check all five invariants.
// It reports the peak heap of the whole path (sampled every 2 ms) and the heap the
// loaded run keeps, as well as the time.
func BenchmarkCheckRecordedRun(b *testing.B) {
	dir := b.TempDir()
	if err := writeSynthRun(dir, 1_000_000, 100); err != nil {
		b.Fatal(err)
	}
	specs := []invariants.Spec{{Name: "idempotent"}, {Name: "durable"}, {Name: "conservation"}, {Name: "ordered"},
		{Name: "converges", Params: map[string]string{"within": "10s"}}}
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	runtime.GC()
	peak.Store(0)
	var kept uint64
	var cpu cpuClock
	b.ResetTimer()
	cpu.start()
	for range b.N {
		in, err := LoadRecorded(dir)
		if err != nil {
			b.Fatal(err)
		}
		if b.N == 1 || kept == 0 {
			// The collection that measures what the run keeps is no part of a check.
			b.StopTimer()
			cpu.stop()
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			kept = ms.HeapAlloc
			cpu.start()
			b.StartTimer()
		}
		rs := invariants.Check(context.Background(), in, specs)
		if v := invariants.Worst(rs); v != invariants.Pass {
			b.Fatalf("the synthetic run does not pass: %+v", rs)
		}
		runtime.KeepAlive(in)
		// `mscli check` loads one run: the last iteration's records, garbage now, are
		// collected before the next load, not counted in its peak.
		in = nil
		b.StopTimer()
		cpu.stop()
		runtime.GC()
		cpu.start()
		b.StartTimer()
	}
	b.StopTimer()
	cpu.stop()
	close(stop)
	<-sampled
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(kept)/(1<<20), "loaded-run-MB")
	b.ReportMetric(cpu.total.user.Seconds()/float64(b.N), "user-s/op")
	b.ReportMetric(cpu.total.sys.Seconds()/float64(b.N), "sys-s/op")
}

// BenchmarkLoadRecorded is the load alone of BenchmarkCheckRecordedRun's run: both
// decoders side by side (load-s/op), and each file decoded on its own on one core
// (history-s/op, effects-s/op), which says which of the two the load waits for.
func BenchmarkLoadRecorded(b *testing.B) {
	dir := b.TempDir()
	if err := writeSynthRun(dir, 1_000_000, 100); err != nil {
		b.Fatal(err)
	}
	var load, ops, effs time.Duration
	var cpu cpuClock
	for range b.N {
		runtime.GC()
		began := time.Now()
		cpu.start()
		in, err := LoadRecorded(dir)
		cpu.stop()
		load += time.Since(began)
		if err != nil {
			b.Fatal(err)
		}
		runtime.KeepAlive(in)
		in = nil
		runtime.GC()
		recs := new(history.Records)
		began = time.Now()
		if err := history.ReadFileEach(filepath.Join(dir, HistoryFile), recs.GrowOps, recs.DecodeOp); err != nil {
			b.Fatal(err)
		}
		ops += time.Since(began)
		began = time.Now()
		if err := history.ReadFileEach(filepath.Join(dir, EffectsFile), recs.GrowEffects, recs.DecodeEffect); err != nil {
			b.Fatal(err)
		}
		effs += time.Since(began)
		runtime.KeepAlive(recs)
	}
	n := float64(b.N)
	b.ReportMetric(load.Seconds()/n, "load-s/op")
	b.ReportMetric(ops.Seconds()/n, "history-s/op")
	b.ReportMetric(effs.Seconds()/n, "effects-s/op")
	b.ReportMetric(cpu.total.user.Seconds()/n, "user-s/op")
	b.ReportMetric(0, "ns/op")
}

// cpuClock adds up the processor time the process spends between start and stop, in
// user and in system (the kernel: reading the files, faulting in fresh memory): on a
// shared machine, what the work cost beside how long it took.
type cpuClock struct {
	from, total cpuTime
}

type cpuTime struct{ user, sys time.Duration }

func (c *cpuClock) start() { c.from = processCPU() }
func (c *cpuClock) stop() {
	t := processCPU()
	c.total.user += t.user - c.from.user
	c.total.sys += t.sys - c.from.sys
}

func processCPU() cpuTime {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuTime{}
	}
	return cpuTime{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())}
}

// writeSynthRun records a passing run of n operations over keys accounts: each
// account opens with a deposit, then withdrawals and deposits; every operation is
// acknowledged and applied once in the write and the read view.
func writeSynthRun(dir string, n, keys int) error {
	ops, err := history.Create(filepath.Join(dir, HistoryFile))
	if err != nil {
		return err
	}
	effs, err := history.Create(filepath.Join(dir, EffectsFile))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, FaultsFile), nil, 0o644); err != nil {
		return err
	}
	bal := make([]int64, keys)
	seq := make([]int64, keys)
	var t int64
	for i := range n {
		k := i % keys
		key := fmt.Sprintf("acct-%d", k)
		id := fmt.Sprintf("op-%07d", i)
		f, amount := "deposit", int64(1+i%50)
		if i >= keys && i%3 != 0 && bal[k] >= 100 {
			f, amount = "withdraw", -int64(1+i%40)
		}
		if i < keys {
			amount = 1000
		}
		value := json.RawMessage(fmt.Sprintf(`{"amount":%d}`, max(amount, -amount)))
		t += 1000
		if err := ops.Write(history.Op{Index: int64(2 * i), Time: t, Process: i % 8, Type: history.Invoke, F: f, Key: key, ID: id, Value: value}); err != nil {
			return err
		}
		t += 500
		if err := ops.Write(history.Op{Index: int64(2*i + 1), Time: t, Process: i % 8, Type: history.Ok, F: f, Key: key, ID: id, Value: value}); err != nil {
			return err
		}
		seq[k]++
		bal[k] += amount
		kind := "credit"
		if amount < 0 {
			kind = "debit"
		}
		for _, e := range []history.Effect{
			{Service: "bank", View: history.WriteView, Kind: kind, Key: key, ID: id, Amount: amount, Seq: seq[k]},
			{Service: "bank", View: history.ReadView, Kind: kind, Key: key, ID: id, Amount: amount, Seq: seq[k], Pos: seq[k]},
			{Service: "bank", View: history.WriteView, Kind: history.KindOperation, ID: id, State: history.StateApplied},
		} {
			if err := effs.Write(e); err != nil {
				return err
			}
		}
	}
	for k := range keys {
		for _, view := range []string{history.WriteView, history.ReadView} {
			v := bal[k]
			if err := effs.Write(history.Effect{Service: "bank", View: view, Kind: history.KindState, Key: fmt.Sprintf("acct-%d", k), Value: &v}); err != nil {
				return err
			}
		}
	}
	if err := ops.Close(); err != nil {
		return err
	}
	return effs.Close()
}
