#!/usr/bin/env bash
# Interoperability check with a gRPC client written by others: grpcurl lists
# the reference server's services through reflection, describes the
# inference service, checks health and calls ModelInfer with typed and with
# raw contents. Loopback only; the server is stopped by its PID. grpcurl
# cannot compress its requests: gzip and deflate gRPC requests from grpc-go
# are TestGRPCCodings (internal/refserver/encoding_test.go).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"

work=$(mktemp -d)
bin="$work/inferbench"
go build -o "$bin" ./cmd/inferbench
"$bin" serve --http-addr "" --metrics-addr "" --grpc-addr 127.0.0.1:0 \
  --model tiny --input x:FP32:1,4 --output y:FP32:1,8 --service-time 5ms >"$work/serve.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

addr=""
for _ in $(seq 1 100); do
  addr=$(awk '$1 == "gRPC" {print $2}' "$work/serve.log")
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "server did not print its gRPC address:"; cat "$work/serve.log"; exit 1; }
case "$addr" in 127.0.0.1:*) ;; *) echo "refusing non-loopback address $addr"; exit 1 ;; esac

fail() { echo "FAIL: $*"; exit 1; }
g() { timeout 20 grpcurl -plaintext -max-time 10 "$@"; }

services=$(g "$addr" list)
echo "$services"
grep -qx 'inference.GRPCInferenceService' <<<"$services" || fail "reflection does not list inference.GRPCInferenceService"
grep -qx 'grpc.health.v1.Health' <<<"$services" || fail "reflection does not list grpc.health.v1.Health"

methods=$(g "$addr" list inference.GRPCInferenceService)
for m in ServerLive ServerReady ModelReady ServerMetadata ModelMetadata ModelInfer ModelStreamInfer ModelConfig ModelStatistics; do
  grep -qx "inference.GRPCInferenceService.$m" <<<"$methods" || fail "method $m missing"
done
echo "all 9 methods listed"

g "$addr" grpc.health.v1.Health/Check | grep -q SERVING || fail "health is not SERVING"

typed=$(g -d '{"model_name":"tiny","id":"typed-1","inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"contents":{"fp32_contents":[1,2,3,4]}}]}' \
  "$addr" inference.GRPCInferenceService/ModelInfer)
echo "$typed"
grep -q '"id": "typed-1"' <<<"$typed" || fail "typed ModelInfer: id not echoed"
grep -q '"rawOutputContents"' <<<"$typed" || fail "typed ModelInfer: no raw_output_contents"

# raw: four FP32 ones, little-endian, base64
raw_in=$(printf '\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f' | base64)
raw=$(g -d "{\"model_name\":\"tiny\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,4]}],\"raw_input_contents\":[\"$raw_in\"]}" \
  "$addr" inference.GRPCInferenceService/ModelInfer)
grep -q '"rawOutputContents"' <<<"$raw" || fail "raw ModelInfer: no raw_output_contents"
out_b64=$(grep -A1 '"rawOutputContents"' <<<"$raw" | tail -1 | tr -d ' ",')
[ "$(printf '%s' "$out_b64" | base64 -d | wc -c)" = 32 ] || fail "raw ModelInfer: output is not 8 FP32 values"

bad=$(g -d '{"model_name":"nope","inputs":[]}' "$addr" inference.GRPCInferenceService/ModelInfer 2>&1 || true)
grep -q "InvalidArgument" <<<"$bad" || fail "unknown model did not give INVALID_ARGUMENT: $bad"
grep -q "Request for unknown model: 'nope' is not found" <<<"$bad" || fail "unknown model message: $bad"

stats=$(g -d '{"name":"tiny"}' "$addr" inference.GRPCInferenceService/ModelStatistics)
grep -q '"inferenceCount": "2"' <<<"$stats" || fail "statistics do not count the 2 inferences: $stats"
echo "grpcurl interop: PASS"
