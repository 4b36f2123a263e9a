#!/usr/bin/env bash
# Timing acceptance: the tests whose bounds hold only on an idle machine
# (rates within 2%, throughput within 15% of an emulator's ceiling, p50
# within a few ms, the field guide's order of the preset's deployments,
# where a sweep's sweet spots fall). They live in `//go:build timing`
# files, are not part of `go test ./...` nor of scripts/test.sh (CI runs on
# shared, busy machines), and are run before a release, on a quiet
# machine: ./bench/acceptance.sh [go test flags, e.g. -count=3]
#
# Every test found in a timing file is run, package by package, with -v,
# so each prints the figures it measured (t.Logf) beside PASS or FAIL.
# Exit code: 0 if all passed.
set -euo pipefail
cd "$(dirname "$0")/.."

files=$(grep -rl --include='*_test.go' '^//go:build timing' internal cmd 2>/dev/null | sort)
if [ -z "$files" ]; then
  echo "no //go:build timing test files found"; exit 1
fi
failed=()
for dir in $(for f in $files; do dirname "$f"; done | sort -u); do
  names=$(grep -h -o '^func Test[A-Za-z0-9_]*' $(grep -l '^//go:build timing' "$dir"/*_test.go) | sed 's/^func //' | paste -sd'|' -)
  printf '\n== ./%s: %s\n' "$dir" "${names//|/, }"
  if ! go test -count=1 -tags timing -run "^($names)\$" -v "$@" "./$dir/" | grep -Ev '^=== (RUN|PAUSE|CONT)'; then
    failed+=("./$dir")
  fi
done
echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "Timing acceptance FAILED in: ${failed[*]}"
  exit 1
fi
echo "Timing acceptance passed."
