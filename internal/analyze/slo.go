package analyze

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

var sloPattern = regexp.MustCompile(`^\s*p(50|90|95|99|99\.9)\s*<=?\s*([0-9.]+\s*(?:ns|us|µs|ms|s|m))\s*$`)

// ParseSLO reads a latency objective on a percentile: "p99<=200ms",
// "p50<=20ms", "p99.9<=1s" (p50, p90, p95, p99 or p99.9; "<" is read as
// "<=").
func ParseSLO(s string) (*SLO, error) {
	m := sloPattern.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("SLO %q: want pNN<=DURATION, for example p99<=200ms (percentiles p50, p90, p95, p99, p99.9)", s)
	}
	p, _ := strconv.ParseFloat(m[1], 64)
	d, err := time.ParseDuration(regexp.MustCompile(`\s+`).ReplaceAllString(m[2], ""))
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("SLO %q: %q is not a positive duration", s, m[2])
	}
	return &SLO{Percentile: p, MaxMs: float64(d) / float64(time.Millisecond)}, nil
}
