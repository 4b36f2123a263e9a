//go:build !unix

package protocol_test

import "time"

// cpuTime is not read here: the benchmarks' cpu-µs/op is then 0.
func cpuTime() time.Duration { return 0 }
