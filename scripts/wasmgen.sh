#!/usr/bin/env bash
# Rebuilds the verifier page's bundle checker (node/verifier/wasm, compiled
# to WebAssembly) into node/verifier/web/credledger.wasm.gz, with the
# stamp credledger.wasm.txt, and copies the wasm_exec.js of the same Go
# toolchain beside it: both are committed and embedded, so that "go build"
# alone makes a working server. The build is reproducible: the same Go
# version and source give the same bytes.
set -eu

usage() {
  echo "usage: $0 [--check]" >&2
  echo "  rebuilds node/verifier/web/credledger.wasm.gz and wasm_exec.js;" >&2
  echo "  with --check, fails if the committed files are not what this toolchain builds" >&2
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
web=node/verifier/web
goversion=$(go env GOVERSION)
# Go 1.24 moved wasm_exec.js from misc/wasm to lib/wasm
wasmexec=$(go env GOROOT)/lib/wasm/wasm_exec.js
[ -f "$wasmexec" ] || wasmexec=$(go env GOROOT)/misc/wasm/wasm_exec.js
[ -f "$wasmexec" ] || { echo "wasm_exec.js not found in $(go env GOROOT)" >&2; exit 3; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# the pinned command: no cgo, no paths, VCS stamp or build id in the binary
GOFLAGS= CGO_ENABLED=0 GOOS=js GOARCH=wasm \
  go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o "$out/credledger.wasm" ./node/verifier/wasm
sum=$(sha256sum "$out/credledger.wasm" | cut -d' ' -f1)
size=$(wc -c <"$out/credledger.wasm" | tr -d ' ')
cat >"$out/credledger.wasm.txt" <<STAMP
# written by scripts/wasmgen.sh: what credledger.wasm.gz holds
go=$goversion
sha256=$sum
size=$size
STAMP

if [ "$check" = 1 ]; then
  stale() {
    echo "$web/$1 is stale: $2; run scripts/wasmgen.sh (make wasm) and commit $web" >&2
    exit 1
  }
  built=$(sed -n 's/^go=//p' "$web/credledger.wasm.txt" 2>/dev/null || true)
  [ -n "$built" ] || stale credledger.wasm.txt "it has no go= line"
  if [ "$built" != "$goversion" ]; then
    # another toolchain builds other bytes: there is nothing to compare
    echo "wasm-check skipped: the committed wasm was built with $built, this toolchain is $goversion (run make wasm with $built to check it)"
    exit 0
  fi
  cmp -s "$out/credledger.wasm.txt" "$web/credledger.wasm.txt" || stale credledger.wasm.txt "the source builds another wasm"
  committed=$(gzip -dc "$web/credledger.wasm.gz" | sha256sum | cut -d' ' -f1)
  [ "$committed" = "$sum" ] || stale credledger.wasm.gz "it does not hold the wasm its stamp names"
  cmp -s "$wasmexec" "$web/wasm_exec.js" || stale wasm_exec.js "it is not $wasmexec"
  echo "wasm is up to date ($goversion, $size bytes, $(wc -c <"$web/credledger.wasm.gz" | tr -d ' ') gzipped)"
else
  gzip -9 -n -c "$out/credledger.wasm" >"$web/credledger.wasm.gz"
  cp "$out/credledger.wasm.txt" "$web/credledger.wasm.txt"
  cp "$wasmexec" "$web/wasm_exec.js"
  chmod 644 "$web/credledger.wasm.gz" "$web/credledger.wasm.txt" "$web/wasm_exec.js"
  echo "rebuilt $web/credledger.wasm.gz ($goversion, $size bytes, $(wc -c <"$web/credledger.wasm.gz" | tr -d ' ') gzipped) and wasm_exec.js"
fi
