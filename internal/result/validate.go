package result

import (
	"fmt"
	"math"

	"github.com/inferbench/inferbench/internal/measure"
)

// Validate checks that a file's numbers could have been measured: counts
// and times not negative, as many successes and errors as requests sent
// at most, an error rate between 0 and 1, every number finite. A file
// that fails (edited by hand, or written by something else) would
// otherwise render as "300/-5" or "+Inf% excellent". The error names the
// run by its index and the field.
func Validate(f *File) error {
	for i := range f.Runs {
		if err := validateRun(&f.Runs[i]); err != nil {
			return fmt.Errorf("run %d (%s): %w", i, f.Runs[i].Deployment.Name, err)
		}
	}
	return nil
}

func validateRun(r *Run) error {
	c := r.Counts
	ints := []struct {
		field string
		v     int64
	}{
		{"counts.sent", c.Sent}, {"counts.ok", c.OK}, {"counts.errors", c.Errors},
		{"warmup.attempted", int64(r.Warmup.Attempted)}, {"warmup.succeeded", int64(r.Warmup.Succeeded)},
		{"load.concurrency", int64(r.Load.Concurrency)}, {"load.requests", int64(r.Load.Requests)},
		{"client.late_sends", r.Client.LateSends},
	}
	for _, n := range ints {
		if n.v < 0 {
			return fmt.Errorf("%s %d is negative", n.field, n.v)
		}
	}
	switch {
	case c.OK > c.Sent || c.Errors > c.Sent:
		return fmt.Errorf("counts.ok %d and counts.errors %d: more than counts.sent %d", c.OK, c.Errors, c.Sent)
	case r.Warmup.Succeeded > r.Warmup.Attempted:
		return fmt.Errorf("warmup.succeeded %d is more than warmup.attempted %d", r.Warmup.Succeeded, r.Warmup.Attempted)
	case !(r.ErrorRate >= 0 && r.ErrorRate <= 1):
		return fmt.Errorf("error_rate %v is not between 0 and 1", r.ErrorRate)
	}
	floats := []number{
		{"throughput_rps", r.ThroughputRPS}, {"elapsed_s", r.ElapsedS}, {"send_rate_rps", r.SendRateRPS},
		{"load.rate", r.Load.Rate}, {"load.duration_s", r.Load.DurationS}, {"client.cpu_percent", r.Client.CPUPercent},
	}
	floats = append(floats, latencyFields("latency_ms", r.LatencyMs)...)
	if r.ServiceTimeMs != nil {
		floats = append(floats, latencyFields("service_time_ms", *r.ServiceTimeMs)...)
	}
	for _, x := range floats {
		if !(x.v >= 0) || math.IsInf(x.v, 0) { // NaN fails the first
			return fmt.Errorf("%s %v is not a finite number, 0 or above", x.field, x.v)
		}
	}
	for _, groups := range [][]measure.ErrorGroup{r.Errors, r.Warmup.Errors} {
		for j, g := range groups {
			if g.Count < 0 {
				return fmt.Errorf("errors[%d].count %d is negative", j, g.Count)
			}
		}
	}
	return nil
}

// number is a field's name and value.
type number struct {
	field string
	v     float64
}

func latencyFields(name string, l measure.Latency) []number {
	return []number{
		{name + ".min", l.Min}, {name + ".mean", l.Mean}, {name + ".stddev", l.Stddev}, {name + ".p50", l.P50}, {name + ".p90", l.P90},
		{name + ".p95", l.P95}, {name + ".p99", l.P99}, {name + ".p999", l.P999}, {name + ".max", l.Max},
	}
}
