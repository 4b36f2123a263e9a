package result

import (
	"fmt"
	"math"
	"time"

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
		{"client.late_sends", r.Client.LateSends}, {"counts.dropped", c.Dropped}, {"trial", int64(r.Trial)},
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
	if r.Started != nil && r.Ended != nil && r.Ended.Before(*r.Started) {
		return fmt.Errorf("ended %s is before started %s", r.Ended.Format(time.RFC3339Nano), r.Started.Format(time.RFC3339Nano))
	}
	for j, iv := range r.Timeline {
		if err := validateInterval(iv); err != nil {
			return fmt.Errorf("timeline[%d]: %w", j, err)
		}
	}
	return nil
}

// validateInterval checks one timeline record's numbers (v2); its
// histogram is decoded, and checked, by whatever reads it.
func validateInterval(iv measure.Interval) error {
	for field, v := range map[string]int64{"sent": iv.Sent, "ok": iv.OK, "in_flight": iv.InFlight} {
		if v < 0 {
			return fmt.Errorf("%s %d is negative", field, v)
		}
	}
	for class, v := range iv.Errors {
		if v < 0 {
			return fmt.Errorf("errors.%s %d is negative", class, v)
		}
	}
	floats := []number{{"duration_s", iv.DurationS}, {"max_silence_ms", iv.MaxSilenceMs}}
	if q := iv.LatencyMs; q != nil {
		floats = append(floats, number{"latency_ms.p50", q.P50}, number{"latency_ms.p90", q.P90}, number{"latency_ms.p99", q.P99}, number{"latency_ms.max", q.Max})
	}
	for _, x := range floats {
		if !(x.v >= 0) || math.IsInf(x.v, 0) {
			return fmt.Errorf("%s %v is not a finite number, 0 or above", x.field, x.v)
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
