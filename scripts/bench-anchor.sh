#!/usr/bin/env bash
# End-to-end anchoring throughput on a single-validator node on 127.0.0.1:
# builds credledger, starts a fresh node in a temp home, anchors N random
# hashes with `credledger anchor --hash-file`, prints credentials per second,
# then stops the node and removes the home.
set -eu

usage() {
  echo "usage: $0 [-n N] [-b BATCH] [-p BASE_PORT]" >&2
  echo "  -n N          hashes to anchor (default 100000)" >&2
  echo "  -b BATCH      hashes per tx (default: the chain's max_batch_size, 10000)" >&2
  echo "  -p BASE_PORT  p2p port; RPC is BASE_PORT+1 (default 36650)" >&2
}

n=100000 batch=0 port=36650
while getopts "n:b:p:h" opt; do
  case $opt in
    n) n=$OPTARG ;; b) batch=$OPTARG ;; p) port=$OPTARG ;;
    h) usage; exit 0 ;; *) usage; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building..." >&2
(cd "$root" && go build -o "$work/credledger" ./cmd/credledger)
cl="$work/credledger"
"$cl" init --home "$work/home" --base-port "$port" >/dev/null
"$cl" start --home "$work/home" --log-level "*:error" 2>"$work/node.log" &
pid=$!
rpc="http://127.0.0.1:$((port + 1))"
for i in $(seq 1 60); do
  curl -sf "$rpc/status" >/dev/null 2>&1 && break
  [ "$i" = 60 ] && { echo "node did not start; log:" >&2; cat "$work/node.log" >&2; exit 1; }
  sleep 0.5
done

echo "generating $n random hashes..." >&2
head -c $((n * 32)) /dev/urandom | od -An -v -tx1 -w32 | tr -d ' ' > "$work/hashes.txt"

batch_flag=""
[ "$batch" != 0 ] && batch_flag="--batch-size $batch"
start=$(date +%s.%N)
# shellcheck disable=SC2086
"$cl" anchor --hash-file "$work/hashes.txt" --from issuer0 --home "$work/home" --output json $batch_flag > "$work/out.jsonl"
end=$(date +%s.%N)
committed=$(grep -c '"height"' "$work/out.jsonl")
awk -v n="$committed" -v s="$start" -v e="$end" 'BEGIN {
  t = e - s; printf "anchored %d credentials in %.2f s: %.0f credentials/s (single validator, end to end through RPC)\n", n, t, n / t }'
