#!/usr/bin/env bash
# bench/peers.sh: client overhead of inferbench beside other load generators,
# measured in one run on one endpoint.
#
# It installs hey, vegeta and ghz (go install, pinned versions) and, when apt
# has it, wrk; builds inferbench; starts `inferbench serve` on loopback with a
# tiny model (x FP32 [1,4] -> y FP32 [1,8]) on 64 instances without service
# time, so that the server answers as fast as it can; then, at concurrency 1,
# 8 and 64, runs a bounded number of requests with each tool:
#
#   HTTP, the same JSON POST to /v2/models/tiny/infer:
#     inferbench bench --protocol kserve-http-json  (and kserve-http, binary tensors)
#     hey -n N -c C -m POST -T application/json -D body.json URL
#     vegeta attack -rate 0 -workers C -max-workers C -duration D  (closed loop:
#            no rate, C workers; vegeta has no request count, so D is sized to
#            about N requests from inferbench's rate in the same cell)
#     wrk -t T -c C -d D -s post.lua URL  (T = 1 at c=1, else 2; duration as vegeta)
#   gRPC, the same ModelInfer with raw_input_contents:
#     inferbench bench --protocol kserve-grpc
#     ghz --insecure --proto proto/grpc_service.proto --import-paths proto
#         --call inference.GRPCInferenceService.ModelInfer -d JSON -n N -c C ADDR
#
# Each tool runs under GNU time: its user+system CPU over the requests it
# completed is the CPU per request; req/s is requests over the process's
# wall time (start-up included, for every tool alike); peak RSS is maxrss.
# The server runs in its own process, so its CPU is not counted. Every cell
# runs REPEAT times, in rounds (all cells, then all again), and the table
# keeps each cell's median by CPU per request: the reference machine is
# shared, and a single run moves by 20% or more. Last, inferbench's peak RSS
# over 1,000,000 requests (HTTP binary and gRPC, c=64).
#
# Then the open loop (bench/README.md, "Open loop at high rates"): at each
# rate of RATES, for OPEN_D, the same JSON POST at a constant rate:
#
#     inferbench bench --protocol kserve-http-json --rate R -d D  (latency from
#            the intended send time; late sends: left more than 2 ms after it)
#     fortio load -qps R -c 64 -t D -payload-file body.json  (64 connections,
#            each with its share of the schedule; it reports the share of its
#            sleeps that fell behind schedule, and its latency is from the
#            actual send)
#     vegeta attack -rate R -duration D  (workers added as needed; it reports
#            no lateness, its latency is from the actual send)
#     bench/timerfloor -rate R -d D  (one goroutine sleeping to each send time
#            and doing nothing else: the machine's floor under late sends)
#
# each under GNU time (achieved rate, p99, client CPU, peak RSS), in rounds.
#
# Output: Markdown tables on stdout (the README's "Client overhead", then
# the open loop's), the raw outputs in $OUT (default: a temporary
# directory, printed). Loopback only; the server is stopped by its PID.
# About 8 minutes on 2 cores, and 1 more for the open loop.
#
# Environment: SECTION (all, closed or open: the closed-loop cells and RSS
# runs, or the open loop only; default all), N (requests per cell, default
# 20000), LEVELS ("1 8 64"), REPEAT (3), RSS_N (1000000; 0 skips the RSS
# runs), RATES ("5000 10000 20000"), OPEN_D (5s), OPEN_REPEAT (1), OUT,
# TOOLS (the closed-loop tools to run, default "inferbench hey vegeta wrk
# ghz"; e.g. TOOLS="inferbench wrk" for the HTTP comparison with wrk alone:
# only those are installed and run, and without inferbench the
# duration-bound tools run 2 s per cell), IB (an inferbench binary to
# measure instead of the one built from this tree, e.g. main's for a before
# and after; the server is always this tree's).
set -euo pipefail
cd "$(dirname "$0")/.."

SECTION=${SECTION:-all}
case "$SECTION" in all | closed | open) ;; *) echo "SECTION=$SECTION: want all, closed or open" >&2; exit 2 ;; esac
N=${N:-20000}
LEVELS=${LEVELS:-"1 8 64"}
REPEAT=${REPEAT:-3}
RSS_N=${RSS_N:-1000000}
TOOLS=${TOOLS:-"inferbench hey vegeta wrk ghz"}
RATES=${RATES:-"5000 10000 20000"}
OPEN_D=${OPEN_D:-5s}
OPEN_REPEAT=${OPEN_REPEAT:-1}
# fortio's later versions need grol.io/grol, which the Go module proxy
# refused here (403); v1.63.0 does not.
FORTIO_VERSION=v1.63.0
HEY_VERSION=v0.1.5
VEGETA_VERSION=v12.13.0
GHZ_VERSION=v0.93.0
GOBIN="$(go env GOPATH)/bin"
export PATH="$GOBIN:$PATH"

log() { printf '%s\n' "$*" >&2; }
# want TOOL: whether TOOLS names it.
want() { case " $TOOLS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# Tools, at their pinned versions.
installed() { # binary module-version
  command -v "$1" >/dev/null && go version -m "$(command -v "$1")" 2>/dev/null | grep -q $'\tmod\t.*\t'"$2"$'\t'
}
! want hey || installed hey "$HEY_VERSION" || go install "github.com/rakyll/hey@$HEY_VERSION"
! want vegeta || installed vegeta "$VEGETA_VERSION" || go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
! want ghz || installed ghz "$GHZ_VERSION" || go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
# apt_install PACKAGE: from Debian, updating the package lists once if
# they do not have it yet.
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1; }
}
[ -x /usr/bin/time ] || apt_install time || { log "GNU time (/usr/bin/time) is missing: apt-get install time"; exit 1; }
[ "$SECTION" = closed ] || installed fortio "$FORTIO_VERSION" || go install "fortio.org/fortio@$FORTIO_VERSION" ||
  log "fortio $FORTIO_VERSION could not be installed: its open-loop rows are left out"
have_fortio=false
installed fortio "$FORTIO_VERSION" && have_fortio=true
have_wrk=false
if want wrk; then
  command -v wrk >/dev/null || apt_install wrk || log "wrk not available (apt-get install wrk failed): its rows are left out"
  command -v wrk >/dev/null && have_wrk=true
fi

OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
bin="$OUT/inferbench"
go build -o "$bin" ./cmd/inferbench
client=${IB:-$bin}
go build -o "$OUT/timerfloor" ./bench/timerfloor

"$bin" serve --http-addr 127.0.0.1:0 --grpc-addr 127.0.0.1:0 --metrics-addr "" \
  --emulator instances --instances 64 --service-time 0 \
  --model tiny --input x:FP32:1,4 --output y:FP32:1,8 >"$OUT/serve.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap cleanup EXIT

http="" grpc=""
for _ in $(seq 1 100); do
  http=$(awk '$1 == "HTTP" {print $2}' "$OUT/serve.log")
  grpc=$(awk '$1 == "gRPC" {print $2}' "$OUT/serve.log")
  [ -n "$http" ] && [ -n "$grpc" ] && break
  sleep 0.1
done
case "$http $grpc" in
  http://127.0.0.1:*" "127.0.0.1:*) ;;
  *) log "server did not print loopback addresses:"; cat "$OUT/serve.log" >&2; exit 1 ;;
esac
url="$http/v2/models/tiny/infer"

# The same request for every tool.
printf '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}' >"$OUT/body.json"
printf 'POST %s\nContent-Type: application/json\n@%s\n' "$url" "$OUT/body.json" >"$OUT/targets.txt"
cat >"$OUT/post.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}'
EOF
raw=$(printf '\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40' | base64) # 1, 2, 3, 4
ghz_data="{\"model_name\":\"tiny\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,4]}],\"raw_input_contents\":[\"$raw\"]}"

# run NAME PROTOCOL C -- COMMAND...: runs the command under GNU time into
# $OUT/rROUND-NAME-PROTOCOL-cC.{out,err,time}; the caller then parses the
# count from $last.out.
run() {
  local name=$1 proto=$2 c=$3
  shift 4
  local base="$OUT/r$round-$name-$proto-c$c"
  log "round $round: $name $proto c=$c"
  /usr/bin/time -f "%U %S %e %M" -o "$base.time" "$@" >"$base.out" 2>"$base.err" || {
    log "FAILED: $*"; tail -5 "$base.err" >&2; return 1; }
  last="$base"
}
# row NAME PROTOCOL C REQUESTS: records a measurement of the cell from
# $last.time in $OUT/cells.tsv: key, CPU per request, table row.
row() {
  local name=$1 proto=$2 c=$3 n=$4
  read -r user sys wall rss <"$last.time"
  awk -v t="$name" -v p="$proto" -v c="$c" -v n="$n" -v u="$user" -v s="$sys" -v w="$wall" -v m="$rss" 'BEGIN {
    cpu = (n > 0 ? (u + s) * 1e6 / n : 0)
    printf "%s %s %d\t%.3f\t| %s | %s | %d | %d | %.0f | %.1f | %.0f |\n", t, p, c, cpu, t, p, c, n, (w > 0 ? n / w : 0), cpu, m / 1024 }' >>"$OUT/cells.tsv"
}
# ib_count: requests an inferbench JSON report counts.
ib_count() { grep -o '"sent": *[0-9]*' "$1" | head -1 | grep -o '[0-9]*$'; }
# ib_rate: the measured req/s in an inferbench JSON report.
ib_rate() { grep -o '"throughput_rps": *[0-9.]*' "$1" | head -1 | grep -o '[0-9.]*$'; }

: >"$OUT/cells.tsv"
if [ "$SECTION" = open ]; then REPEAT=0 RSS_N=0; fi
for round in $(seq 1 "$REPEAT"); do
for c in $LEVELS; do
  # inferbench over HTTP JSON first: its rate sizes the duration-bound tools.
  for proto in kserve-http-json kserve-http; do
    want inferbench || break
    report="$OUT/r$round-inferbench-$proto-c$c.json"
    run inferbench "$proto" "$c" -- "$client" bench --url "$http" --protocol "$proto" --model tiny \
      -c "$c" -n "$N" --warmup 0 -q --format json -o "$report"
    row inferbench "$proto" "$c" "$(ib_count "$report")"
  done
  rate=0
  want inferbench && rate=$(ib_rate "$OUT/r$round-inferbench-kserve-http-json-c$c.json")
  secs=$(awk -v n="$N" -v r="$rate" 'BEGIN { d = (r > 0 ? n / r : 2); printf "%d", (d < 1 ? 1 : d + 0.5) }')

  if want hey; then
    run hey http-json "$c" -- hey -n "$N" -c "$c" -m POST -T application/json -D "$OUT/body.json" "$url"
    row hey http-json "$c" "$(grep -E '^\s+\[[0-9]+\]' "$last.out" | awk '{s += $2} END {print s + 0}')"
  fi

  if want vegeta; then
    run vegeta http-json "$c" -- vegeta attack -targets "$OUT/targets.txt" -rate 0 -workers "$c" -max-workers "$c" \
      -duration "${secs}s" -output "$OUT/r$round-vegeta-c$c.bin"
    row vegeta http-json "$c" "$(vegeta report -type json "$OUT/r$round-vegeta-c$c.bin" | grep -o '"requests": *[0-9]*' | grep -o '[0-9]*$')"
  fi

  if $have_wrk; then
    threads=2
    [ "$c" -lt 2 ] && threads=1
    run wrk http-json "$c" -- wrk -t "$threads" -c "$c" -d "${secs}s" -s "$OUT/post.lua" "$url"
    row wrk http-json "$c" "$(awk '/requests in/ {print $1}' "$last.out")"
  fi

  if want inferbench; then
    report="$OUT/r$round-inferbench-kserve-grpc-c$c.json"
    run inferbench kserve-grpc "$c" -- "$client" bench --url "$grpc" --protocol kserve-grpc --model tiny \
      -c "$c" -n "$N" --warmup 0 -q --format json -o "$report"
    row inferbench kserve-grpc "$c" "$(ib_count "$report")"
  fi

  if want ghz; then
    run ghz grpc "$c" -- ghz --insecure --proto proto/grpc_service.proto --import-paths proto \
      --call inference.GRPCInferenceService.ModelInfer -d "$ghz_data" -n "$N" -c "$c" -O json "$grpc"
    row ghz grpc "$c" "$(grep -o '"OK": *[0-9]*' "$last.out" | head -1 | grep -o '[0-9]*$')"
  fi
done
done

# Each cell's median run by CPU per request, in the order the cells ran.
mapfile -t rows < <(awk -F'\t' '
  !($1 in n) { order[++k] = $1 }
  { n[$1]++; cpu[$1, n[$1]] = $2; line[$1, n[$1]] = $3 }
  END {
    for (i = 1; i <= k; i++) {
      key = order[i]; m = n[key]
      for (a = 1; a <= m; a++) idx[a] = a
      for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++)
        if (cpu[key, idx[b]] < cpu[key, idx[a]]) { t = idx[a]; idx[a] = idx[b]; idx[b] = t }
      print line[key, idx[int((m + 1) / 2)]]
    }
  }' "$OUT/cells.tsv")

rss_rows=()
if [ "$RSS_N" -gt 0 ] && want inferbench; then
  for proto in kserve-http kserve-grpc; do
    addr=$http
    [ "$proto" = kserve-grpc ] && addr=$grpc
    round=1M
    run inferbench "$proto" 64 -- "$client" bench --url "$addr" --protocol "$proto" --model tiny \
      -c 64 -n "$RSS_N" --warmup 0 -q --format json -o "$OUT/inferbench-1M-$proto.json"
    read -r user sys wall rss <"$last.time"
    n=$(ib_count "$OUT/inferbench-1M-$proto.json")
    rss_rows+=("$(awk -v p="$proto" -v n="$n" -v u="$user" -v s="$sys" -v w="$wall" -v m="$rss" 'BEGIN {
      printf "| %s | %d | %.0f | %.1f | %.0f |", p, n, n / w, (u + s) * 1e6 / n, m / 1024 }')")
  done
fi

# The open loop. Each row: tool, rate asked, achieved /s, requests, late or
# behind, p99 ms, CPU s, CPU µs/request, peak RSS MB.
open_rows=()
if [ "$SECTION" != closed ]; then
  for round in $(seq 1 "$OPEN_REPEAT"); do
  for r in $RATES; do
    floor=$("$OUT/timerfloor" -rate "$r" -d "$OPEN_D" | sed -n 's/.*: \([0-9]* of [0-9]*\) wake-ups (\([0-9.]*%\)) more than 2 ms late, the worst \([0-9.]*\) ms/\2 late (> 2 ms), the worst \3 ms/p')
    open_rows+=("| timer floor | $r | | | $floor | | | | |")
    report="$OUT/r$round-inferbench-open-$r.json"
    run inferbench open "$r" -- "$client" bench --url "$http" --protocol kserve-http-json --model tiny \
      --rate "$r" -d "$OPEN_D" -q --format json -o "$report"
    read -r user sys wall rss <"$last.time"
    open_rows+=("$(python3 - "$report" "$r" "$user" "$sys" "$rss" <<'PY'
import json, sys
path, rate, user, sys_, rss = sys.argv[1:]
run = json.load(open(path))["runs"][0]
n = run["counts"]["sent"]
late = run.get("client", {}).get("late_sends", 0)
cpu = float(user) + float(sys_)
print("| inferbench | %s | %.0f | %d | %.2f%% late (> 2 ms), %d dropped | %.2f | %.2f | %.1f | %.0f |" % (
    rate, run.get("send_rate_rps", 0), n, 100.0 * late / max(n, 1), run["counts"].get("dropped", 0),
    run["latency_ms"]["p99"], cpu, cpu * 1e6 / max(n, 1), int(rss) / 1024))
PY
)")
    if $have_fortio; then
      run fortio open "$r" -- fortio load -qps "$r" -c 64 -t "$OPEN_D" -payload-file "$OUT/body.json" \
        -content-type application/json -json "$OUT/r$round-fortio-$r.json" "$url"
      read -r user sys wall rss <"$last.time"
      open_rows+=("$(python3 - "$OUT/r$round-fortio-$r.json" "$r" "$user" "$sys" "$rss" "$last.out" "$last.err" <<'PY'
import json, re, sys
path, rate, user, sys_, rss = sys.argv[1:6]
text = "".join(open(f).read() for f in sys.argv[6:])
# fortio counts the sleeps more than 1 ms behind schedule, and prints
# their share only above 5%; the worst is the sleep times' min.
m = re.search(r"WARNING ([0-9.]+)% of sleep were falling behind", text)
behind = (m.group(1) + "%") if m else "under 5%"
worst = min([float(x) for x in re.findall(r"Sleep [Tt]ime[s]? : count \d+ avg \S+ \+/- \S+ min (\S+)", text)] or [0])
behind = "%s of sleeps > 1 ms behind, worst %.0f ms" % (behind, max(0, -worst) * 1e3)
d = json.load(open(path))
n = d["DurationHistogram"]["Count"]
p99 = next((p["Value"] for p in d["DurationHistogram"]["Percentiles"] if p["Percentile"] == 99), 0)
cpu = float(user) + float(sys_)
print("| fortio | %s | %.0f | %d | %s | %.2f | %.2f | %.1f | %.0f |" % (
    rate, d["ActualQPS"], n, behind, p99 * 1e3, cpu, cpu * 1e6 / max(n, 1), int(rss) / 1024))
PY
)")
    fi
    want vegeta || continue
    run vegeta open "$r" -- vegeta attack -targets "$OUT/targets.txt" -rate "$r" -duration "$OPEN_D" \
      -output "$OUT/r$round-vegeta-open-$r.bin"
    read -r user sys wall rss <"$last.time"
    vegeta report -type json "$OUT/r$round-vegeta-open-$r.bin" >"$OUT/r$round-vegeta-open-$r.json"
    open_rows+=("$(python3 - "$OUT/r$round-vegeta-open-$r.json" "$r" "$user" "$sys" "$rss" <<'PY'
import json, sys
path, rate, user, sys_, rss = sys.argv[1:]
d = json.load(open(path))
n = d["requests"]
cpu = float(user) + float(sys_)
print("| vegeta | %s | %.0f | %d | not reported | %.2f | %.2f | %.1f | %.0f |" % (
    rate, d["rate"], n, d["latencies"]["99th"] / 1e6, cpu, cpu * 1e6 / max(n, 1), int(rss) / 1024))
PY
)")
  done
  done
fi

versions=""
want hey && versions="$versions, hey $HEY_VERSION"
want vegeta && versions="$versions, vegeta $VEGETA_VERSION"
want ghz && versions="$versions, ghz $GHZ_VERSION"
$have_fortio && versions="$versions, fortio $FORTIO_VERSION"
if $have_wrk; then
  versions="$versions, $( (wrk --version 2>&1 || true) | awk 'NR == 1 {print $1, $2}')"
fi
printf 'Measured %s on %s cores (%s), shared with the server; %s%s.\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" \
  "$(nproc)" "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" "$(go version | awk '{print $3}')" "$versions"
if [ "$REPEAT" -gt 0 ]; then
  printf '\n%s requests per cell, each cell the median of %s runs by CPU per request.\n\n' "$N" "$REPEAT"
  printf '| tool | protocol | concurrency | requests | req/s | CPU µs/request | peak RSS MB |\n|---|---|---:|---:|---:|---:|---:|\n'
  printf '%s\n' "${rows[@]}"
  if $have_wrk && want inferbench; then
    # inferbench's CPU per request over wrk's, cell by cell.
    printf '\nCPU per request against wrk (the cells above):\n\n'
    printf '| concurrency | wrk µs/request | inferbench kserve-http-json µs/request (÷ wrk) | inferbench kserve-http µs/request (÷ wrk) |\n|---:|---:|---:|---:|\n'
    printf '%s\n' "${rows[@]}" | awk -F'|' '{
        gsub(/ /, "", $2); gsub(/ /, "", $3); gsub(/ /, "", $4); gsub(/ /, "", $7)
        cpu[$2, $3, $4] = $7; if (!($4 in seen)) { seen[$4] = 1; order[++k] = $4 } }
      END { for (i = 1; i <= k; i++) { c = order[i]; w = cpu["wrk", "http-json", c]; if (w == "") continue
        j = cpu["inferbench", "kserve-http-json", c]; b = cpu["inferbench", "kserve-http", c]
        printf "| %s | %.1f | %.1f (%.2f) | %.1f (%.2f) |\n", c, w, j, j / w, b, b / w } }'
  fi
fi
if [ "${#rss_rows[@]}" -gt 0 ]; then
  printf '\ninferbench over %d requests, concurrency 64:\n\n' "$RSS_N"
  printf '| protocol | requests | req/s | CPU µs/request | peak RSS MB |\n|---|---:|---:|---:|---:|\n'
  printf '%s\n' "${rss_rows[@]}"
fi
if [ "${#open_rows[@]}" -gt 0 ]; then
  printf '\nOpen loop, HTTP JSON, %s per cell, %s round(s); load average before the last run %s:\n\n' "$OPEN_D" "$OPEN_REPEAT" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf '| tool | rate asked /s | achieved /s | requests | late sends or equivalent | p99 ms | CPU s | CPU µs/request | peak RSS MB |\n'
  printf '|---|---:|---:|---:|---|---:|---:|---:|---:|\n'
  printf '%s\n' "${open_rows[@]}"
fi
log "raw outputs: $OUT"
