package messages_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mscli/mscli/chaos"
	_ "github.com/mscli/mscli/chaos/messages"
	"github.com/mscli/mscli/fixtures/broker/brokertest"
	"github.com/mscli/mscli/plan"
)

// env is a chaos.Env with a broker and nothing else.
type env struct{ broker string }

func (e *env) Links(t string) ([]chaos.Link, error) { return nil, fmt.Errorf("no link %q", t) }
func (e *env) Nodes(t string) ([]chaos.Node, error) { return nil, fmt.Errorf("no node %q", t) }
func (e *env) BrokerURL() string                    { return e.broker }

func fault(kind, target string, params map[string]string) plan.Fault {
	return plan.Fault{Kind: kind, Target: target, Params: params, Source: "scenario"}
}

// jetStream runs a JetStream broker and returns its URL.
func jetStream(t *testing.T) string { return brokertest.Start(t) }

// fill creates the command stream (with an unrelated subject in it too) and publishes
// n commands with a dedup id and an application header.
func fill(t *testing.T, url string, n int) (jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	_, js := brokertest.JetStream(t, url)
	ctx := context.Background()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BANK", Subjects: []string{"bank.commands.>", "audit.>"},
		Duplicates: time.Hour, AllowDirect: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m := nats.NewMsg(fmt.Sprintf("bank.commands.acct-%d", i%5))
		m.Data = fmt.Appendf(nil, `{"id":"w-%06d"}`, i)
		m.Header.Set(nats.MsgIdHdr, fmt.Sprintf("w-%06d", i))
		m.Header.Set("Op-Id", fmt.Sprintf("w-%06d", i))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := js.Publish(ctx, "audit.x", []byte("not a command")); err != nil {
		t.Fatal(err)
	}
	return js, st
}

// duplicated lists the data of the copies (messages after the originals).
func duplicated(t *testing.T, st jetstream.Stream, from uint64) []string {
	t.Helper()
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for seq := from; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get(nats.MsgIdHdr) != "" {
			t.Errorf("copy #%d kept its Nats-Msg-Id", seq)
		}
		if m.Header.Get("Op-Id") == "" {
			t.Errorf("copy #%d lost its application header", seq)
		}
		want := fmt.Sprintf(`{"id":"%s"}`, m.Header.Get("Op-Id"))
		if string(m.Data) != want {
			t.Errorf("copy #%d: data %s, want %s", seq, m.Data, want)
		}
		out = append(out, m.Subject+" "+string(m.Data))
	}
	return out
}

func TestDuplicateRepublishesWithoutDedupID(t *testing.T) {
	const n = 200
	runOnce := func() []string {
		url := jetStream(t)
		_, st := fill(t, url, n)
		e := &env{broker: url}
		heal, err := chaos.Apply(context.Background(), e, fault("duplicate", "bank.commands", map[string]string{"ratio": "0.2"}))
		if err != nil {
			t.Fatal(err)
		}
		if heal != nil {
			t.Error("duplicate returned a heal: it is instantaneous")
		}
		return duplicated(t, st, n+2) // n commands and one audit message came first
	}
	first := runOnce()
	if len(first) < n/10 || len(first) > n*3/10 {
		t.Fatalf("%d of %d messages duplicated at ratio 0.2", len(first), n)
	}
	for _, d := range first {
		if d[:len("bank.commands.")] != "bank.commands." {
			t.Errorf("duplicated a message outside the target: %s", d)
		}
	}
	// The same fault over the same stream picks the same messages.
	second := runOnce()
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Errorf("two runs duplicated different messages:\n%v\n%v", first, second)
	}
}

func TestDuplicateErrors(t *testing.T) {
	url := jetStream(t)
	e := &env{broker: url}
	f, _ := chaos.Lookup("duplicate")
	if _, err := f.Apply(context.Background(), e, fault("duplicate", "nothing.here", nil)); err == nil {
		t.Error("duplicate on a subject with no stream succeeded")
	}
	if _, err := f.Apply(context.Background(), e, fault("duplicate", "bank.commands", map[string]string{"ratio": "2"})); err == nil {
		t.Error("ratio 2 accepted")
	}
}

// A message fault due while another fault holds the broker down applies once the
// broker is back (within its apply deadline) instead of failing.
func TestDuplicateWaitsForABrokerThatIsRestarting(t *testing.T) {
	dir := t.TempDir()
	start := func(port int) *server.Server {
		s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats-server not ready")
		}
		return s
	}
	s := start(-1)
	url, port := s.ClientURL(), s.Addr().(*net.TCPAddr).Port
	const n = 50
	fill(t, url, n)
	s.Shutdown()
	s.WaitForShutdown()

	back := make(chan *server.Server, 1)
	time.AfterFunc(700*time.Millisecond, func() { back <- start(port) })
	t.Cleanup(func() { s := <-back; s.Shutdown(); s.WaitForShutdown() })
	f, _ := chaos.Lookup("duplicate")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	began := time.Now()
	if _, err := f.Apply(ctx, &env{broker: url}, fault("duplicate", "bank.commands", map[string]string{"ratio": "0.5"})); err != nil {
		t.Fatalf("duplicate while the broker restarts: %v", err)
	}
	if waited := time.Since(began); waited < 500*time.Millisecond {
		t.Fatalf("applied after %s, before the broker was back", waited)
	}
	// And with no broker at all it gives up when its deadline passes.
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	_, err := f.Apply(short, &env{broker: "nats://127.0.0.1:1"}, fault("duplicate", "bank.commands", map[string]string{"ratio": "0.5"}))
	if err == nil || !strings.Contains(err.Error(), "connect to broker") {
		t.Fatalf("duplicate with no broker: %v, want a connect error", err)
	}
}
