#!/usr/bin/env bash
# Regenerates internal/kserve/pb from proto/*.proto.
# Needs Debian's protobuf-compiler (apt-get install protobuf-compiler) and the
# pinned Go plugins below; installs the plugins if they are missing.
# The .proto files carry no go_package option, exactly like Triton's, so the
# Go import path is given with M options here.
set -euo pipefail
cd "$(dirname "$0")/.."

PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.0
GOBIN="$(go env GOPATH)/bin"
export PATH="$GOBIN:$PATH"

want_go="protoc-gen-go $PROTOC_GEN_GO_VERSION"
if [ "$(protoc-gen-go --version 2>/dev/null)" != "$want_go" ]; then
  go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
fi
if [ "$(protoc-gen-go-grpc --version 2>/dev/null)" != "protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION#v}" ]; then
  go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
fi
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }

pkg=github.com/inferbench/inferbench/internal/kserve/pb
out=internal/kserve/pb
mkdir -p "$out"
maps="Mgrpc_service.proto=$pkg,Mmodel_config.proto=$pkg"
protoc -I proto \
  --go_out="$out" --go_opt=paths=source_relative,"$maps" \
  --go-grpc_out="$out" --go-grpc_opt=paths=source_relative,"$maps" \
  grpc_service.proto model_config.proto
echo "generated $(ls "$out"/*.pb.go | tr '\n' ' ')"
