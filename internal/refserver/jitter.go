package refserver

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Jitter is a named distribution of service times around their configured
// value: every service time an emulator spends is multiplied by a random
// factor whose mean is 1, so throughput keeps its configured value and the
// percentiles get a known shape. Draws are seeded, so a run is repeatable
// for a given order of requests.
//
//	uniform:F    factor uniform in [1-F, 1+F]            (0 <= F <= 1)
//	normal:F     factor 1 + F x N(0,1), cut at 0         (0 <= F <= 1)
//	lognormal:S  factor exp(S x N(0,1) - S^2/2): a right
//	             tail, p99/p50 = exp(2.326 S)            (0 < S <= 2)
//	exp:F        factor (1-F) + F x Exp(1): a fraction F
//	             of the time is exponential, a long tail (0 < F <= 1)
//
// F and S may be written as fractions (0.2) or percentages (20%).
type Jitter struct {
	Dist   string  // "" for none, or uniform, normal, lognormal, exp
	Spread float64 // F or S above
}

// JitterDists are the distribution names ParseJitter accepts.
var JitterDists = []string{"uniform", "normal", "lognormal", "exp"}

// ParseJitter reads "dist:spread"; "" and "none" mean no jitter.
func ParseJitter(s string) (Jitter, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return Jitter{}, nil
	}
	dist, spread, ok := strings.Cut(s, ":")
	if !ok {
		return Jitter{}, fmt.Errorf("jitter %q: want dist:spread, for example lognormal:0.2 (dists: %s)", s, strings.Join(JitterDists, ", "))
	}
	v, err := parseFraction(spread)
	if err != nil {
		return Jitter{}, fmt.Errorf("jitter %q: %w", s, err)
	}
	j := Jitter{Dist: strings.TrimSpace(dist), Spread: v}
	if err := j.Validate(); err != nil {
		return Jitter{}, err
	}
	return j, nil
}

// parseFraction reads 0.2 or 20%.
func parseFraction(s string) (float64, error) {
	s = strings.TrimSpace(s)
	scale := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = t, 0.01
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v * scale, nil
}

// Validate checks the distribution's name and the range of its spread.
func (j Jitter) Validate() error {
	lo, hi, zeroOK := 0.0, 1.0, true
	switch j.Dist {
	case "":
		return nil
	case "uniform", "normal":
	case "lognormal":
		hi, zeroOK = 2, false
	case "exp":
		zeroOK = false
	default:
		return fmt.Errorf("jitter: unknown distribution %q (want one of %s)", j.Dist, strings.Join(JitterDists, ", "))
	}
	if j.Spread < lo || j.Spread > hi || (!zeroOK && j.Spread == 0) {
		return fmt.Errorf("jitter %s: spread %v is outside its range (%v, %v]", j.Dist, j.Spread, lo, hi)
	}
	return nil
}

func (j Jitter) String() string {
	if j.Dist == "" {
		return "none"
	}
	return j.Dist + ":" + strconv.FormatFloat(j.Spread, 'g', -1, 64)
}

// factor draws one multiplier from r.
func (j Jitter) factor(r *rand.Rand) float64 {
	switch j.Dist {
	case "uniform":
		return 1 + j.Spread*(2*r.Float64()-1)
	case "normal":
		return math.Max(0, 1+j.Spread*r.NormFloat64())
	case "lognormal":
		return math.Exp(j.Spread*r.NormFloat64() - j.Spread*j.Spread/2)
	case "exp":
		return 1 - j.Spread + j.Spread*r.ExpFloat64()
	}
	return 1
}

// sampler applies a Jitter with its own seeded generator; safe for
// concurrent use. A nil sampler applies no jitter.
type sampler struct {
	j   Jitter
	mu  sync.Mutex
	rng *rand.Rand
}

func newSampler(j Jitter, seed uint64) *sampler {
	if j.Dist == "" {
		return nil
	}
	return &sampler{j: j, rng: rand.New(rand.NewPCG(seed, 0x6a177e12))}
}

// apply returns d scaled by one draw.
func (s *sampler) apply(d time.Duration) time.Duration {
	if s == nil || d <= 0 {
		return d
	}
	s.mu.Lock()
	f := s.j.factor(s.rng)
	s.mu.Unlock()
	return time.Duration(float64(d) * f)
}

// describeJitter is the banner's note on a jitter.
func describeJitter(j Jitter) string {
	if j.Dist == "" {
		return ""
	}
	return ", jitter " + j.String()
}
