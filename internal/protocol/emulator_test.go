package protocol_test

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

// measure runs concurrency workers that send n requests in total and
// returns the throughput and the median latency.
func measure(t *testing.T, c protocol.Client, model string, concurrency, n int) (float64, time.Duration) {
	t.Helper()
	x, _ := kserve.NewTensor("x", kserve.FP32, []int64{4}, []float64{1, 2, 3, 4})
	p, err := c.Prepare(model, "", &kserve.InferRequest{Inputs: []kserve.Tensor{x}})
	if err != nil {
		t.Fatal(err)
	}
	// Warm the connections up.
	for i := 0; i < concurrency; i++ {
		if _, err := c.Infer(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	jobs := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	start := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				s := time.Now()
				_, err := c.Infer(context.Background(), p)
				d := time.Since(s)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return float64(n) / elapsed.Seconds(), lat[len(lat)/2]
}

// TestEmulatorBounds measures the emulators through a real client and
// asserts what no machine load can break: fifo with S = 10 ms serves one
// request at a time, so at concurrency 4 it never exceeds 100 req/s and a
// request waits for those ahead of it; 4 instances never exceed 400 req/s;
// no request is faster than the service time. (The emulator's sleeper may
// wake up to 1 ms early to make up for late timers: 9 ms is the floor.)
// How close they come to their ceilings is TestEmulatorThroughput, behind
// the timing tag (bench/acceptance.sh).
func TestEmulatorBounds(t *testing.T) {
	small := func(name string, em refserver.Emulator) refserver.ModelSpec {
		return refserver.ModelSpec{
			Name: name, Emulator: em,
			Inputs:  []kserve.TensorMetadata{{Name: "x", Datatype: kserve.FP32, Shape: []int64{4}}},
			Outputs: []kserve.TensorMetadata{{Name: "y", Datatype: kserve.FP32, Shape: []int64{8}}},
		}
	}
	r := serve(t, small("fifo", refserver.NewFIFO(10*time.Millisecond)), small("inst", refserver.NewInstances(4, 10*time.Millisecond)))
	c := clients(t, r, protocol.Options{})[protocol.KServeGRPC]

	rps, p50 := measure(t, c, "fifo", 4, 100)
	t.Logf("fifo S=10ms c=4: %.1f req/s, p50 %v", rps, p50)
	if rps > 1000.0/9 {
		t.Errorf("fifo throughput %.1f req/s, above its ceiling of 100 (111 with early wake-ups): requests were served at once", rps)
	}
	if p50 < 9*time.Millisecond {
		t.Errorf("fifo p50 %v, below the 10 ms service time", p50)
	}

	rps, p50 = measure(t, c, "inst", 4, 200)
	t.Logf("instances N=4 S=10ms c=4: %.1f req/s, p50 %v", rps, p50)
	if rps > 4000.0/9 {
		t.Errorf("instances throughput %.1f req/s, above its ceiling of 400 (444 with early wake-ups)", rps)
	}
	if p50 < 9*time.Millisecond {
		t.Errorf("instances p50 %v, below the 10 ms service time", p50)
	}
}
