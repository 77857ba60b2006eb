package reports

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/invariants"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from the output at line %d (run with -update if the change is intended):\n got %q\nwant %q", path, i+1, g, w)
			}
		}
	}
}

// synthRun is a small failing run: three clients for 12 s, a latency fault, a kill
// and a partition that is never healed, errors while the faults last, and a durable
// violation whose note needs escaping in every format.
func synthRun() (*Run, *invariants.Input) {
	in := &invariants.Input{}
	sec := int64(time.Second)
	// Each client runs one operation at a time, as the workload's do: invoke, wait for
	// the completion, think 30ms, invoke the next.
	for proc := range 3 {
		t := int64(proc) * 7 * ms1
		for k := 0; t < 12*sec; k++ {
			lat := int64(8+proc*3+k%5) * ms1
			typ := history.Ok
			if t >= 3*sec && t < 7*sec {
				lat += 50 * ms1 // the latency fault
			}
			if t >= 5*sec && t < 6*sec && proc == 0 {
				typ = history.Fail
			}
			if t >= 9*sec && proc == 2 {
				typ, lat = history.Info, 40*ms1
			}
			n := k*3 + proc + 1
			op := history.Op{Time: t, Process: proc, Type: history.Invoke, F: "withdraw",
				Key: fmt.Sprintf("acct-%c", 'a'+n%4), ID: fmt.Sprintf("w-%06d", n), Value: []byte(`{"amount":10}`)}
			in.Ops = append(in.Ops, op)
			op.Time, op.Type = t+lat, typ
			if typ != history.Ok {
				op.Error, op.Attempts = "context deadline exceeded", 3
			}
			in.Ops = append(in.Ops, op)
			t += lat + 30*ms1
		}
	}
	// The workload writes the file in time order, numbering the lines as it goes.
	slices.SortStableFunc(in.Ops, func(a, b history.Op) int { return cmp.Compare(a.Time, b.Time) })
	for i := range in.Ops {
		in.Ops[i].Index = int64(i)
	}
	// The witness: proc 1's first operation acknowledged during the kill.
	var witness []history.Op
	for _, o := range in.Ops {
		if len(witness) == 0 && o.Process == 1 && o.Type == history.Invoke && o.Time >= 5*sec+200*ms1 {
			witness = append(witness, o)
		} else if len(witness) == 1 && o.ID == witness[0].ID {
			witness = append(witness, o)
		}
	}
	in.Faults = []history.Fault{
		{Time: 3 * sec, Phase: history.Start, Fault: "latency", Target: "client->bank", Params: map[string]string{"latency": "50ms"}},
		{Time: 5 * sec, Phase: history.Start, Fault: "kill", Target: "bank/0", Params: map[string]string{"restart-after": "1s"}},
		{Time: 6 * sec, Phase: history.Stop, Fault: "kill", Target: "bank/0"},
		{Time: 7 * sec, Phase: history.Stop, Fault: "latency", Target: "client->bank"},
		{Time: 9 * sec, Phase: history.Start, Fault: "partition", Target: "bank->broker"},
	}
	r := &Run{
		Scenario: "bank-idempotency", Seed: 7, Testbed: "local", Bugs: []string{"ack-before-commit"},
		Dir:     "/runs/20260101T000000Z-bank-idempotency-7",
		Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Wall: 14*time.Second + 230*time.Millisecond,
		Faults:   FaultCounts{Planned: 3, Applied: 3, Healed: 2},
		Converge: &Converge{Converged: true, After: 1200 * time.Millisecond, Polls: 12},
		Results: []invariants.Result{
			{Name: "idempotent", Verdict: invariants.Pass, Summary: "360 operations checked", Checked: 360, Elapsed: 3 * time.Millisecond},
			{Name: "durable", Verdict: invariants.Fail, Summary: "1 of 360 operations violate it", Violations: 1, Checked: 360,
				Elapsed: 4 * time.Millisecond, Witnesses: []invariants.Witness{{
					ID: witness[0].ID, Key: witness[0].Key, View: "write",
					Note:    `acknowledged <ok> but never applied & "lost" | *not* retried`,
					Ops:     witness,
					Effects: []history.Effect{{Service: "bank", View: "write", Kind: "operation", ID: witness[0].ID, State: "pending"}},
					Faults:  []history.Fault{in.Faults[0], in.Faults[1]},
				}}},
			{Name: "conservation", Verdict: invariants.Pass, Summary: "4 keys checked", Checked: 4, Elapsed: time.Millisecond},
			{Name: "converges", Verdict: invariants.Unknown, Summary: "ran out of time before finishing", Elapsed: time.Second,
				Measures: map[string]int64{"time_to_converge_ns": int64(1200 * time.Millisecond), "polls": 12}},
		},
		Verdict: invariants.Fail,
	}
	tot := BuildTimeline(in, 0).Totals
	r.Ops = OpCounts{Counts: tot.Counts,
		Rate: float64(tot.Completed()) / 12, P50: tot.P50, P99: tot.P99}
	for i := range r.Results {
		if r.Results[i].Checked == 360 {
			r.Results[i].Checked = tot.Invoked
			r.Results[i].Summary = strings.Replace(r.Results[i].Summary, "360", fmt.Sprint(tot.Invoked), 1)
		}
	}
	return r, in
}

func TestWriteHTMLGolden(t *testing.T) {
	r, in := synthRun()
	var b bytes.Buffer
	if err := WriteHTML(&b, r, in); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`<svg viewBox=`, `id="throughput"`, `id="errors"`, `id="latency"`,
		`>latency client-&gt;bank</text>`, `>kill bank/0</text>`, `>partition bank-&gt;broker</text>`,
		`<b class="t-fail">FAIL</b></td><td>durable</td>`,
		`acknowledged &lt;ok&gt; but never applied &amp; &#34;lost&#34; | *not* retried`,
		`never healed`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report.html lacks %s", want)
		}
	}
	for _, banned := range []string{"<script", "http://", "https://", "<link", "@import"} {
		if strings.Contains(out, banned) {
			t.Errorf("report.html is not self-contained: it has %q", banned)
		}
	}
	golden(t, "report.html.golden", b.Bytes())
}

func TestWriteHTMLWithoutRecords(t *testing.T) {
	r, _ := synthRun()
	r.Error = "testbed: bank/1 did not start <timeout>"
	var b bytes.Buffer
	if err := WriteHTML(&b, r, nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "<svg") || !strings.Contains(out, "no charts") {
		t.Error("without records the page must say there are no charts")
	}
	if !strings.Contains(out, "did not start &lt;timeout&gt;") {
		t.Error("the run's error is missing or unescaped")
	}
}

func TestWriteHTMLEmptyRun(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, &Run{Scenario: "empty"}, &invariants.Input{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "no operations recorded") || !strings.Contains(b.String(), "no invariant was checked") {
		t.Error("an empty run must render with its emptiness stated")
	}
}

// TestHTMLScreenshot renders report.html in headless Chromium and checks the page is
// drawn: the chart area of the screenshot must hold the chart colours, not one flat
// background.
func TestHTMLScreenshot(t *testing.T) {
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is required in CI (apt-get install -y chromium)")
		}
		t.Skip("chromium not installed")
	}
	dir := t.TempDir()
	r, in := synthRun()
	var b bytes.Buffer
	if err := WriteHTML(&b, r, in); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "out.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, "--window-size=1200,2000", "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	// The DOM the browser built: three charts with their bars and fault windows, the
	// failing invariant's row and its witnesses.
	dom, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--dump-dom", "file://"+page).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	d := string(dom)
	if n := strings.Count(d, "<svg"); n != 3 {
		t.Errorf("the rendered page has %d charts, want 3 (throughput, errors, latency)", n)
	}
	if n := strings.Count(d, "<rect"); n < 20 {
		t.Errorf("the charts hold %d rects: no bars or fault windows", n)
	}
	for _, want := range []string{`aria-label="Throughput over the run`, `<b class="t-fail">FAIL</b></td><td>durable</td>`, `id="w-durable"`, "faults active"} {
		if !strings.Contains(d, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if bnd := img.Bounds(); bnd.Dx() != 1200 || bnd.Dy() != 2000 {
		t.Errorf("screenshot is %v", bnd)
	}
	// The first chart starts below the header and the cards, well within 200..900.
	colours := map[[3]uint32]bool{}
	var green, red bool
	for y := 200; y < 900; y += 2 {
		for x := 60; x < 1140; x += 2 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			c := [3]uint32{cr >> 8, cg >> 8, cb >> 8}
			colours[c] = true
			green = green || near(c, [3]uint32{0x2e, 0x9d, 0x5b})
			red = red || near(c, [3]uint32{0xd6, 0x45, 0x45})
		}
	}
	if len(colours) < 10 || !green || !red {
		t.Errorf("chart area looks blank: %d colours, ok bars %v, fail bars %v", len(colours), green, red)
	}
	if keep := os.Getenv("MSCLI_KEEP_SCREENSHOT"); keep != "" {
		if data, err := os.ReadFile(shot); err == nil {
			_ = os.WriteFile(keep, data, 0o644)
		}
	}
}

func near(a, b [3]uint32) bool {
	d := func(x, y uint32) uint32 {
		if x > y {
			return x - y
		}
		return y - x
	}
	return d(a[0], b[0]) < 12 && d(a[1], b[1]) < 12 && d(a[2], b[2]) < 12
}
