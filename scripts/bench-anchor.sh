#!/usr/bin/env bash
# End-to-end anchoring throughput on 127.0.0.1: builds credledger, starts a
# fresh network (one validator, or -v N validators via `credledger testnet`
# and scripts/localnet.sh), anchors N random hashes through node0 with
# `credledger anchor --hash-file`, prints credentials per second and the
# blocks the run made (how many were committed only in a later round:
# a round fails when its proposer takes longer to build and send its
# proposal than the others wait), then stops every node it started and
# removes its files. -t sets every node's [proposer] max_build_time.
set -eu

usage() {
  echo "usage: $0 [-n N] [-v VALIDATORS] [-b BATCH] [-p BASE_PORT] [-t MAX_BUILD_TIME]" >&2
  echo "  -n N           hashes to anchor (default 100000)" >&2
  echo "  -v VALIDATORS  validators in the network (default 1)" >&2
  echo "  -b BATCH       hashes per tx (default: the chain's max_batch_size, 10000)" >&2
  echo "  -p BASE_PORT   first port (default 36650)" >&2
  echo "  -t DURATION    every node's [proposer] max_build_time, e.g. 0s or 1s (default: the node's default)" >&2
}

n=100000 vals=1 batch=0 port=36650 build_time=""
while getopts "n:v:b:p:t:h" opt; do
  case $opt in
    n) n=$OPTARG ;; v) vals=$OPTARG ;; b) batch=$OPTARG ;; p) port=$OPTARG ;; t) build_time=$OPTARG ;;
    h) usage; exit 0 ;; *) usage; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  [ -f "$work/net/nodes.json" ] && CREDLEDGER="$work/credledger" "$root/scripts/localnet.sh" stop "$work/net" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building..." >&2
(cd "$root" && go build -o "$work/credledger" ./cmd/credledger)
cl="$work/credledger"
# set_build_time HOME: set -t's max_build_time in HOME's credledger.toml
set_build_time() {
  [ -n "$build_time" ] || return 0
  local f="$1/config/credledger.toml"
  sed -i "s/^\( *\)max_build_time = .*/\1max_build_time = \"$build_time\"/" "$f"
  grep -q "^ *max_build_time = \"$build_time\"" "$f" || { echo "could not set max_build_time in $f" >&2; exit 1; }
}
# height: the node's latest block height
height() { curl -sf "$rpc/status" | grep -o '"latest_block_height": *"[0-9]*"' | grep -o '[0-9][0-9]*'; }
if [ "$vals" = 1 ]; then
  home="$work/home"
  "$cl" init --home "$home" --base-port "$port" >/dev/null
  set_build_time "$home"
  "$cl" start --home "$home" --log-level "*:error" 2>"$work/node.log" &
  pid=$!
  rpc="http://127.0.0.1:$((port + 1))"
  for i in $(seq 1 60); do
    curl -sf "$rpc/status" >/dev/null 2>&1 && break
    [ "$i" = 60 ] && { echo "node did not start; log:" >&2; cat "$work/node.log" >&2; exit 1; }
    sleep 0.5
  done
else
  "$cl" testnet --validators "$vals" --output "$work/net" --base-port "$port" >/dev/null
  for h in "$work"/net/node*/; do set_build_time "${h%/}"; done
  CREDLEDGER="$cl" "$root/scripts/localnet.sh" start "$work/net" >&2
  home="$work/net/node0"
  rpc="http://127.0.0.1:$((port + 1))"
fi

echo "generating $n random hashes..." >&2
head -c $((n * 32)) /dev/urandom | od -An -v -tx1 -w32 | tr -d ' ' > "$work/hashes.txt"
issuer=$(ls "$home/keys" | head -1 | sed 's/\.json$//')

batch_flag=""
[ "$batch" != 0 ] && batch_flag="--batch-size $batch"
h0=$(height)
start=$(date +%s.%N)
# shellcheck disable=SC2086
"$cl" anchor --hash-file "$work/hashes.txt" --from "$issuer" --home "$home" --output json $batch_flag > "$work/out.jsonl"
end=$(date +%s.%N)
committed=$(grep -c '"height"' "$work/out.jsonl")
awk -v n="$committed" -v s="$start" -v e="$end" -v v="$vals" 'BEGIN {
  t = e - s; printf "anchored %d credentials in %.2f s: %.0f credentials/s (%d validator(s) on this machine, end to end through RPC)\n", n, t, n / t, v }'
h1=$(height)
blocks=0 late=0 maxround=0
for h in $(seq $((h0 + 1)) "$h1"); do
  r=$(curl -sf "$rpc/commit?height=$h" | grep -o '"round": *[0-9]*' | head -1 | grep -o '[0-9][0-9]*')
  blocks=$((blocks + 1))
  [ "${r:-0}" -gt 0 ] && late=$((late + 1))
  [ "${r:-0}" -gt "$maxround" ] && maxround=$r
done
echo "blocks: $blocks (heights $((h0 + 1))..$h1), committed after round 0: $late, highest round: $maxround"
