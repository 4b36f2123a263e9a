#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs the pinned tools the
# checks need, then formatting, vet, staticcheck, the Go tests with the race
# detector, and the interoperability check with grpcurl.
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

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "cross-build (the tool builds everywhere Go does)"
GOOS=windows GOARCH=amd64 go build ./...
GOOS=darwin GOARCH=arm64 go build ./...
# vet compiles the tests too: they must build there as well.
GOOS=windows GOARCH=amd64 go vet ./...

step "staticcheck"
staticcheck ./...

step "go test -race"
go test -race -count=1 ./...

step "go test (timing tests, without the race detector's slowdown)"
go test -count=1 ./...

step "the HTML report in headless chromium"
go test -count=1 -tags browser -run Browser ./internal/report/

step "interop: grpcurl against inferbench serve"
scripts/interop-grpcurl.sh

echo
echo "All checks passed."
