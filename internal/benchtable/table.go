package main

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"golang.org/x/perf/benchfmt"
)

// A figure is one number the project holds itself to: a metric of one benchmark and
// the bound it must stay within.
type figure struct {
	what   string  // what it measures, for a reader
	bench  string  // the benchmark's full name, without "Benchmark" and the -N suffix
	unit   string  // the metric's unit as benchfmt tidies it ("sec/op" for ns/op)
	target float64 // the bound
	atMost bool    // the figure must be at most target (else at least)
	format string  // how to print a value ("%.2f s")
}

// figures are the targets of the performance work, in the order a reader meets them.
var figures = []figure{
	{"load and check a recorded run of 1,000,000 operations", "CheckRecordedRun", "sec/op", 1.0, true, "%.2f s"},
	{"  its peak heap", "CheckRecordedRun", "peak-heap-MB", 300, true, "%.0f MB"},
	{"  the load alone, both files side by side", "LoadRecorded", "load-s/op", 0, true, "%.2f s"},
	{"  the history file alone, one core", "LoadRecorded", "history-s/op", 0, true, "%.2f s"},
	{"  the effects file alone, one core", "LoadRecorded", "effects-s/op", 0, true, "%.2f s"},
	{"the five checks alone, 1,000,000 operations", "CheckAll", "sec/op", 0.5, true, "%.2f s"},
	{"docker: broker, PostgreSQL, toxiproxy, 2 bank replicas ready", "ReadyTopology", "s-to-ready", 3, true, "%.1f s"},
	{"  PostgreSQL alone", "ReadyTopology", "s-postgres-ready", 1, true, "%.1f s"},
	{"  the engine's floor: 5 bare containers started together", "ReadyTopology", "s-engine-floor", 0, true, "%.1f s"},
	{"  ready ÷ the engine's floor", "ReadyTopology", "ready/floor", 0, true, "%.2f"},
	{"bank end to end, one replica, SQLite", "Withdrawals/sqlite", "withdrawals/s", 2000, false, "%.0f/s"},
	{"  its requests alone, until the last is answered", "Withdrawals/sqlite", "puts/s", 0, false, "%.0f/s"},
	{"bank end to end, one replica, PostgreSQL", "Withdrawals/postgres", "withdrawals/s", 1500, false, "%.0f/s"},
	{"  its requests alone, until the last is answered", "Withdrawals/postgres", "puts/s", 0, false, "%.0f/s"},
	{"bank end to end, two replicas on one database, SQLite", "WithdrawalsTwoReplicas/sqlite", "withdrawals/s", 0, false, "%.0f/s"},
	{"  the projection's deliveries per event", "WithdrawalsTwoReplicas/sqlite", "deliveries/event", 0, true, "%.2f"},
	{"bank end to end, two replicas on one database, PostgreSQL", "WithdrawalsTwoReplicas/postgres", "withdrawals/s", 0, false, "%.0f/s"},
	{"  the projection's deliveries per event", "WithdrawalsTwoReplicas/postgres", "deliveries/event", 0, true, "%.2f"},
	{"workload through mscli's links ÷ through toxiproxy's server, 1 client", "ProxyOverhead/clients=1", "links/toxiproxy", 0.95, false, "%.2f"},
	{"  plain TCP forwarder ÷ direct (the floor)", "ProxyOverhead/clients=1", "forwarder/direct", 0, false, "%.2f"},
	{"  toxiproxy's server ÷ direct", "ProxyOverhead/clients=1", "toxiproxy/direct", 0, false, "%.2f"},
}

// read collects every value of every figure's metric from benchmark output.
func read(r io.Reader) (map[int][]float64, error) {
	got := map[int][]float64{}
	br := benchfmt.NewReader(r, "stdin")
	for br.Scan() {
		res, ok := br.Result().(*benchfmt.Result)
		if !ok {
			continue // a syntax error or unit metadata: go test's own lines among them
		}
		name := benchName(res.Name)
		for i, f := range figures {
			if name != f.bench {
				continue
			}
			for _, v := range res.Values {
				switch {
				case v.OrigUnit == f.unit: // tidied: "peak-heap-MB" became bytes
					got[i] = append(got[i], v.OrigValue)
				case v.Unit == f.unit:
					got[i] = append(got[i], v.Value)
				}
			}
		}
	}
	return got, br.Err()
}

// benchName is a result's name without its GOMAXPROCS suffix: "Withdrawals/sqlite" for
// BenchmarkWithdrawals/sqlite-2 (benchfmt keeps the suffix as a part of its own).
func benchName(n benchfmt.Name) string {
	base, parts := n.Parts()
	name := string(base)
	for _, p := range parts {
		if !bytes.HasPrefix(p, []byte("-")) {
			name += string(p)
		}
	}
	return name
}

// write prints the table: a figure no benchmark reported is "not run".
func write(w io.Writer, got map[int][]float64) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tmedian\truns\ttarget\t")
	for i, f := range figures {
		target := "(reported)"
		if f.target != 0 {
			op := "≥"
			if f.atMost {
				op = "≤"
			}
			target = op + " " + fmt.Sprintf(f.format, f.target)
		}
		vs := got[i]
		if len(vs) == 0 {
			fmt.Fprintf(tw, "%s\tnot run\t\t%s\t\n", f.what, target)
			continue
		}
		m := median(vs)
		verdict := ""
		if f.target != 0 {
			verdict = "met"
			if f.atMost && m > f.target || !f.atMost && m < f.target {
				verdict = "NOT MET"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", f.what, fmt.Sprintf(f.format, m), len(vs), target, verdict)
	}
	tw.Flush()
}

func median(vs []float64) float64 {
	s := slices.Sorted(slices.Values(vs))
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
