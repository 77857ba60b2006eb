package testbed

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Leases are below the kernel's ephemeral range, never the same twice while held —
// by this process or another — and free for others after Release.
func TestPortsLeases(t *testing.T) {
	if os.Getenv("MSCLI_PORTS_CHILD") != "" {
		// The other process: lease many ports, print them, hold them until stdin ends.
		var p Ports
		var out []string
		for range 200 {
			a, err := p.Addr()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, a)
		}
		os.Stdout.WriteString(strings.Join(out, " ") + "\n")
		buf := make([]byte, 1)
		os.Stdin.Read(buf)
		return
	}
	lo, hi := leaseRange()
	child := exec.Command(os.Args[0], "-test.run=^TestPortsLeases$")
	child.Env = append(os.Environ(), "MSCLI_PORTS_CHILD=1")
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); child.Wait() }()
	line := make([]byte, 1<<16)
	n, _ := stdout.Read(line)
	theirs := map[string]bool{}
	for _, a := range strings.Fields(string(line[:n])) {
		theirs[a] = true
	}
	if len(theirs) != 200 {
		t.Fatalf("the other process leased %d distinct ports, want 200: %q", len(theirs), line[:n])
	}

	var p Ports
	mine := map[string]bool{}
	for range 300 {
		a, err := p.Addr()
		if err != nil {
			t.Fatal(err)
		}
		_, ps, _ := net.SplitHostPort(a)
		port, _ := strconv.Atoi(ps)
		switch {
		case port < lo || port > hi:
			t.Errorf("%s is outside %d–%d, where connections take no port", a, lo, hi)
		case mine[a]:
			t.Errorf("%s leased twice by one process", a)
		case theirs[a]:
			t.Errorf("%s is leased by the other process too", a)
		}
		mine[a] = true
	}
	// Released, each can be leased again by someone else.
	p.Release()
	var again Ports
	defer again.Release()
	for a := range mine {
		f, err := os.OpenFile(lockPath(a), os.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !tryLock(f) {
			t.Errorf("%s is still held after Release", a)
		}
		f.Close()
	}
}
