// Command mscli runs distributed failure scenarios against microservices and checks
// their invariants. Commands are thin: flags become an options struct handed to the
// core packages (runner, scenarios, reports, fixtures); the exit code comes from one
// table (runner.ExitCode).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mscli/mscli/runner"
)

// version is stamped by the Makefile with -ldflags "-X main.version=…".
var version = "dev"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run executes one command line and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// A second ^C exits at once: the first one is cleaning up.
		<-ctx.Done()
		stop()
		second := make(chan os.Signal, 1)
		signal.Notify(second, os.Interrupt)
		if _, ok := <-second; ok {
			fmt.Fprintln(stderr, "mscli: interrupted again, exiting without cleanup")
			os.Exit(int(runner.ExitInterrupted))
		}
	}()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var code runner.ExitCode
	switch e := err.(type) {
	case nil:
	case exitCode:
		code = runner.ExitCode(e) // the command already reported
	default:
		code = runner.CodeOf(err)
		if code == runner.ExitCouldNotRun && ctx.Err() != nil {
			code = runner.ExitInterrupted
		}
		if code == runner.ExitInterrupted && errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "mscli: interrupted: faults healed and everything the run started stopped; what was recorded is in the run directory")
		} else {
			fmt.Fprintf(stderr, "mscli: %v\n", err)
		}
	}
	return int(code)
}

// exitCode is returned by a command that printed its own result and only needs the
// process to exit with a code (a failed invariant is a result, not an error).
type exitCode runner.ExitCode

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }
