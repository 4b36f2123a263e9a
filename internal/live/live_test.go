package live

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/inferbench/inferbench/internal/measure"
)

func TestBucketOf(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want int
	}{
		{0, 0}, {time.Millisecond, 0}, {time.Millisecond + 1, 1}, {3 * time.Millisecond, 2},
		{time.Second, 9}, {60 * time.Second, 15}, {61 * time.Second, 16}, {time.Hour, 16},
	} {
		if got := bucketOf(tt.d); got != tt.want {
			t.Errorf("bucketOf(%s) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

func TestNilRecordsNothing(t *testing.T) {
	var r *Registry
	c := r.Counters("d", "s")
	c.Sent()
	c.Answered(-1, time.Millisecond, true)
	if c != nil {
		t.Fatal("a nil registry gave counters")
	}
}

// TestTextParses: what WriteText writes parses with prometheus/common's
// parser, with the counts, a cumulative histogram, and label values that
// need escaping.
func TestTextParses(t *testing.T) {
	r := NewRegistry()
	c := r.Counters(`dep "a"\b`, "step\n1")
	for range 10 {
		c.Sent()
	}
	for _, ms := range []int{1, 3, 3, 70, 120000} {
		c.Answered(-1, time.Duration(ms)*time.Millisecond, false)
	}
	c.Answered(measure.ClassIndex(measure.ClassTimeout), 0, true)
	c.Answered(measure.ClassIndex(measure.ClassHTTPStatus), 0, false)
	r.Counters("other", "s") // a series with nothing yet

	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	l := []string{"deployment", `dep "a"\b`, "step", "step\n1"}
	for _, c := range []struct {
		name string
		want int64
	}{{MetricSent, 10}, {MetricOK, 5}, {MetricInFlight, 3}, {MetricLate, 1}} {
		if got := value(fams, c.name, l...); got != c.want {
			t.Errorf("%s = %d, want %d", c.name, got, c.want)
		}
	}
	if got := value(fams, MetricErrors, append(l, "class", measure.ClassTimeout)...); got != 1 {
		t.Errorf("timeouts = %d", got)
	}
	if got := value(fams, MetricErrors, append(l, "class", measure.ClassTLS)...); got != 0 {
		t.Errorf("tls errors = %d (every class is written, 0 when none)", got)
	}
	h := find(fams, MetricLatency, l...).GetHistogram()
	want := map[float64]uint64{0.001: 1, 0.002: 1, 0.005: 3, 0.05: 3, 0.1: 4, 60: 4}
	for _, bk := range h.Bucket {
		if w, ok := want[bk.GetUpperBound()]; ok && bk.GetCumulativeCount() != w {
			t.Errorf("bucket le=%g: %d, want %d", bk.GetUpperBound(), bk.GetCumulativeCount(), w)
		}
	}
	if h.GetSampleCount() != 5 || h.GetSampleSum() < 120.076 || h.GetSampleSum() > 120.078 {
		t.Errorf("count %d sum %g, want 5 and 120.077", h.GetSampleCount(), h.GetSampleSum())
	}
	if value(fams, MetricSent, "deployment", "other") != 0 {
		t.Errorf("a series with nothing yet should read 0")
	}
}

// TestServeWhileCounting: scrapes over HTTP while goroutines count parse,
// and the last one, after they are done, has every count.
func TestServeWhileCounting(t *testing.T) {
	r := NewRegistry()
	srv, err := Serve("127.0.0.1:0", r)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := r.Counters("d", "s")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 2000 {
				c.Sent()
				c.Answered(i%5-1, time.Duration(i)*time.Microsecond, false)
			}
		})
	}
	get := func() int64 {
		res, err := http.Get("http://" + srv.Addr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if n := value(fams, MetricInFlight, "deployment", "d"); n < 0 {
			t.Errorf("in flight %d", n)
		}
		return value(fams, MetricSent, "deployment", "d")
	}
	for range 5 {
		get()
	}
	wg.Wait()
	if got := get(); got != 8000 {
		t.Errorf("sent %d, want 8000", got)
	}
}

// BenchmarkCounters is the engine's cost per request with live figures on:
// one send and one answer, from 4 goroutines at once.
func BenchmarkCounters(b *testing.B) {
	c := NewRegistry().Counters("d", "s")
	b.SetParallelism(1)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			c.Sent()
			c.Answered(-1, time.Duration(i%100)*time.Millisecond, false)
			i++
		}
	})
}
