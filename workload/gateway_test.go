package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mscli/mscli/history"
	"github.com/mscli/mscli/plan"
)

func gatewayWorkload() plan.Workload {
	return plan.Workload{Kind: "gateway", Clients: 3, Rate: 300, Timeout: plan.Duration(time.Second), Seed: 11,
		Retry:  plan.Retry{Attempts: 2, Backoff: plan.Duration(time.Millisecond), Max: plan.Duration(2 * time.Millisecond)},
		Params: map[string]string{"accounts": "4", "opening": "500", "items": "8"}}
}

// fakeGateway stands in for the gateway fixture: it answers each request by its key,
// so that a test knows what every completion must record, and notes every request
// that is not one the workload should send.
type fakeGateway struct {
	mu   sync.Mutex
	n    int
	odd  []string
	seen map[string]bool // PUT paths already sent
}

// answer is what the fake gateway says to an operation on key number k: browse and
// withdraw answers by k%4, every deposit 202 from the bank.
type answer struct {
	code   int
	source string
	want   history.OpType
}

var (
	browseAnswers = [4]answer{
		{http.StatusOK, history.SourceUpstream, history.Ok},
		{http.StatusOK, history.SourceFallback, history.Ok},
		{http.StatusServiceUnavailable, history.SourceBreaker, history.Fail},
		{http.StatusGatewayTimeout, history.SourceUpstream, history.Info},
	}
	withdrawAnswers = [4]answer{
		{http.StatusAccepted, history.SourceUpstream, history.Ok},
		{http.StatusServiceUnavailable, history.SourceBreaker, history.Fail},
		{http.StatusConflict, history.SourceUpstream, history.Fail},
		{http.StatusServiceUnavailable, "", history.Info}, // no header: who answered is unknown
	}
)

var (
	browsePath = regexp.MustCompile(`^/catalog/items/item-(\d+)$`)
	writePath  = regexp.MustCompile(`^/bank/accounts/acct-(\d+)/(deposits|withdrawals)/([dw])-\d{6}$`)
)

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	odd := func(why string) {
		g.odd = append(g.odd, fmt.Sprintf("%s %s %q: %s", r.Method, r.URL, body, why))
		http.Error(w, why, http.StatusBadRequest)
	}
	var a answer
	switch m, p := r.Method, r.URL.Path; {
	case m == http.MethodGet && browsePath.MatchString(p):
		if len(body) > 0 || r.URL.RawQuery != "" {
			odd("a browse carries no body or query")
			return
		}
		k, _ := strconv.Atoi(browsePath.FindStringSubmatch(p)[1])
		a = browseAnswers[k%4]
	case m == http.MethodPut && writePath.MatchString(p):
		sm := writePath.FindStringSubmatch(p)
		var req struct{ Amount int64 }
		if json.Unmarshal(body, &req) != nil || req.Amount < 1 || r.Header.Get("Content-Type") != "application/json" {
			odd("want a JSON body with an amount")
			return
		}
		if (sm[2] == "deposits") != (sm[3] == "d") {
			odd("the id's prefix does not match the operation")
			return
		}
		if sm[2] == "deposits" && g.seen[p] {
			odd("a deposit sent twice")
			return
		}
		g.seen[p] = true
		k, _ := strconv.Atoi(sm[1])
		a = answer{http.StatusAccepted, history.SourceUpstream, history.Ok}
		if sm[2] == "withdrawals" {
			a = withdrawAnswers[k%4]
		}
	default:
		odd("not a route the workload uses")
		return
	}
	if a.source != "" {
		w.Header().Set(history.AnswerHeader, a.source)
	}
	w.WriteHeader(a.code)
	if a.code == http.StatusOK {
		fmt.Fprintln(w, `{"id":"item","name":"item","price":3}`)
	}
}

// A real Runner against a stand-in gateway: the requests go to the gateway's routes,
// and every completion records the status and source of its last attempt's answer
// with the outcome they mean.
func TestGatewayRunRecordsStatusAndSource(t *testing.T) {
	g := &fakeGateway{seen: map[string]bool{}}
	hs := httptest.NewServer(g)
	defer hs.Close()
	var buf bytes.Buffer
	rec := history.NewWriter(&buf)
	w := gatewayWorkload()
	start := time.Now()
	r := &Runner{Workload: w, Endpoints: []string{hs.URL}, Rec: rec, Start: start}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	if _, err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	rec.Flush()
	ops, err := history.Read[history.Op](&buf)
	if err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	for _, o := range g.odd {
		t.Error(o)
	}
	g.mu.Unlock()

	seen := map[string]int{} // "<f> <k%4>" → completions
	for _, op := range ops {
		if op.Type == history.Invoke {
			if op.Status != 0 || op.Source != "" {
				t.Errorf("invoke %+v records an answer", op)
			}
			continue
		}
		var a answer
		var k int
		switch op.F {
		case FBrowse:
			k, _ = strconv.Atoi(strings.TrimPrefix(op.Key, "item-"))
			a = browseAnswers[k%4]
			if op.ID != "" || op.Value != nil {
				t.Errorf("browse %+v: want no id and no value", op)
			}
		case FWithdraw:
			k, _ = strconv.Atoi(strings.TrimPrefix(op.Key, "acct-"))
			a = withdrawAnswers[k%4]
			if !strings.HasPrefix(op.ID, "w-") || !strings.Contains(string(op.Value), `"amount"`) {
				t.Errorf("withdrawal %+v: want its id and amount", op)
			}
		case FDeposit:
			a = answer{http.StatusAccepted, history.SourceUpstream, history.Ok}
		default:
			t.Fatalf("unexpected operation %+v", op)
		}
		seen[fmt.Sprintf("%s %d", op.F, k%4)]++
		if op.Status != a.code || op.Source != a.source || op.Type != a.want {
			t.Errorf("%s %s: %s status %d source %q, want %s %d %q", op.F, op.Key, op.Type, op.Status, op.Source, a.want, a.code, a.source)
		}
		// Only an unknown outcome is worth another attempt, unless the run ended
		// during its back-off: the retry is then never sent.
		wantAttempts := map[history.OpType]int{history.Ok: 1, history.Fail: 1, history.Info: 2}[op.Type]
		if op.Type == history.Info && op.Attempts == 1 && !start.Add(time.Duration(op.Time)).Before(deadline) {
			wantAttempts = 1
		}
		if op.Attempts != wantAttempts {
			t.Errorf("%s %s (%s): %d attempts, want %d", op.F, op.Key, op.Type, op.Attempts, wantAttempts)
		}
	}
	for _, f := range []string{FBrowse, FWithdraw} {
		for k := range 4 {
			if seen[fmt.Sprintf("%s %d", f, k)] == 0 {
				t.Errorf("no %s answered like key %d: the run was too short to judge", f, k)
			}
		}
	}
	if seen[FDeposit+" 0"]+seen[FDeposit+" 1"]+seen[FDeposit+" 2"]+seen[FDeposit+" 3"] != 4 {
		t.Errorf("openings: %v, want one deposit per account", seen)
	}
}

func TestGatewayOutcome(t *testing.T) {
	cases := []struct {
		code   int
		source string
		out    Outcome
		retry  bool
	}{
		{200, history.SourceUpstream, Applied, false},
		{200, history.SourceFallback, Applied, false},
		{202, history.SourceUpstream, Applied, false},
		{503, history.SourceBreaker, NotApplied, false},
		{409, history.SourceUpstream, NotApplied, false},
		{404, "", NotApplied, false},
		{503, history.SourceUpstream, Unknown, true}, // relayed after the gateway's own retries
		{503, "", Unknown, true},
		{504, history.SourceUpstream, Unknown, true},
		{502, history.SourceUpstream, Unknown, true},
		{500, history.SourceUpstream, Unknown, true},
	}
	for _, c := range cases {
		a := gatewayOutcome("http://gw:1", c.code, "why", c.source)
		if a.Out != c.out || a.Retry != c.retry || a.Status != c.code || a.Source != c.source {
			t.Errorf("%d %q: %+v, want outcome %d retry %v", c.code, c.source, a, c.out, c.retry)
		}
		if (a.Err == "") != (c.out == Applied) {
			t.Errorf("%d %q: error %q", c.code, c.source, a.Err)
		}
	}
	if a := gatewayOutcome("http://gw:1", 503, "open", history.SourceBreaker); a.Err != "gw:1: HTTP 503: open (breaker)" {
		t.Errorf("error %q", a.Err)
	}
}

// An attempt that got no answer records no status and no source.
func TestGatewayNoAnswer(t *testing.T) {
	k, _ := Lookup("gateway")
	a := k.Send(context.Background(), NewHTTPClient(1, time.Second), refusedAddr(t), Planned{F: FBrowse, Key: "item-1"}, time.Second)
	if a.Out != NotApplied || !a.Retry || a.Status != 0 || a.Source != "" {
		t.Errorf("refused: %+v", a)
	}
}

func TestGatewayGenerator(t *testing.T) {
	w := gatewayWorkload()
	k, ok := Lookup("gateway")
	decl, declared := plan.LookupWorkloadKind("gateway")
	if !ok || !declared || decl.Doc == "" {
		t.Fatal("the gateway kind is not registered")
	}
	if err := k.(Checker).Check(w); err != nil {
		t.Fatal(err)
	}
	if k.Keys(w) != nil {
		t.Error("Keys: want no final reads")
	}
	open := k.Openings(w)
	if len(open) != 4 || open[3] != (Planned{ID: "d-000003", F: FDeposit, Key: "acct-3", Amount: 500}) {
		t.Errorf("openings %+v", open)
	}
	draw := func(proc int) []Planned {
		next := k.Generator(w, proc)
		out := make([]Planned, 2000)
		for i := range out {
			out[i] = next()
		}
		return out
	}
	a, b := draw(1), draw(1)
	ids := map[string]bool{}
	browses := 0
	for i, op := range a {
		if op != b[i] {
			t.Fatalf("op %d differs between two draws of one seed: %+v, %+v", i, op, b[i])
		}
		switch op.F {
		case FBrowse:
			browses++
			n, err := strconv.Atoi(strings.TrimPrefix(op.Key, "item-"))
			if err != nil || n < 0 || n >= 8 || op.ID != "" || !op.NoAmount {
				t.Errorf("browse %+v", op)
			}
		case FWithdraw:
			if ids[op.ID] || !strings.HasPrefix(op.ID, "w-") || op.Amount < 1 || op.Amount > 100 || op.ID <= "w-000003" {
				t.Errorf("withdrawal %+v", op)
			}
			ids[op.ID] = true
		default:
			t.Errorf("unexpected %+v", op)
		}
	}
	if browses < 900 || browses > 1100 {
		t.Errorf("%d browses in 2000 draws, want about half", browses)
	}
	w.Params["browse"] = "0"
	for _, op := range draw(0)[:100] {
		if op.F != FWithdraw {
			t.Fatalf("browse 0 drew %+v", op)
		}
	}
	w.Params["browse"] = "1.5"
	if err := k.(Checker).Check(w); err == nil {
		t.Error("browse 1.5 accepted")
	}
}
