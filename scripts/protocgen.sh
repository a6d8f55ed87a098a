#!/usr/bin/env bash
# Regenerates the gogoproto wire types (types/*.pb.go) from proto/.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-gocosmos:
#   go install github.com/cosmos/gogoproto/protoc-gen-gocosmos@v1.7.2
set -eu

usage() {
  echo "usage: $0 [--check]" >&2
  echo "  regenerates types/*.pb.go; with --check, fails if the committed files are stale" >&2
}

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  -h|--help) usage; exit 0 ;;
  *) usage; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 3; }
gobin=$(go env GOPATH)/bin
PATH="$gobin:$PATH"
command -v protoc-gen-gocosmos >/dev/null || { echo "protoc-gen-gocosmos not found: go install github.com/cosmos/gogoproto/protoc-gen-gocosmos@v1.7.2" >&2; exit 3; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
protoc -I proto --gocosmos_out="$out" proto/credledger/v1/*.proto
gen="$out/github.com/credledger/credledger/types"
if [ "$check" = 1 ]; then
  for f in "$gen"/*.pb.go; do
    if ! cmp -s "$f" "types/$(basename "$f")"; then
      echo "types/$(basename "$f") is stale: run scripts/protocgen.sh" >&2
      exit 1
    fi
  done
  echo "generated code is up to date"
else
  cp "$gen"/*.pb.go types/
  echo "regenerated: $(cd "$gen" && ls *.pb.go | tr '\n' ' ')"
fi
