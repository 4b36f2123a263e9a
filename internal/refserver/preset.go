package refserver

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/inferbench/inferbench/internal/kserve"
)

// Presets are the named configurations of `inferbench serve --preset`.
var Presets = []string{"field-guide"}

// Preset returns a named configuration whose pods listen on loopback from
// basePort on (0: free ports).
func Preset(name string, basePort int) (Config, error) {
	if name != "field-guide" {
		return Config{}, fmt.Errorf("unknown preset %q (want one of %v)", name, Presets)
	}
	return FieldGuide(basePort), nil
}

// The field guide's deployments, in its order.
const (
	PodBaseYOLO    = "base-yolo"
	PodNIMBinary   = "nim-binary"
	PodNIMGRPC     = "nim-grpc"
	PodNIMBatching = "nim-batching"
)

// Memory and restarts of the NIM pods (field guide, issue 3: "typical
// memory per request ~100MB; 32 concurrent = 3.2GB"): the single-instance
// NIMs are killed above 48 requests in flight, the batching one above 64
// (the guide's "max useful" concurrency), so concurrency 64 and more "may
// crash pods" as the guide warns. A restart takes 10 s (a real NIM takes
// minutes to load its engine; 10 s keeps the demo moving).
const (
	nimMemoryPerRequest = 100e6
	nimRestart          = 10 * time.Second
)

// FieldGuide is the field guide's four deployments, each a pod on its own
// ports (pod i listens on basePort + 10 i + 0 for HTTP, + 1 for gRPC, + 2
// for metrics; basePort 0 picks free ports). The numbers are chosen so the
// four behave as the guide describes; README.md ("The field-guide preset")
// has the measured curves. Latencies below are emulated; the transport and
// the machine add about 1 ms (3 ms for base-yolo: HTTP, JSON, the image
// decode, three timed phases).
//
//   - base-yolo: a PyTorch model behind FastAPI, the plain HTTP API
//     (POST /predict), letterboxing images to 64x64 as the NIMs' inputs
//     (so one image gets the same detections from the four). The gil
//     emulator: 23 ms an image at concurrency 1, 80% of it under the GIL,
//     0.1 ms of lock contention per waiting thread: throughput goes from
//     about 37/s at 1 to about 50/s, no more (1/18.4 ms), and slightly
//     down as threads pile up; latency grows with every worker. A queue
//     limit of 15 waiting for the GIL stands for uvicorn's
//     --limit-concurrency 16: beyond 16, concurrency "just adds errors
//     with no throughput gain" (503).
//   - nim-binary: a NIM over KServe HTTP with one TensorRT instance. The
//     pipelined emulator: 8 ms alone, 1.5 ms more for each other request
//     in flight, at most 24 in flight: 125/s at 1, about 430/s at 8, 525/s
//     at 16, and a plateau of about 565/s from 24 on (16/(8+15x1.5 ms) and
//     24/(8+23x1.5 ms)): "throughput plateaus around 16-24".
//   - nim-grpc: the same NIM over gRPC: less protocol overhead (7 ms alone,
//     1.2 ms per other request in flight), and the instance takes 16 at
//     most: the best latency of the four at low concurrency, a plateau of
//     about 640/s from 16 on ("best results at moderate concurrency").
//   - nim-batching: the NIM with Triton's dynamic batcher, max batch 32,
//     2 ms max queue delay, one instance; a batch of b costs 5 ms + 0.5 ms
//     x b (the GPU amortises a launch over the batch). At 1 a request waits
//     the delay and takes 5.5 ms (about 125/s); at 16 batches of up to 16
//     take up to 13 ms; at 32 full batches go at once (21 ms for 32, up to
//     1500/s): the most gain from concurrency and the highest load. In a
//     closed loop the batches split (stragglers miss the delay), so it
//     measures somewhat less than these bounds.
//
// The NIMs' tensors are YOLOv8's layout at 64x64 (images [1,3,64,64] ->
// output0 [1,84,84], 84 anchors at that size): the emulated costs are
// those of full-size images on a GPU, but moving 4.9 MB per request over
// loopback would make the client, not the emulated server, the bottleneck
// of a small machine.
func FieldGuide(basePort int) Config {
	addr := func(pod, offset int) string {
		port := 0
		if basePort > 0 {
			port = basePort + 10*pod + offset
		}
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	image := func(batched bool) ([]kserve.TensorMetadata, []kserve.TensorMetadata) {
		in, out := []int64{1, 3, 64, 64}, []int64{1, 84, 84}
		if batched {
			in, out = in[1:], out[1:]
		}
		return []kserve.TensorMetadata{{Name: "images", Datatype: kserve.FP32, Shape: in}},
			[]kserve.TensorMetadata{{Name: "output0", Datatype: kserve.FP32, Shape: out}}
	}
	nimFaults := Faults{MemoryPerRequest: nimMemoryPerRequest}
	nim := func(seed uint64, em EmulatorConfig, batch int) ModelConfig {
		in, out := image(batch > 0)
		em.Jitter = Jitter{Dist: "lognormal", Spread: 0.1}
		return ModelConfig{Name: "yolov8n", Platform: "tensorrt_plan", MaxBatchSize: batch, Inputs: in, Outputs: out,
			Emulator: em, Faults: nimFaults, Seed: seed}
	}
	return Config{Pods: []PodConfig{
		{
			Name: PodBaseYOLO, HTTP: addr(0, 0), Metrics: addr(0, 2), HTTPAPI: APIPlain,
			Models: []ModelConfig{{
				Name: "yolov8n", Platform: "pytorch_fastapi", Seed: 1,
				// The image is letterboxed to 64x64 as the NIMs' inputs,
				// so that one image gets the same answer from all four.
				Inputs:  []kserve.TensorMetadata{{Name: "images", Datatype: kserve.FP32, Shape: []int64{1, 3, 64, 64}}},
				Outputs: []kserve.TensorMetadata{{Name: "detections", Datatype: kserve.BYTES, Shape: []int64{-1}}},
				Emulator: EmulatorConfig{Kind: KindGIL, ServiceTime: 23 * time.Millisecond, GILHeld: 0.8,
					GILSwitch: 100 * time.Microsecond, QueueLimit: 15, Jitter: Jitter{Dist: "lognormal", Spread: 0.15}},
			}},
		},
		{
			Name: PodNIMBinary, HTTP: addr(1, 0), Metrics: addr(1, 2), MemoryLimit: 48 * nimMemoryPerRequest, RestartTime: nimRestart,
			Models: []ModelConfig{nim(2, EmulatorConfig{Kind: KindPipelined, ServiceTime: 8 * time.Millisecond,
				PerInflight: 1500 * time.Microsecond, MaxInflight: 24}, 0)},
		},
		{
			Name: PodNIMGRPC, GRPC: addr(2, 1), Metrics: addr(2, 2), MemoryLimit: 48 * nimMemoryPerRequest, RestartTime: nimRestart,
			Models: []ModelConfig{nim(3, EmulatorConfig{Kind: KindPipelined, ServiceTime: 7 * time.Millisecond,
				PerInflight: 1200 * time.Microsecond, MaxInflight: 16}, 0)},
		},
		{
			Name: PodNIMBatching, HTTP: addr(3, 0), GRPC: addr(3, 1), Metrics: addr(3, 2), MemoryLimit: 64 * nimMemoryPerRequest, RestartTime: nimRestart,
			Models: []ModelConfig{nim(4, EmulatorConfig{Kind: KindBatcher, Instances: 1, MaxQueueDelay: 2 * time.Millisecond,
				BatchFixed: 5 * time.Millisecond, BatchPerItem: 500 * time.Microsecond}, 32)},
		},
	}}
}
