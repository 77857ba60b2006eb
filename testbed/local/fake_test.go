package local_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The test binary doubles as a fake mscli: run as `<test binary> fixture broker|bank
// …` it plays a node with the real fixtures' flags and health endpoints, so the
// testbed's process handling, proxies and data faults are tested without the real
// fixtures. The fake broker echoes every TCP connection; a fake bank holds a
// connection to the broker (through its proxy) and is ready only while a ping over it
// comes back, and appends each PUT's op id as a line to its "database" file.

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func fakeFixture(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "fake fixture: no role")
		return 2
	}
	role := args[0]
	fs := flag.NewFlagSet(role, flag.ContinueOnError)
	listen := fs.String("listen", "", "")
	httpAddr := fs.String("http", "", "")
	data := fs.String("data", "", "")
	broker := fs.String("broker", "", "")
	db := fs.String("db", "", "")
	replica := fs.Int("replica", 0, "")
	fs.String("dead-letter-file", "", "")
	fs.String("service", "", "")
	var bugs multi
	fs.Var(&bugs, "inject-bug", "")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	fmt.Printf("fake %s starting: %s (MSCLI_NODE=%s)\n", role, strings.Join(args, " "), os.Getenv("MSCLI_NODE"))
	for _, b := range bugs {
		switch b {
		case "crash":
			fmt.Println("boom: crash injected")
			return 3
		case "never-ready":
			fmt.Println("never ready, as injected")
		}
	}
	never := len(bugs) > 0 && bugs[0] == "never-ready"
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	switch role {
	case "broker":
		os.MkdirAll(*data, 0o755)
		if _, err := os.Stat(filepath.Join(*data, "state")); err != nil {
			os.WriteFile(filepath.Join(*data, "state"), []byte("fresh"), 0o644)
		}
		l, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() { io.Copy(c, c); c.Close() }()
			}
		}()
		go http.ListenAndServe(*httpAddr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" && !never {
				w.WriteHeader(http.StatusOK)
				return
			}
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
	case "bank":
		b := &fakeBank{broker: strings.TrimPrefix(*broker, "nats://"), db: strings.TrimPrefix(*db, "sqlite://"), never: never}
		go http.ListenAndServe(*listen, b)
		fmt.Printf("bank replica %d on %s\n", *replica, *listen)
	default:
		fmt.Println("unknown role", role)
		return 2
	}
	<-sigs
	fmt.Println("fake", role, "stopping on SIGTERM")
	return 0
}

type fakeBank struct {
	broker, db string
	never      bool
	mu         sync.Mutex
	conn       net.Conn
}

// brokerOK pings the broker over the held connection, redialling once if it broke.
func (b *fakeBank) brokerOK() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for try := 0; try < 2; try++ {
		if b.conn == nil {
			c, err := net.DialTimeout("tcp", b.broker, 300*time.Millisecond)
			if err != nil {
				return false
			}
			b.conn = c
		}
		b.conn.SetDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := b.conn.Write([]byte("ping\n")); err == nil {
			line, err := bufio.NewReader(io.LimitReader(b.conn, 5)).ReadString('\n')
			if err == nil && line == "ping\n" {
				return true
			}
		}
		b.conn.Close()
		b.conn = nil
	}
	return false
}

func (b *fakeBank) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/readyz":
		if b.never || !b.brokerOK() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/accounts/"):
		parts := strings.Split(r.URL.Path, "/")
		f, err := os.OpenFile(b.db, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(f, parts[len(parts)-1])
		f.Close()
		w.WriteHeader(http.StatusAccepted)
	case r.URL.Path == "/effects":
		data, _ := os.ReadFile(b.db)
		fmt.Fprint(w, len(bytes.Fields(data)))
	default:
		http.NotFound(w, r)
	}
}
