package refserver

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
)

func TestBatchPolicy(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name      string
		policy    batchPolicy
		sizes     []int
		age       time.Duration
		take      int
		wait      time.Duration
		rationale string
	}{
		{"empty queue", batchPolicy{maxBatch: 8, delay: 2 * ms}, nil, 0, 0, 0, "nothing to do"},
		{"one young request waits", batchPolicy{maxBatch: 8, delay: 2 * ms}, []int{1}, 0, 0, 2 * ms, "wait the whole delay"},
		{"waits the rest of the delay", batchPolicy{maxBatch: 8, delay: 2 * ms}, []int{1, 1}, 500 * time.Microsecond, 0, 1500 * time.Microsecond, "the oldest's age counts"},
		{"delay over: all go", batchPolicy{maxBatch: 8, delay: 2 * ms}, []int{1, 1, 1}, 2 * ms, 3, 0, "max_queue_delay elapsed"},
		{"no delay: all go at once", batchPolicy{maxBatch: 8}, []int{1, 1}, 0, 2, 0, "Triton's default delay 0"},
		{"max batch reached", batchPolicy{maxBatch: 4, delay: time.Second}, []int{1, 1, 1, 1, 1}, 0, 4, 0, "a full batch goes at once"},
		{"next would overflow", batchPolicy{maxBatch: 4, delay: time.Second}, []int{2, 1, 2}, 0, 2, 0, "3 elements, and the next 2 do not fit"},
		{"multi-element requests fill exactly", batchPolicy{maxBatch: 4, delay: time.Second}, []int{2, 2, 1}, 0, 2, 0, "2+2 = max"},
		{"oversized lone request goes alone", batchPolicy{maxBatch: 4, delay: time.Second}, []int{6, 1}, 0, 1, 0, "never stuck"},
		{"preferred size reached", batchPolicy{maxBatch: 32, delay: time.Second, preferred: []int{4, 8}}, []int{1, 1, 1, 1, 1}, 0, 4, 0, "4 is preferred, 5 waits"},
		{"largest preferred size wins", batchPolicy{maxBatch: 32, delay: time.Second, preferred: []int{4, 8}}, slices.Repeat([]int{1}, 10), 0, 8, 0, "8 over 4"},
		{"below every preferred size waits", batchPolicy{maxBatch: 32, delay: 3 * ms, preferred: []int{4, 8}}, []int{1, 1, 1}, ms, 0, 2 * ms, "3 is not preferred"},
		{"preferred skipped by a large request", batchPolicy{maxBatch: 32, delay: 3 * ms, preferred: []int{4}}, []int{3, 2}, ms, 0, 2 * ms, "totals 3 and 5 miss 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			take, wait := tt.policy.next(tt.sizes, tt.age)
			if take != tt.take || wait != tt.wait {
				t.Errorf("next(%v, %v) = take %d, wait %v; want %d, %v (%s)", tt.sizes, tt.age, take, wait, tt.take, tt.wait, tt.rationale)
			}
		})
	}
}

func TestParseJitter(t *testing.T) {
	tests := []struct {
		in   string
		want Jitter
		err  string
	}{
		{"", Jitter{}, ""},
		{"none", Jitter{}, ""},
		{"lognormal:0.2", Jitter{"lognormal", 0.2}, ""},
		{"uniform:20%", Jitter{"uniform", 0.2}, ""},
		{"exp:1", Jitter{"exp", 1}, ""},
		{"normal:0", Jitter{"normal", 0}, ""},
		{"gamma:0.2", Jitter{}, `unknown distribution "gamma"`},
		{"lognormal", Jitter{}, "want dist:spread"},
		{"uniform:1.5", Jitter{}, "outside its range"},
		{"exp:0", Jitter{}, "outside its range"},
		{"lognormal:-0.1", Jitter{}, "outside its range"},
		{"normal:abc", Jitter{}, "not a number"},
	}
	for _, tt := range tests {
		got, err := ParseJitter(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseJitter(%q) error = %v, want one mentioning %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseJitter(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// TestJitterDistributions draws many factors from each distribution and
// checks the shape the documentation promises: mean 1, and its spread.
func TestJitterDistributions(t *testing.T) {
	const n = 40000
	quantile := func(xs []float64, q float64) float64 { return xs[int(q*float64(len(xs)-1))] }
	tests := []struct {
		j     Jitter
		check func(mean, min, p50, p99, max float64) bool
		want  string
	}{
		{Jitter{"uniform", 0.2}, func(mean, lo, p50, p99, hi float64) bool {
			return lo >= 0.8 && hi <= 1.2 && math.Abs(p50-1) < 0.01 && p99 > 1.19
		}, "within [0.8, 1.2], median 1"},
		{Jitter{"normal", 0.1}, func(mean, lo, p50, p99, hi float64) bool {
			return math.Abs(p50-1) < 0.01 && math.Abs(p99-1.2326) < 0.02
		}, "median 1, p99 1 + 2.326 x 0.1"},
		{Jitter{"lognormal", 0.25}, func(mean, lo, p50, p99, hi float64) bool {
			return lo > 0 && math.Abs(p99/p50-math.Exp(2.326*0.25)) < 0.05 && p50 < 1
		}, "p99/p50 = exp(2.326 S), median below the mean"},
		{Jitter{"exp", 0.5}, func(mean, lo, p50, p99, hi float64) bool {
			return lo >= 0.5 && math.Abs(p99-(0.5+0.5*math.Log(100))) < 0.1
		}, "at least 1-F, p99 = 1-F + F ln 100"},
	}
	for _, tt := range tests {
		t.Run(tt.j.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 7))
			xs := make([]float64, n)
			sum := 0.0
			for i := range xs {
				xs[i] = tt.j.factor(r)
				sum += xs[i]
			}
			slices.Sort(xs)
			mean := sum / n
			if math.Abs(mean-1) > 0.01 {
				t.Errorf("mean factor %.4f, want 1 (throughput keeps its value)", mean)
			}
			if !tt.check(mean, xs[0], quantile(xs, .5), quantile(xs, .99), xs[n-1]) {
				t.Errorf("min %.3f p50 %.3f p99 %.3f max %.3f: want %s", xs[0], quantile(xs, .5), quantile(xs, .99), xs[n-1], tt.want)
			}
		})
	}
	// Seeded: the same seed gives the same service times.
	a, b := newSampler(Jitter{"lognormal", 0.3}, 5), newSampler(Jitter{"lognormal", 0.3}, 5)
	for range 10 {
		if x, y := a.apply(10*time.Millisecond), b.apply(10*time.Millisecond); x != y {
			t.Fatalf("same seed, different draws: %v and %v", x, y)
		}
	}
	var none *sampler
	if none.apply(time.Second) != time.Second {
		t.Error("a nil sampler changed a service time")
	}
}

func TestMemoryBudget(t *testing.T) {
	const mb = int64(1e6)
	tests := []struct {
		inflight, add, limit int64
		exceeded             bool
	}{
		{0, 100 * mb, 0, false},        // no limit
		{0, 100 * mb, 250 * mb, false}, // 1 in flight
		{100 * mb, 100 * mb, 250 * mb, false},
		{200 * mb, 100 * mb, 250 * mb, true}, // the third goes over
		{200 * mb, 50 * mb, 250 * mb, false}, // exactly at the limit is fine
		{300 * mb, 0, 250 * mb, false},       // a request holding nothing is never refused
	}
	for _, tt := range tests {
		if got := memoryExceeded(tt.inflight, tt.add, tt.limit); got != tt.exceeded {
			t.Errorf("memoryExceeded(%d, %d, %d) = %v, want %v", tt.inflight, tt.add, tt.limit, got, tt.exceeded)
		}
	}
	b := memoryBudget{limit: 250 * mb}
	admitted := []bool{b.reserve(100 * mb), b.reserve(100 * mb), b.reserve(100 * mb)}
	if !slices.Equal(admitted, []bool{true, true, false}) || b.inflight.Load() != 200*mb {
		t.Fatalf("reserve admitted %v, want two and the third refused; %d held", admitted, b.inflight.Load())
	}
	b.release(100 * mb)
	if !b.reserve(100*mb) || b.inflight.Load() != 200*mb {
		t.Errorf("after a release a request fits again; held %d", b.inflight.Load())
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"4096", 4096, false}, {"100MB", 100e6, false}, {"1.5GiB", 3 << 29, false}, {"2 kb", 2000, false},
		{"6.4GB", 6.4e9, false}, {"0", 0, false}, {"-5MB", 0, true}, {"MB", 0, true}, {"12 parsecs", 0, true}, {"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
	for _, n := range []int64{100e6, 6.4e9, 512, 1500} {
		if back, err := ParseBytes(FormatBytes(n)); err != nil || back != n {
			t.Errorf("FormatBytes(%d) = %q reads back as %d, %v", n, FormatBytes(n), back, err)
		}
	}
}

// TestStallWait: the stall window policy, from the origin (the pod's
// first inference request): once, or repeated every StallEvery.
func TestStallWait(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	once := Faults{StallAt: 10 * time.Second, StallFor: 2 * time.Second}
	every := Faults{StallAt: 2 * time.Second, StallFor: time.Second, StallEvery: 5 * time.Second}
	tests := []struct {
		name string
		f    Faults
		at   time.Duration
		want time.Duration
	}{
		{"once: before", once, 0, 0},
		{"once: just before", once, 9999 * ms, 0},
		{"once: at its start, the whole stall", once, 10 * time.Second, 2 * time.Second},
		{"once: inside, the rest", once, 11500 * ms, 500 * ms},
		{"once: at its end, free", once, 12 * time.Second, 0},
		{"once: long after", once, time.Hour, 0},
		{"once: a request before the origin", once, -time.Second, 0},
		{"every: before the first", every, 1999 * ms, 0},
		{"every: first", every, 2 * time.Second, time.Second},
		{"every: between", every, 3 * time.Second, 0},
		{"every: second", every, 7250 * ms, 750 * ms},
		{"every: just after the second", every, 8 * time.Second, 0},
		{"every: the 100th", every, (2 + 5*99) * time.Second, time.Second},
		{"at 0: from the first request", Faults{StallFor: time.Second}, 0, time.Second},
		{"no duration: never", Faults{StallAt: time.Second}, time.Second, 0},
	}
	for _, tt := range tests {
		if got := tt.f.stallWait(t0, t0.Add(tt.at)); got != tt.want {
			t.Errorf("%s: stallWait at %v = %v, want %v", tt.name, tt.at, got, tt.want)
		}
	}
}

func TestStallValidate(t *testing.T) {
	tests := []struct {
		f    Faults
		want string
	}{
		{Faults{StallAt: time.Second, StallFor: time.Second, StallEvery: 3 * time.Second}, ""},
		{Faults{StallFor: time.Second, StallEvery: time.Second}, "stall period 1s must be longer than the stall duration 1s"},
		{Faults{StallFor: time.Second, StallEvery: -time.Second}, "stall period -1s is negative"},
	}
	for _, tt := range tests {
		err := tt.f.Validate()
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: Validate() = %v, want %q", tt.f, err, tt.want)
		}
	}
}

func TestImageInput(t *testing.T) {
	img := func(name string, dt kserve.DataType, dims ...int64) kserve.TensorMetadata {
		return kserve.TensorMetadata{Name: name, Datatype: dt, Shape: dims}
	}
	tests := []struct {
		name   string
		batch  int
		inputs []kserve.TensorMetadata
		want   kserve.TensorMetadata
		ok     bool
	}{
		{"YOLO input", 0, []kserve.TensorMetadata{img("images", kserve.FP32, 1, 3, 64, 64)}, img("images", kserve.FP32, 1, 3, 64, 64), true},
		{"batched, batch of one", 8, []kserve.TensorMetadata{img("x", kserve.UINT8, 3, 32, 48)}, img("x", kserve.UINT8, 1, 3, 32, 48), true},
		{"CHW", 0, []kserve.TensorMetadata{img("x", kserve.FP16, 3, 32, 32)}, img("x", kserve.FP16, 3, 32, 32), true},
		{"image beside other inputs", 0, []kserve.TensorMetadata{img("thresholds", kserve.FP32, 1, 2), img("images", kserve.FP32, 1, 3, 64, 64)}, img("images", kserve.FP32, 1, 3, 64, 64), true},
		{"BYTES: the default", 0, []kserve.TensorMetadata{img("image", kserve.BYTES, 1)}, defaultImageInput, false},
		{"two images: the default", 0, []kserve.TensorMetadata{img("a", kserve.FP32, 1, 3, 8, 8), img("b", kserve.FP32, 1, 3, 8, 8)}, defaultImageInput, false},
		{"variable size: the default", 0, []kserve.TensorMetadata{img("images", kserve.FP32, 1, 3, -1, -1)}, defaultImageInput, false},
	}
	for _, tt := range tests {
		m := &model{spec: ModelSpec{MaxBatchSize: tt.batch, Inputs: tt.inputs}}
		got, ok := m.imageInput()
		if ok != tt.ok || got.Name != tt.want.Name || got.Datatype != tt.want.Datatype || !slices.Equal(got.Shape, tt.want.Shape) {
			t.Errorf("%s: %+v %v, want %+v %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
