// Command tracerun runs inferbench's command line under runtime/trace, so
// that a late episode of the open loop can be read in `go tool trace`,
// and prints how long the process's threads waited for a CPU
// (run_delay in /proc/self/task/*/schedstat, Linux): the time the
// machine, not the program, held the sends back.
//
//	go run ./bench/tracerun -o trace.out -- bench --url ... --rate 20000 -d 3s
//	go run ./bench/tracerun -o "" -- bench ...   (no trace, only the CPU waits)
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/trace"
	"time"

	"github.com/inferbench/inferbench/bench/schedstat"
	"github.com/inferbench/inferbench/internal/cli"
)

func main() {
	out := flag.String("o", "trace.out", "the trace file to write (empty: no trace)")
	flag.Parse()
	var f *os.File
	if *out != "" {
		var err error
		if f, err = os.Create(*out); err != nil {
			fmt.Fprintln(os.Stderr, "tracerun:", err)
			os.Exit(2)
		}
		if err := trace.Start(f); err != nil {
			fmt.Fprintln(os.Stderr, "tracerun: start the trace:", err)
			os.Exit(2)
		}
	}
	ran0, waited0 := schedstat.Sum()
	start := time.Now()
	code := cli.Main(flag.Args(), os.Stdout, os.Stderr)
	wall := time.Since(start)
	ran, waited := schedstat.Sum()
	if f != nil {
		trace.Stop()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "tracerun: write %s: %v\n", *out, err)
			os.Exit(2)
		}
	}
	fmt.Fprintf(os.Stderr, "tracerun: %.2f s wall, threads ran %.0f ms on a CPU and waited %.0f ms for one (run_delay)\n",
		wall.Seconds(), float64(ran-ran0)/1e6, float64(waited-waited0)/1e6)
	os.Exit(code)
}
