#!/usr/bin/env bash
# bench/ceiling.sh: the YOLO tensors against the loopback ceiling.
#
# Runs, in one go test process (its peers and the reference server in child
# processes on loopback, ended by the test binary itself):
#
#   BenchmarkLoopbackCeiling  the YOLO request's and answer's bytes (4.9 MB
#                             out, 2.8 MB in) over loopback TCP and nothing
#                             else: the most a client could do
#   BenchmarkYOLOPayload      inferbench's hot path on the same bytes, one
#                             worker: kserve-http (binary tensors),
#                             kserve-grpc, and both with
#                             --shared-memory system (Linux)
#
# and prints a Markdown table of the medians over the runs: the client's
# CPU (user+system) per request, payload GB/s per core of client CPU, and
# that as a fraction of the ceiling. With shared memory the tensors do not
# travel: its GB/s are the same bytes' worth, in parentheses.
#
# Usage: bench/ceiling.sh [RUNS] [CALLS]   (default 3 runs of 60 calls;
# some 30 s). Needs go. The raw go test output goes to stderr. To compare
# builds, BIN=path runs a test binary of internal/protocol made with
# `go test -c` (of another commit, say) instead of the working tree.
set -euo pipefail
if [[ -n "${BIN:-}" ]]; then BIN=$(realpath "$BIN"); fi
cd "$(dirname "$0")/.."
RUNS=${1:-3}
CALLS=${2:-60}

if [[ -n "${BIN:-}" ]]; then
	run=("$BIN" -test.run '^$' -test.bench 'LoopbackCeiling|YOLOPayload' -test.benchtime "${CALLS}x" -test.count "$RUNS")
else
	run=(go test -run '^$' -bench 'LoopbackCeiling|YOLOPayload' -benchtime "${CALLS}x" -count "$RUNS" ./internal/protocol/)
fi
"${run[@]}" |
	tee /dev/stderr |
	awk -v runs="$RUNS" -v calls="$CALLS" '
	# "BenchmarkYOLOPayload/kserve-http-2  60  4933467 ns/op  5.540 GB/s-per-core  1396 cpu-µs/op"
	/^Benchmark(LoopbackCeiling|YOLOPayload)/ {
		name = $1
		sub(/-[0-9]+$/, "", name)
		gb = ""; cpu = ""
		for (i = 3; i < NF; i++) {
			if ($(i+1) == "GB/s-per-core") gb = $i
			if ($(i+1) == "cpu-µs/op") cpu = $i
		}
		if (gb == "" || cpu == "") next
		if (!(name in n)) order[++names] = name
		n[name]++
		gbs[name, n[name]] = gb
		cpus[name, n[name]] = cpu
	}
	function median(arr, key, k,    i, j, t, v) {
		for (i = 1; i <= k; i++) v[i] = arr[key, i] + 0
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && v[j-1] > v[j]; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
		if (k % 2) return v[(k+1)/2]
		return (v[k/2] + v[k/2+1]) / 2
	}
	function label(name) {
		if (name == "BenchmarkLoopbackCeiling") return "loopback TCP alone (the ceiling)"
		sub(/^BenchmarkYOLOPayload\//, "", name)
		if (sub(/\/shm$/, "", name)) return "inferbench " name ", `--shared-memory system`"
		if (name == "kserve-http") return "inferbench kserve-http (binary tensors)"
		return "inferbench " name
	}
	END {
		ceil = "BenchmarkLoopbackCeiling"
		if (!(ceil in n)) { print "ceiling.sh: no BenchmarkLoopbackCeiling result in the output" > "/dev/stderr"; exit 1 }
		c = median(gbs, ceil, n[ceil])
		printf "Medians of %d runs of %d calls each.\n\n", runs, calls
		print "| benchmark | CPU µs per request | payload GB/s per core | fraction of the ceiling |"
		print "|---|---:|---:|---:|"
		for (i = 1; i <= names; i++) {
			name = order[i]
			g = median(gbs, name, n[name]); u = median(cpus, name, n[name])
			if (name ~ /\/shm$/) printf "| %s | %.0f | (%.0f) | (tensors do not travel) |\n", label(name), u, g
			else printf "| %s | %.0f | %.1f | %.2f |\n", label(name), u, g, g / c
		}
	}'
