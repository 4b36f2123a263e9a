// Package refserver is inferbench's reference inference server: it speaks
// the Open Inference Protocol like Triton (HTTP JSON and binary tensors,
// gRPC, Triton's statistics and model configuration extensions, Prometheus
// metrics with Triton's names) and emulates a model's cost with an emulator
// instead of running one. It is the demo's and the tests' real peer.
//
// A request flows: transport (http.go, grpc.go, or plain.go's FastAPI-style
// API) -> Server.Infer (validation against the model's metadata) ->
// Server.execute (the pod's state and memory budget, a stall, the model's
// Emulator: queue, then sleep-based compute; a spike, an injected error;
// faults.go, memory.go) -> outputs stamped with the inputs' fingerprint ->
// statistics (stats.go), which feed /stats, ModelStatistics and /metrics;
// the transport may then drop the connection mid-response.
//
// Emulators (emuconfig.go): fifo and instances (instances.go), Triton's
// dynamic batcher (batcher.go, its policy a pure function), a GIL-bound
// Python service (gil.go) and a single GPU instance that overlaps requests
// in flight (pipelined.go), each with an optional seeded jitter (jitter.go)
// and queue limit.
//
// A Server with its listeners (listen.go) is one pod: exceeding its memory
// limit kills it for its restart time, after which it binds the same ports
// again. Several pods come from a Config (config.go): a YAML file
// (configyaml.go, errors at file:line:column) or a preset (preset.go, the
// field guide's four deployments). The serve command's settings
// (serveopts.go: ServeOptions, a SingleModel from flags or a file or a
// preset) resolve to a Config; ServeOptions.Serve (serve.go) starts its
// pods, writes their banner and serves until cancelled.
package refserver
