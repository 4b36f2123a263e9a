package refserver_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
	"github.com/inferbench/inferbench/internal/protocol"
	"github.com/inferbench/inferbench/internal/refserver"
)

// loopResult is what a closed loop measured.
type loopResult struct {
	ok, failed int
	elapsed    time.Duration
	latencies  []time.Duration // of successes, sorted
	errs       []error         // the first few failures
}

func (l loopResult) throughput() float64 { return float64(l.ok) / l.elapsed.Seconds() }

func (l loopResult) percentile(p float64) time.Duration {
	if len(l.latencies) == 0 {
		return 0
	}
	return l.latencies[min(len(l.latencies)-1, int(p*float64(len(l.latencies))))]
}

// closedLoop runs c workers that each call one request after another for
// d (or until requests calls in all when requests > 0), and measures
// successful calls per second.
func closedLoop(c int, d time.Duration, requests int, call func(ctx context.Context) error) loopResult {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var (
		mu     sync.Mutex
		res    loopResult
		issued int
		wg     sync.WaitGroup
	)
	take := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if requests > 0 && issued >= requests {
			return false
		}
		issued++
		return true
	}
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && take() {
				t0 := time.Now()
				err := call(context.Background())
				lat := time.Since(t0)
				mu.Lock()
				if err != nil {
					res.failed++
					if len(res.errs) < 5 {
						res.errs = append(res.errs, err)
					}
				} else {
					res.ok++
					res.latencies = append(res.latencies, lat)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	sort.Slice(res.latencies, func(i, j int) bool { return res.latencies[i] < res.latencies[j] })
	return res
}

// emulated returns an emulator built from a declaration, failing the test
// if it is refused.
func emulated(t *testing.T, c refserver.EmulatorConfig) refserver.Emulator {
	t.Helper()
	em, err := refserver.NewEmulator(c)
	if err != nil {
		t.Fatal(err)
	}
	return em
}

// batchedModel is tinyModel with a batch dimension: x [-1,4] -> y [-1,8].
func batchedModel(name string, em refserver.Emulator, maxBatch int) refserver.ModelSpec {
	m := tinyModel(name, em)
	m.MaxBatchSize = maxBatch
	m.Inputs[0].Shape = []int64{4}
	m.Outputs[0].Shape = []int64{8}
	return m
}

// inferClient makes a protocol client of the kind for a running pod and a
// prepared request of x [1,4] (batch 1 of a batching model's [-1,4], the
// full shape of tinyModel's [1,4]), and returns a call function.
func inferClient(t *testing.T, kind protocol.Kind, r *refserver.Running, model string) func(ctx context.Context) error {
	t.Helper()
	url := "http://" + r.HTTPAddr
	if kind == protocol.KServeGRPC {
		url = r.GRPCAddr
	}
	c, err := protocol.New(protocol.Options{Kind: kind, URL: url, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	x := kserve.Tensor{Name: "x", Datatype: kserve.FP32, Shape: []int64{1, 4}, Data: fp32le(1, 2, 3, 4)}
	p, err := c.Prepare(model, "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
	if err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context) error {
		_, err := c.Infer(ctx, p)
		return err
	}
}
