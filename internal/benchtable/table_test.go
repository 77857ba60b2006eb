package main

import (
	"bytes"
	"strings"
	"testing"
)

// The table holds each figure's median over its runs, tidied units read in the unit
// the benchmark reported, a verdict against the target, and "not run" for a figure no
// benchmark reported.
func TestTable(t *testing.T) {
	out := `goos: linux
pkg: github.com/mscli/mscli/runner
BenchmarkCheckRecordedRun-2   	3	3810000000 ns/op	1260 peak-heap-MB
BenchmarkCheckRecordedRun-2   	3	 900000000 ns/op	 250 peak-heap-MB
BenchmarkCheckRecordedRun-2   	3	 950000000 ns/op	 280 peak-heap-MB
PASS
ok  	github.com/mscli/mscli/runner	30s
pkg: github.com/mscli/mscli/fixtures/bank
BenchmarkWithdrawals/sqlite-2 	3	0 ns/op	301 withdrawals/s
BenchmarkWithdrawals/sqlite-2 	3	0 ns/op	2500 withdrawals/s
--- FAIL: BenchmarkSomething
BenchmarkProxyOverhead/clients=1-2	5	606075017 ns/op	0.9378 forwarder/direct	0.97 links/toxiproxy
BenchmarkProxyOverhead/clients=8-2	5	606075017 ns/op	0.2 links/toxiproxy
`
	got, err := read(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	write(&b, got)
	want := []string{
		"load and check a recorded run of 1,000,000 operations  0.95 s",
		"  its peak heap  280 MB  3  ≤ 300 MB  met",
		"the five checks alone, 1,000,000 operations  not run",
		"bank end to end, one replica, SQLite  1400/s  2  ≥ 2000/s  NOT MET",
		"mscli's links ÷ through toxiproxy's server, 1 client  0.97  1  ≥ 0.95  met",
		"plain TCP forwarder ÷ direct (the floor)  0.94  1  (reported)",
	}
	table := squeeze(b.String())
	for _, w := range want {
		if !strings.Contains(table, w) {
			t.Errorf("the table lacks %q:\n%s", w, b.String())
		}
	}
	if !strings.Contains(table, "0.95 s  3  ≤ 1.00 s  met") {
		t.Errorf("the check figure is not met at its median:\n%s", b.String())
	}
}

// squeeze makes every run of spaces two, so the test does not depend on column widths.
func squeeze(s string) string {
	var b strings.Builder
	spaces := 0
	for _, r := range s {
		if r == ' ' {
			spaces++
			continue
		}
		if spaces > 0 {
			b.WriteString(map[bool]string{true: " ", false: "  "}[spaces == 1])
			spaces = 0
		}
		b.WriteRune(r)
	}
	return b.String()
}

// A sub-benchmark whose name only starts like a figure's is not that figure.
func TestTableNames(t *testing.T) {
	got, err := read(strings.NewReader("BenchmarkWithdrawals/sqlite-wal-2\t3\t0 ns/op\t9999 withdrawals/s\n" +
		"BenchmarkWithdrawals/sqlite\t3\t0 ns/op\t100 withdrawals/s\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range figures {
		if f.bench == "Withdrawals/sqlite" && f.unit == "withdrawals/s" && (len(got[i]) != 1 || got[i][0] != 100) {
			t.Errorf("Withdrawals/sqlite read %v, want [100]", got[i])
		}
	}
}
