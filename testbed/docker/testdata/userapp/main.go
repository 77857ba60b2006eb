// Command userapp is a service of a user's own for the docker testbed's tests, built
// static and run FROM scratch. With $PORT it serves HTTP: /healthz; /env, its
// environment as JSON; /dial?env=NAME, whether the address in $NAME (host:port, or a
// URL's host) takes a TCP connection and answers (a first line, or, with &pg=1, a
// PostgreSQL server's answer to an SSL request, or, with &http=/path, the body an HTTP
// server answers GET /path with); /whoami, "<service>/<replica>" from MSCLI_SERVICE
// and MSCLI_REPLICA. Without $PORT it reports every 200ms
// on stdout whether $WATCH_ADDR answers HTTP. $USERAPP_DELAY (a duration) holds it
// back before it listens. $USERAPP_PRINT names a variable whose value it prints at
// start, on stdout and on stderr, with the value's SHA-256 (a secret's redaction).
// $USERAPP_FAIL makes it print that line on stderr and exit 1 at once: a node that
// dies as it starts.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if name := os.Getenv("USERAPP_PRINT"); name != "" {
		v := os.Getenv(name)
		fmt.Printf("%s=%s\n", name, v)
		fmt.Fprintf(os.Stderr, "on stderr: %s\n", v)
		fmt.Printf("sha256 %x\n", sha256.Sum256([]byte(v)))
	}
	if msg := os.Getenv("USERAPP_FAIL"); msg != "" {
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(1)
	}
	if d, err := time.ParseDuration(os.Getenv("USERAPP_DELAY")); err == nil {
		time.Sleep(d)
	}
	port := os.Getenv("PORT")
	if port == "" {
		watch(ctx, os.Getenv("WATCH_ADDR"))
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		json.NewEncoder(w).Encode(env)
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s/%s", os.Getenv("MSCLI_SERVICE"), os.Getenv("MSCLI_REPLICA"))
	})
	mux.HandleFunc("/dial", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var answer string
		var err error
		if path := q.Get("http"); path != "" {
			answer, err = get(os.Getenv(q.Get("env")), path)
		} else {
			answer, err = dial(os.Getenv(q.Get("env")), q.Get("pg") != "")
		}
		res := map[string]any{"connected": err == nil, "answer": answer}
		if err != nil {
			res["error"] = err.Error()
		}
		json.NewEncoder(w).Encode(res)
	})
	srv := &http.Server{Addr: ":" + port, Handler: mux}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// dial connects to addr and reads its answer: the first line it sends, or the one
// byte a PostgreSQL server answers an SSL request with ('S' or 'N').
func dial(addr string, pg bool) (string, error) {
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		addr = u.Host
	}
	if addr == "" {
		return "", fmt.Errorf("no address")
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if pg {
		req := make([]byte, 8)
		binary.BigEndian.PutUint32(req[0:], 8)
		binary.BigEndian.PutUint32(req[4:], 80877103)
		if _, err := c.Write(req); err != nil {
			return "", err
		}
		b := make([]byte, 1)
		if _, err := c.Read(b); err != nil {
			return "", err
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(line) > 16 {
		line = line[:16]
	}
	return line, nil
}

// get asks the HTTP server at addr (host:port, or a URL's host) for path and returns
// the body of its answer.
func get(addr, path string) (string, error) {
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		addr = u.Host
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Get("http://" + addr + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256))
	return string(b), err
}

func watch(ctx context.Context, addr string) {
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			fmt.Printf("watch %s: %s\n", addr, resp.Status)
		} else {
			fmt.Printf("watch %s: %v\n", addr, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}
