// Command timerfloor measures how well this machine lets a Go program
// keep a schedule at all: one goroutine sleeps until each send time of a
// constant rate and does nothing else, and the share of its wake-ups more
// than 2 ms late (inferbench's late-send threshold) is the floor under
// any open loop's late sends on this machine, at this moment.
//
//	go run ./bench/timerfloor -rate 20000 -d 5s
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/inferbench/inferbench/bench/schedstat"
)

func main() {
	rate := flag.Float64("rate", 20000, "wake-ups per second")
	d := flag.Duration("d", 5*time.Second, "how long")
	flag.Parse()
	if !(*rate > 0) || *d <= 0 {
		fmt.Fprintln(os.Stderr, "timerfloor: -rate and -d must be above 0")
		os.Exit(2)
	}
	const threshold = 2 * time.Millisecond
	_, waited0 := schedstat.Sum()
	start := time.Now()
	var late, n int
	var worst time.Duration
	for i := 0; ; i++ {
		due := start.Add(time.Duration(float64(i) * float64(time.Second) / *rate))
		if due.Sub(start) >= *d {
			break
		}
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		lag := time.Since(due)
		worst = max(worst, lag)
		if lag > threshold {
			late++
		}
		n++
	}
	_, waited := schedstat.Sum()
	fmt.Printf("timer floor at %.0f/s for %s: %d of %d wake-ups (%.2f%%) more than 2 ms late, the worst %.1f ms; waited %.0f ms for a CPU\n",
		*rate, *d, late, n, 100*float64(late)/float64(max(n, 1)), float64(worst)/float64(time.Millisecond), float64(waited-waited0)/1e6)
}
