#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs the pinned tools the
# checks need, then formatting, vet, staticcheck, the Go tests with the race
# detector (and the few it cannot run, without it), the HTML report in a
# browser, and the interoperability check with grpcurl. Nothing here
# depends on an idle machine: the timing acceptance is bench/acceptance.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

GRPCURL_VERSION=v1.9.4
STATICCHECK_VERSION=v0.8.2
GOBIN="$(go env GOPATH)/bin"
export PATH="$GOBIN:$PATH"

step() { printf '\n== %s\n' "$*"; }

step "tools"
if ! grpcurl -version 2>&1 | grep -q "${GRPCURL_VERSION#v}"; then
  go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
fi
if ! staticcheck -version 2>&1 | grep -q "(${STATICCHECK_VERSION#v})"; then
  go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
if ! command -v chromium >/dev/null; then
  # The HTML report is checked in a real browser: Debian's chromium.
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: sudo apt-get install chromium"; exit 1
  fi
fi
echo "grpcurl $(grpcurl -version 2>&1 | awk '{print $2}'), $(staticcheck -version), $(chromium --version)"

# A real Kubernetes API server for the Kubernetes code's tests (the loaders'
# Job, RBAC, garbage collection): the workplace's start-kube-apiserver.sh
# beside the repository (KAPI_SCRIPT overrides), built once (about 8 minutes
# the first time, cached) in the background while the checks below run. A
# clone without it runs those tests' skips, which say why.
KAPI_SCRIPT=${KAPI_SCRIPT:-$(cd .. && pwd)/shared/tools/kube-apiserver/start-kube-apiserver.sh}
kapi_run=""
cleanup() {
  if [ -n "$kapi_run" ]; then "$KAPI_SCRIPT" stop "$kapi_run" >/dev/null 2>&1 || true; rm -rf "$kapi_run"; fi
  rm -rf "${imgdir:-}"
}
trap cleanup EXIT
if [ -x "$KAPI_SCRIPT" ]; then
  kapi_log=$(mktemp)
  "$KAPI_SCRIPT" build >"$kapi_log" 2>&1 &
  kapi_build=$!
else
  echo "no $KAPI_SCRIPT: the tests on a real kube-apiserver will be skipped (each says so)"
fi

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...
go vet -tags timing ./...

step "cross-build (the tool builds everywhere Go does)"
GOOS=windows GOARCH=amd64 go build ./...
GOOS=darwin GOARCH=arm64 go build ./...
# vet compiles the tests too: they must build there as well.
GOOS=windows GOARCH=amd64 go vet ./...

step "staticcheck"
staticcheck ./...

step "container image: scripts/mkimage (no Docker, no network)"
# The image tarball is built as a user would; scripts/mkimage's test reads
# it back ($INFERBENCH_IMAGE): entrypoint, user 65532, the binary's --version.
imgdir=$(mktemp -d)
CGO_ENABLED=0 go build -trimpath -o "$imgdir/inferbench" ./cmd/inferbench
go run ./scripts/mkimage -binary "$imgdir/inferbench" -o "$imgdir/inferbench-image.tar"
export INFERBENCH_IMAGE="$imgdir/inferbench-image.tar"

if [ -n "${kapi_build:-}" ]; then
  step "a real kube-apiserver on loopback"
  if ! wait "$kapi_build"; then cat "$kapi_log"; echo "building kube-apiserver failed"; exit 1; fi
  # On a busy machine etcd may be slow to come up: a second try, then the
  # logs of what failed.
  for try in 1 2; do
    kapi_run=$(mktemp -d)
    if "$KAPI_SCRIPT" start "$kapi_run" >"$kapi_log" 2>&1; then break; fi
    cat "$kapi_log"; tail -n 20 "$kapi_run"/logs/*.log 2>/dev/null || true
    "$KAPI_SCRIPT" stop "$kapi_run" >/dev/null 2>&1 || true
    rm -rf "$kapi_run"; kapi_run=""
    [ "$try" = 1 ] || { echo "the kube-apiserver for the tests did not start"; exit 1; }
    echo "starting it again"
  done
  export INFERBENCH_KAPI_ENV="$kapi_run/env" INFERBENCH_KAPI_REQUIRED=1
  grep '^KAPI_SERVER=' "$kapi_run/env"
fi

step "go test -race"
go test -race -count=1 ./...

# Tests the race detector cannot run (allocation counts; the demo and the
# field-guide searches, which it slows several fold) sit in `//go:build
# !race` files: their packages run again without it. Every test here
# asserts bounds no machine load can break; the tight timing acceptance
# (//go:build timing) is bench/acceptance.sh's, run before a release.
norace=$(grep -rl --include='*_test.go' '^//go:build !race' internal cmd 2>/dev/null | xargs -r -n1 dirname | sort -u | sed 's|^|./|')
step "go test without the race detector: $(echo $norace)"
go test -count=1 $norace

step "the HTML report in headless chromium"
go test -count=1 -tags browser -run Browser ./internal/report/

step "interop: grpcurl against inferbench serve"
scripts/interop-grpcurl.sh

echo
echo "All checks passed."
