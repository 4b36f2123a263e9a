// Package refserver is inferbench's reference inference server: it speaks
// the Open Inference Protocol like Triton (HTTP JSON and binary tensors,
// gRPC, Triton's statistics and model configuration extensions, Prometheus
// metrics with Triton's names) and emulates a model's cost with an emulator
// instead of running one. It is the demo's and the tests' real peer.
//
// A request flows: transport (http.go, grpc.go) -> Server.Infer (validation
// against the model's metadata) -> the model's Emulator (queue, then
// sleep-based compute) -> outputs stamped with the inputs' fingerprint ->
// statistics (stats.go), which feed /stats, ModelStatistics and /metrics.
package refserver
