package plan

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteTimeline writes the plan for a person: what `mscli plan` (the dry run) shows. It
// is deterministic, like the plan: the same plan gives the same text.
func (p *Plan) WriteTimeline(w io.Writer) error {
	ew := &errWriter{w: w}
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\n", p.Scenario)
	if p.Summary != "" {
		fmt.Fprintf(tw, "summary\t%s\n", p.Summary)
	}
	fmt.Fprintf(tw, "seed\t%d\n", p.Seed)
	fmt.Fprintf(tw, "duration\t%s\n", p.Duration)
	tw.Flush()

	fmt.Fprintf(ew, "\ntopology\n")
	tw = tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	if p.Topology.NeedsBroker() {
		fmt.Fprintf(tw, "  broker\t%s\n", p.Topology.Broker)
	} else {
		fmt.Fprintf(tw, "  broker\tnone (no service depends on it)\n")
	}
	for _, s := range p.Topology.Services {
		from := s.describe()
		db := s.Database
		if db == "" {
			db = "testbed default"
		}
		fmt.Fprintf(tw, "  service\t%s\t%s\treplicas %d\tdatabase %s\n", s.Name, from, s.Replicas, db)
	}
	for _, l := range p.Topology.Links {
		fmt.Fprintf(tw, "  link\t%s\n", l.Name)
	}
	tw.Flush()

	wl := p.Workload
	own := ""
	if len(wl.Params) > 0 {
		own = " (" + formatParams(wl.Params) + ")"
	}
	fmt.Fprintf(ew, "\nworkload  %s%s: %d clients, %d ops/s, timeout %s, retry %d attempts (backoff %s, max %s)\n",
		wl.Kind, own, wl.Clients, wl.Rate, wl.Timeout, wl.Retry.Attempts, wl.Retry.Backoff, wl.Retry.Max)

	if len(p.Faults) == 0 {
		fmt.Fprintf(ew, "\nfaults    none\n")
	} else {
		fmt.Fprintf(ew, "\nfaults (%d)\n", len(p.Faults))
		tw = tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  START\tSTOP\tFAULT\tTARGET\tPARAMS\tSOURCE\n")
		for _, f := range p.Faults {
			stop := "instant"
			if f.For > 0 {
				stop = f.End().String()
			}
			ps := formatParams(f.Params)
			if ps == "" {
				ps = "-"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", f.At, stop, f.Kind, f.Target, ps, f.Source)
		}
		tw.Flush()
	}

	fmt.Fprintf(ew, "\ninvariants\n")
	width := 0
	for _, inv := range p.Invariants {
		width = max(width, len(inv.Name))
	}
	for _, inv := range p.Invariants {
		// Padded by hand: a tabwriter would leave trailing blanks on the lines without
		// parameters.
		line := "  " + inv.Name
		if len(inv.Params) > 0 {
			line += strings.Repeat(" ", width-len(inv.Name)+2) + formatParams(inv.Params)
		}
		fmt.Fprintln(ew, line)
	}

	if len(p.Thresholds) > 0 {
		fmt.Fprintf(ew, "\nthresholds\n")
		for _, t := range p.Thresholds {
			fmt.Fprintf(ew, "  %s\n", t.Text)
		}
	}

	if len(p.Catches) > 0 {
		fmt.Fprintf(ew, "\ncatches\n")
		tw = tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		for _, bug := range slices.Sorted(maps.Keys(p.Catches)) {
			fmt.Fprintf(tw, "  %s\tby %s\n", bug, p.Catches[bug])
		}
		tw.Flush()
	}
	return ew.err
}

// errWriter keeps the first write error, so the many prints above need one check.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

// formatParams writes parameters as "k=v k=v", sorted by name.
func formatParams(params map[string]string) string {
	out := make([]string, 0, len(params))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		out = append(out, k+"="+params[k])
	}
	return strings.Join(out, " ")
}
