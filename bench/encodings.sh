#!/usr/bin/env bash
# bench/encodings.sh: what one 640x640 image costs the client on each wire.
#
# Starts two reference servers on loopback (`inferbench serve`, separate
# processes, stopped by PID at the end): one with YOLOv8's tensors
# (images FP32 [1,3,640,640] -> output0 FP32 [1,84,8400]) over KServe HTTP
# and gRPC, which also answers NIM's /v1/infer; one with the same model
# behind the plain FastAPI-style API. Both have 8 instances and no service
# time, so the client's own cost shows. Then it sends the same image
# (examples/images/square.jpg, 640x640 JPEG) at concurrency 1:
#
#   kserve-http-json  the letterboxed tensor as JSON numbers
#   kserve-http       as Triton binary tensors
#   kserve-grpc       as raw_input_contents
#   nim-http          the JPEG as a base64 data URL (POST /v1/infer)
#   http-json         the JPEG as base64 JSON, multipart upload, raw body
#                     (POST /predict of the plain API)
#
# For each: bytes on the wire per request and answer (HTTP bodies or gRPC
# messages), the client's CPU per request over the measured phase (the
# process's user+system time while the load ran, over the requests:
# payloads prepared once, before the clock), the rate reached, and, in a
# second run with --preprocess-per-request, the mean time the client takes
# to make each request from the file (decode, letterbox, normalize, encode
# for KServe; base64 and the body for the image kinds).
#
# Usage: bench/encodings.sh [N]   (N requests per run, default 200; JSON
# runs a tenth of N: each request is ~15 MB of JSON). Needs go and python3.
# Output: a Markdown table on stdout; raw results in $OUT (printed).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
JSON_N=$(( N / 10 > 5 ? N / 10 : 5 ))
OUT=${OUT:-$(mktemp -d /tmp/inferbench-encodings.XXXXXX)}
IMG=examples/images/square.jpg
echo "raw results in $OUT" >&2

go build -o "$OUT/inferbench" ./cmd/inferbench
IB="$OUT/inferbench"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# serve NAME ARGS...: starts a server, waits for its banner.
serve() {
	local name=$1; shift
	"$IB" serve --http-addr 127.0.0.1:0 --metrics-addr "" --emulator instances --instances 8 --service-time 0 "$@" >"$OUT/$name.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do
		grep -q '^Serving' "$OUT/$name.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "server $name did not start:" >&2; cat "$OUT/$name.log" >&2; exit 1
}
serve kserve --grpc-addr 127.0.0.1:0
serve plain --grpc-addr "" --http-api plain
KHTTP=$(awk '$1=="HTTP"{print $2}' "$OUT/kserve.log")
KGRPC=$(awk '$1=="gRPC"{print $2}' "$OUT/kserve.log")
PHTTP=$(awk '$1=="HTTP"{print $2}' "$OUT/plain.log")

# run LABEL N ARGS...: a bench run, its result file in $OUT/LABEL.json.
run() {
	local label=$1 n=$2; shift 2
	"$IB" bench --model yolov8n --image "$IMG" -c 1 -n "$n" --warmup 5 --metrics-url off -q \
		--format json -o "$OUT/$label.json" "$@"
}

rows=(
	"kserve-http-json|$JSON_N|--protocol kserve-http-json --url $KHTTP"
	"kserve-http (binary)|$N|--protocol kserve-http --url $KHTTP"
	"kserve-grpc|$N|--protocol kserve-grpc --url $KGRPC"
	"nim-http (base64 data URL)|$N|--protocol nim-http --url $KHTTP"
	"http-json (base64 JSON)|$N|--protocol http-json --url $PHTTP"
	"http-json (multipart)|$N|--protocol http-json --url $PHTTP --http-preset fastapi-multipart"
	"http-json (raw body)|$N|--protocol http-json --url $PHTTP --http-preset fastapi-raw"
)
i=0
for row in "${rows[@]}"; do
	IFS='|' read -r label n args <<<"$row"
	# shellcheck disable=SC2086
	run "r$i" "$n" $args
	# shellcheck disable=SC2086
	run "p$i" "$n" $args --preprocess-per-request
	echo "$label" >"$OUT/r$i.label"
	i=$((i + 1))
done

python3 - "$OUT" "$i" <<'PY'
import json, sys
out, n = sys.argv[1], int(sys.argv[2])
def kb(b): return f"{b/1024:,.0f} KB" if b >= 10240 else f"{b:,.0f} B"
print("| encoding | request | answer | client CPU per request | req/s at c=1 | making the request per frame |")
print("|---|---|---|---|---|---|")
for i in range(n):
    label = open(f"{out}/r{i}.label").read().strip()
    r = json.load(open(f"{out}/r{i}.json"))["runs"][0]
    p = json.load(open(f"{out}/p{i}.json"))["runs"][0]
    cpu_us = r["client"]["cpu_percent"] / 100 * r["elapsed_s"] / r["counts"]["sent"] * 1e6
    prep = p["client"].get("preprocess_ms", {}).get("mean", 0)
    pay = r["payload"]
    print(f"| {label} | {kb(pay['request_bytes'])} | {kb(pay['response_bytes'])} | {cpu_us:,.0f} µs | {r['throughput_rps']:,.1f} | {prep:.2f} ms |")
PY
