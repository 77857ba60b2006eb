package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/mscli/mscli/testbed"
)

// process is one node run as a child process of the mscli binary. Its lifecycle
// operations are serialised by mu, so a restart and a kill of one node cannot
// interleave; they satisfy testbed.Node (and chaos.Node).
type process struct {
	env  *Env
	name string
	// program is what runs: "" for the mscli binary (args then start with "fixture",
	// role), else a user's program or a database server.
	program string
	args    []string
	// environ is added to the testbed's environment; user, when set, runs the process
	// as another user (PostgreSQL refuses to run as root).
	environ []string
	workDir string
	user    *credential
	// tree: the process's children leave its process group (PostgreSQL's call
	// setsid), so kill, pause and resume signal each of them too.
	tree bool
	// stop is the signal that asks it to exit (SIGTERM unless set: PostgreSQL's fast
	// shutdown is SIGINT, its SIGTERM waits for every client to leave).
	stop syscall.Signal
	// ready says when the started process is ready (Node, URL, TCP or Check set).
	ready testbed.Readiness
	log   string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has exited
	exit   error         // cmd.Wait's result, valid once done is closed
	paused bool
}

func (p *process) Name() string { return p.name }

// hostEnv is the part of mscli's environment a program other than mscli gets (a user's
// service, PostgreSQL): what finds programs and sets the locale, nothing else — a
// DATABASE_URL or PGHOST of the shell that started mscli must never reach the system
// under test, which gets what the scenario says (plan.Service.Environ), as in a
// container.
func hostEnv() []string {
	var out []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME"} {
		if v, ok := os.LookupEnv(k); ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// dir is where a program other than mscli runs: the folder its service's scenario
// gives, else the run directory.
func (p *process) dir() string {
	if p.workDir != "" {
		return p.workDir
	}
	return p.env.dir
}

// running reports whether the process was started and has not exited; mu held.
func (p *process) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Pid is the process id, or 0 when the node does not run.
func (p *process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running() {
		return 0
	}
	return p.cmd.Process.Pid
}

// Start starts the node unless it already runs and waits until it is ready.
func (p *process) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running() {
		return nil
	}
	return p.startLocked(ctx)
}

func (p *process) startLocked(ctx context.Context) error {
	if !supported {
		return errUnsupported
	}
	ctx, cancel := p.env.bind(ctx)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	// Restarts append to the same log: its tail then tells the whole story.
	fmt.Fprintf(logf, "--- mscli: starting %s at %s\n", p.name, time.Now().Format(time.RFC3339Nano))
	program := p.program
	if program == "" {
		program = p.env.binary
	}
	cmd := exec.Command(program, p.args...)
	cmd.Dir = p.env.dir
	if p.program != "" {
		cmd.Dir = p.dir()
	}
	base := os.Environ()
	if p.program != "" {
		base = hostEnv()
	}
	cmd.Env = append(base, "MSCLI_RUN="+p.env.opts.RunID, "MSCLI_NODE="+p.name)
	cmd.Env = append(cmd.Env, p.environ...)
	var out io.WriteCloser = logf
	if sec := p.env.opts.Secrets; !sec.Empty() {
		// Through a pipe, redacted (a value split across two writes included), so a
		// secret a node prints never reaches its log; the pipe's copy ends with the
		// process group, or a second after the process when something else holds it.
		out = sec.Writer(logf)
		cmd.WaitDelay = time.Second
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if p.user != nil {
		cmd.SysProcAttr = withUser(cmd.SysProcAttr, p.user)
	}
	err = cmd.Start()
	if out == logf || err != nil {
		out.Close() // the child holds its own descriptor, or there is none
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.exit, p.paused = cmd, done, nil, false
	go func() {
		err := cmd.Wait()
		if out != logf {
			out.Close() // what was held back, then the log
		}
		p.exit = err // read only after done is closed
		close(done)
	}()
	p.env.notePid(cmd.Process.Pid, p.name)
	began := time.Now()
	r := p.ready
	r.Node, r.Timeout, r.Log, r.Exited = p.name, p.env.opts.StartTimeout, p.log, done
	if err := r.Wait(ctx); err != nil {
		// A node that is not ready is stopped rather than left to come up later,
		// unannounced, in the middle of a run.
		p.killLocked(context.WithoutCancel(ctx))
		return err
	}
	p.env.opts.Node(p.name, testbed.NodeReady, "%s ready (pid %d) in %s", p.name, cmd.Process.Pid, time.Since(began).Round(time.Millisecond))
	return nil
}

// Kill is kill -9 of the node's process group; it returns once the process is gone.
func (p *process) Kill(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running() {
		return fmt.Errorf("kill %s: not running", p.name)
	}
	return p.killLocked(ctx)
}

func (p *process) killLocked(ctx context.Context) error {
	pid := p.cmd.Process.Pid
	kids := p.descendants(pid)
	if err := p.signal(pid, kids, sigKill); err != nil {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	p.paused = false
	if err := p.waitLocked(ctx); err != nil {
		return err
	}
	return waitGone(ctx, p.name, kids)
}

func (p *process) waitLocked(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for %s to exit: %w", p.name, ctx.Err())
	}
}

// Stop asks the node to exit (SIGTERM) and kills it after the grace period.
func (p *process) Stop(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopLocked(ctx)
}

func (p *process) stopLocked(ctx context.Context) error {
	if !p.running() {
		return nil
	}
	pid := p.cmd.Process.Pid
	// A frozen process would keep SIGTERM pending until thawed: thaw it first.
	if p.paused {
		if err := p.signal(pid, p.descendants(pid), sigCont); err != nil {
			return fmt.Errorf("stop %s: %w", p.name, err)
		}
		p.paused = false
	}
	sig := sigTerm
	if p.stop != 0 {
		sig = p.stop
	}
	if err := signalGroup(pid, sig); err != nil {
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	grace := time.NewTimer(p.env.opts.StopGrace)
	defer grace.Stop()
	select {
	case <-p.done:
		return nil
	case <-grace.C:
	case <-ctx.Done():
	}
	return p.killLocked(context.WithoutCancel(ctx))
}

// Pause freezes the node's process group (SIGSTOP) and returns once the kernel says
// it is stopped, so the fault is in place when its start is recorded.
func (p *process) Pause(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running() {
		return fmt.Errorf("pause %s: not running", p.name)
	}
	pid := p.cmd.Process.Pid
	kids := p.descendants(pid)
	if err := p.signal(pid, kids, sigStop); err != nil {
		return fmt.Errorf("pause %s: %w", p.name, err)
	}
	p.paused = true
	if err := waitStopped(append([]int{pid}, kids...)...); err != nil {
		return fmt.Errorf("pause %s: %w", p.name, err)
	}
	return nil
}

// Resume thaws a paused node (SIGCONT); it does nothing to a node that is not paused
// (killed and restarted since, for instance).
func (p *process) Resume(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running() || !p.paused {
		return nil
	}
	pid := p.cmd.Process.Pid
	if err := p.signal(pid, p.descendants(pid), sigCont); err != nil {
		return fmt.Errorf("resume %s: %w", p.name, err)
	}
	p.paused = false
	return nil
}

// freezeLocked stops a running, unpaused node for a consistent copy of its data and returns
// what thaws it; mu held. A node paused by a fault stays paused.
func (p *process) freezeLocked() (thaw func(), err error) {
	if !p.running() || p.paused {
		return func() {}, nil
	}
	pid := p.cmd.Process.Pid
	kids := p.descendants(pid)
	if err := p.signal(pid, kids, sigStop); err != nil {
		return nil, fmt.Errorf("freeze %s: %w", p.name, err)
	}
	if err := waitStopped(append([]int{pid}, kids...)...); err != nil {
		p.signal(pid, kids, sigCont)
		return nil, fmt.Errorf("freeze %s: %w", p.name, err)
	}
	return func() { p.signal(pid, kids, sigCont) }, nil
}

// waitStopped waits until the kernel reports every thread of the process stopped:
// SIGSTOP is delivered asynchronously, thread by thread, and a copy must not start
// while one still writes. Without /proc there is nothing to poll; a short sleep covers
// delivery.
func waitStopped(pids ...int) error {
	if !procAvailable() {
		time.Sleep(20 * time.Millisecond)
		return nil
	}
	deadline := time.Now().Add(2 * time.Second)
	for _, pid := range pids {
		for {
			stopped, err := procStopped(pid)
			if err != nil || stopped {
				break // gone, or stopped
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("process %d did not stop", pid)
			}
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

// descendants are the processes signal must reach beside the group: none unless tree.
func (p *process) descendants(pid int) []int {
	if !p.tree || !procAvailable() {
		return nil
	}
	return procDescendants(pid)
}

// signal signals the process's group and each descendant's (their own, when they
// left it).
func (p *process) signal(pid int, kids []int, sig syscall.Signal) error {
	err := signalGroup(pid, sig)
	for _, k := range kids {
		if kerr := signalGroup(k, sig); kerr != nil && err == nil {
			err = kerr
		}
	}
	return err
}

// waitGone waits until every one of pids has exited: a killed server's children must
// not write into a data directory that is about to be replaced.
func waitGone(ctx context.Context, name string, pids []int) error {
	for _, pid := range pids {
		for !procGone(pid) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("wait for the processes of %s to exit: %w", name, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return nil
}
