package invariants

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCheckAll checks all five invariants over a synthetic run of 1,000,000
// operations (2,000,000 history lines, about 1.8M effects). It reports the time per
// check, and the heap the check itself allocated (MB/check) beside the heap the loaded
// run occupies (input-MB), so the two budgets can be read apart.
func BenchmarkCheckAll(b *testing.B) {
	in := synth(1_000_000, 1000, 42)
	// The checks read a loaded run's columns: put in columns before the clock starts,
	// as runner.LoadRecorded decodes them.
	in.Records = in.Columns()
	in.Ops, in.Effects = nil, nil
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	cpu0 := processCPU()
	var total runtime.MemStats
	for i := 0; i < b.N; i++ {
		rs := Check(context.Background(), in, all)
		if v := Worst(rs); v != Pass {
			b.Fatalf("synthetic run did not pass: %+v", rs)
		}
	}
	b.StopTimer()
	cpu := processCPU() - cpu0
	runtime.ReadMemStats(&total)
	b.ReportMetric(float64(total.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "MB/check")
	b.ReportMetric(float64(in.Records.NumOps()), "history-lines")
	b.ReportMetric(float64(before.HeapAlloc)/(1<<20), "input-MB")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// processCPU is the processor time (user and system) the process has spent: on a
// shared machine, what a check cost beside how long it took.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
