// Command benchtable reads the output of `go test -bench` on its standard input, copies
// it to its standard output as it comes (a long benchmark run shows its progress), and
// at the end prints the project's performance figures as a table: each figure's median
// over the runs found, its target beside it, and whether it meets the target. `make
// bench` pipes its benchmarks through it.
//
//	go test -run '^$' -bench . -count 3 ./... | go run ./internal/benchtable
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	figs, err := read(io.TeeReader(os.Stdin, os.Stdout))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	fmt.Println()
	write(os.Stdout, figs)
}
