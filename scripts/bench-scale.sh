#!/usr/bin/env bash
# Throughput, disk and query latency as the chain grows (issue 10, targets
# 1, 3 and 4), on one fresh validator on 127.0.0.1.
#
# Method: builds credledger (and scripts/querylat), inits a fresh home and
# starts it, then anchors W windows of K random hashes, each window one run
# of `credledger anchor --hash-file` (10,000 hashes per tx by default) whose
# wall time gives the window's credentials/s. After each window it prints the
# bytes of the node home by store (du -sb of each store under data/, the
# rest of the home, the total) and total bytes / credentials on chain. At
# the end: "decay: last/first" (the last window's rate over the first's,
# target >= 0.80) and bytes per credential (target <= 300). A node keeps its
# keep_recent newest state versions; with big blocks the windows make few
# blocks, so the last window's figure still holds most of the versions the
# windows replaced. The script then anchors single hashes until the chain
# has made keep_recent + 2 more blocks and prints the bytes again "after
# pruning caught up": the figure of a node that runs on (LevelDB frees the
# pruned nodes' space as it compacts, so it may fall further later).
#
# With -q, scripts/querylat sends proven /credential ABCI queries
# (abci_query, prove=true, height 0) to the node's RPC at QPS per second,
# open loop, during every window (about hashes of the previous window and
# 10% never anchored; the first window has no anchored hashes yet, so it asks
# only about hashes never anchored), then for -Q seconds with no load after
# the last window. It prints p50/p99 per window and
# "query latency under load: ..." for the last window (target p99 <= 100 ms).
#
# Every process it started is stopped on exit (also on Ctrl-C) and its
# files are removed, except the node home with --keep DIR.
set -eu -o pipefail

usage() {
  cat >&2 <<EOF
usage: $0 [-w WINDOWS] [-k PER_WINDOW] [-b BATCH] [-p BASE_PORT] [-q] [-r QPS] [-Q SECONDS] [--keep DIR]
  -w WINDOWS     windows to anchor (default 5)
  -k PER_WINDOW  random hashes per window (default 400000)
  -b BATCH       hashes per tx (default: the chain's max_batch_size, 10000)
  -p BASE_PORT   p2p port; RPC on BASE_PORT+1, metrics on +2 (default 31650, below the ephemeral port range)
  -q             also measure proven /credential query latency under load and without
  -r QPS         queries per second with -q (default 20)
  -Q SECONDS     length of the no-load query measurement with -q (default 10)
  --keep DIR     make the node home in DIR (must not exist) and keep it
example: $0 -w 3 -k 20000 -q
EOF
}

windows=5 per=400000 batch=0 port=31650 queries=0 qps=20 idle=10 keep=""
while [ $# -gt 0 ]; do
  case $1 in
    -w|-k|-b|-p|-r|-Q|--keep) [ $# -ge 2 ] || { echo "$1 needs a value" >&2; usage; exit 2; } ;;
  esac
  case $1 in
    -w) windows=$2; shift ;; -k) per=$2; shift ;; -b) batch=$2; shift ;; -p) port=$2; shift ;;
    -r) qps=$2; shift ;; -Q) idle=$2; shift ;; --keep) keep=$2; shift ;;
    -q) queries=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage; exit 2 ;;
  esac
  shift
done
for v in "$windows" "$per" "$batch" "$port" "$qps" "$idle"; do
  case $v in ''|*[!0-9]*) echo "not a whole number: $v" >&2; usage; exit 2 ;; esac
done
[ "$windows" -ge 1 ] && [ "$per" -ge 1 ] || { echo "-w and -k must be at least 1" >&2; exit 2; }
for tool in go curl awk du od head tr mkfifo nproc seq cut; do
  command -v "$tool" >/dev/null || { echo "$tool is needed but not found in PATH" >&2; exit 1; }
done
if [ -n "$keep" ] && [ -e "$keep" ]; then echo "--keep $keep: already exists; give a new directory" >&2; exit 1; fi
rpc="http://127.0.0.1:$((port + 1))"
if curl -s --max-time 2 "$rpc/status" >/dev/null 2>&1; then
  echo "something already answers on $rpc: pick another base port with -p" >&2; exit 1
fi

# warn_ephemeral LO HI: warn if ports LO..HI lie in the kernel's range of
# ephemeral ports, where any outgoing connection may take them first
warn_ephemeral() {
  local r
  r=$(cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true)
  [ -n "$r" ] || return 0
  set -- "$1" "$2" $r
  if [ "$2" -ge "$3" ] && [ "$1" -le "$4" ]; then
    echo "warning: ports $1..$2 overlap the ephemeral port range $3..$4: a node may fail to bind (address already in use)" >&2
  fi
}
warn_ephemeral "$port" "$((port + 2))"

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
node_pid="" anchor_pid="" reader_pid="" ql_pid=""
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
cleanup() {
  trap - EXIT INT TERM
  stop_pid "$ql_pid"; stop_pid "$anchor_pid"; stop_pid "$reader_pid"; stop_pid "$node_pid"
  rm -rf "$work"
  if [ -n "$keep" ] && [ -d "$keep" ]; then echo "kept the node home in $keep" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "building credledger and querylat..." >&2
(cd "$root" && go build -o "$work/credledger" ./cmd/credledger && go build -o "$work/querylat" ./scripts/querylat)
cl="$work/credledger"
home=${keep:-$work/home}
"$cl" init --home "$home" --base-port "$port" >/dev/null
"$cl" start --home "$home" --log-level "*:error" 2>"$work/node.log" &
node_pid=$!
for i in $(seq 1 120); do
  h=$(curl -sf --max-time 2 "$rpc/status" 2>/dev/null | grep -o '"latest_block_height": *"[0-9]*"' | grep -o '[0-9][0-9]*' || true)
  [ -n "$h" ] && [ "$h" -ge 1 ] && break
  kill -0 "$node_pid" 2>/dev/null || { echo "the node exited; log:" >&2; cat "$work/node.log" >&2; exit 1; }
  [ "$i" = 120 ] && { echo "the node made no block in 60 s; log:" >&2; cat "$work/node.log" >&2; exit 1; }
  sleep 0.5
done
issuer=$(ls "$home/keys" | head -1 | sed 's/\.json$//')
[ -n "$issuer" ] || { echo "no issuer key in $home/keys" >&2; exit 1; }
echo "node up: home $home, rpc $rpc, issuer $issuer" >&2

batch_flag=()
[ "$batch" != 0 ] && batch_flag=(--batch-size "$batch")
mkfifo "$work/out.fifo"

# bytes PATH: apparent size of PATH in bytes (0 if missing)
bytes() { if [ -e "$1" ]; then du -sb "$1" | cut -f1; else echo 0; fi; }

# stores: "name=bytes ..." for every store of the home, the rest and the total
known="app.db blockstore.db state.db tx_index.db evidence.db cs.wal"
stores() {
  local sum=0 b name line=""
  for name in $known; do
    b=$(bytes "$home/data/$name"); sum=$((sum + b)); line="$line $name=$b"
  done
  for f in "$home"/data/*/; do # any other store (snapshots, a new db) by name
    [ -d "$f" ] || continue
    name=$(basename "$f")
    case " $known " in *" $name "*) continue ;; esac
    b=$(bytes "$f"); sum=$((sum + b)); line="$line $name=$b"
  done
  b=$(bytes "$home")
  echo "${line# } rest=$((b - sum)) total=$b"
}

# querylat_start HASHFILE OUT [ARGS...]: start querylat against the node
querylat_start() {
  local hf=$1 out=$2; shift 2
  "$work/querylat" -rpc "$rpc" -hashes "$hf" -rate "$qps" "$@" >"$out" 2>"$out.err" &
  ql_pid=$!
}
# querylat_stop OUT: stop querylat (with -duration: wait for it) and check
# that it wrote its result line to OUT
querylat_stop() {
  if [ -n "$ql_pid" ]; then
    if [ "${2:-}" != wait ]; then kill -TERM "$ql_pid" 2>/dev/null || true; fi
    wait "$ql_pid" || true
    ql_pid=""
  fi
  grep -q '^queries=' "$1" || { echo "querylat failed:" >&2; cat "$1.err" >&2; exit 1; }
}
# latency_line LABEL RESULT: "LABEL: p50 X ms p99 Y ms (N queries)", then
# a line with p90, max, errors, wrong answers and skipped queries
latency_line() {
  echo "$2" | awk -v l="$1" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%s: p50 %s ms p99 %s ms (%d queries)\n", l, v["p50_ms"], v["p99_ms"], v["queries"]
    ind = l; sub(/[^ ].*/, "", ind)
    printf "%s  p90 %s ms, max %s ms, %d errors, %d wrong answers, %d skipped\n",
      ind, v["p90_ms"], v["max_ms"], v["errors"], v["wrong"], v["skipped"] }'
}

onchain=0 first_rate="" last_rate="" last_ql="" prev_hashes=""
: >"$work/none.txt"
for w in $(seq 1 "$windows"); do
  hashes="$work/window$w.txt"
  head -c $((per * 32)) /dev/urandom | od -An -v -tx1 -w32 | tr -d ' ' >"$hashes"
  echo "window $w/$windows: anchoring $per hashes (credentials on chain: $onchain)..." >&2
  if [ "$queries" = 1 ]; then querylat_start "${prev_hashes:-$work/none.txt}" "$work/ql$w.out"; fi
  # the JSON lines go through a fifo to a counter, so no file of them is written
  awk 'index($0, "\"result\":\"committed\"") { n++ } END { print n + 0 }' <"$work/out.fifo" >"$work/count" &
  reader_pid=$!
  start=$(date +%s.%N)
  "$cl" anchor --hash-file "$hashes" --from "$issuer" --home "$home" --output json "${batch_flag[@]}" >"$work/out.fifo" &
  anchor_pid=$!
  rc=0
  wait "$anchor_pid" || rc=$?
  end=$(date +%s.%N)
  anchor_pid=""
  wait "$reader_pid" || true
  reader_pid=""
  [ "$rc" = 0 ] || { echo "window $w: credledger anchor failed (exit $rc); node log tail:" >&2; tail -20 "$work/node.log" >&2; exit 1; }
  n=$(cat "$work/count")
  rate=$(awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')
  awk -v w="$w" -v W="$windows" -v a="$onchain" -v n="$n" -v s="$start" -v e="$end" 'BEGIN {
    printf "window %d/%d: credentials %d..%d on chain: %d in %.2f s = %.0f credentials/s\n", w, W, a, a + n, n, e - s, n / (e - s) }'
  onchain=$((onchain + n))
  st=$(stores)
  echo "  bytes: $st"
  echo "$st" | awk -v n="$onchain" '{ split($NF, kv, "="); printf "  bytes per credential: %.1f (%d bytes / %d credentials)\n", kv[2] / n, kv[2], n }'
  if [ "$queries" = 1 ]; then
    querylat_stop "$work/ql$w.out"
    last_ql=$(grep '^queries=' "$work/ql$w.out")
    latency_line "  query latency during window $w" "$last_ql"
  fi
  [ -n "$first_rate" ] || first_rate=$rate
  last_rate=$rate
  rm -f "$prev_hashes"
  prev_hashes=$hashes
done

# settle: make keep_recent + 2 more blocks so the pruner drops the versions
# the windows replaced (a tx makes a block and the block after it)
height() { curl -sf --max-time 5 "$rpc/status" | grep -o '"latest_block_height": *"[0-9]*"' | grep -o '[0-9][0-9]*'; }
keep_recent=$(awk '/^\[state\]/ { s = 1; next } /^\[/ { s = 0 } s && $1 == "keep_recent" { print $3 }' "$home/config/credledger.toml")
keep_recent=${keep_recent:-50}
settled="" settling=0
if [ "$keep_recent" -gt 0 ]; then
  from_height=$(height)
  until_height=$((from_height + keep_recent + 2))
  echo "settling: anchoring single hashes until height $until_height (keep_recent $keep_recent, now $from_height)..." >&2
  while [ "$(height)" -lt "$until_height" ]; do
    "$cl" anchor --hash "$(head -c 32 /dev/urandom | od -An -v -tx1 -w32 | tr -d ' ')" --from "$issuer" --home "$home" >/dev/null
    settling=$((settling + 1))
  done
  sleep 5 # the pruner runs beside the next commits
  settled=$(stores)
  echo "after pruning caught up ($settling more credentials, height $(height)):"
  echo "  bytes: $settled"
fi

echo
echo "summary ($windows windows of $per, one validator, $(nproc) cores):"
awk -v f="$first_rate" -v l="$last_rate" 'BEGIN { printf "decay: last/first = %.2f (%s / %s credentials/s; target >= 0.80)\n", l / f, l, f }'
echo "$st" | awk -v n="$onchain" '{ split($NF, kv, "="); printf "bytes per credential: %.1f at %d credentials, after the last window (target <= 300)\n", kv[2] / n, n }'
if [ -n "$settled" ]; then
  echo "$settled" | awk -v n="$((onchain + settling))" '{ split($NF, kv, "="); printf "bytes per credential: %.1f after pruning caught up (target <= 300)\n", kv[2] / n }'
fi
if [ "$queries" = 1 ]; then
  latency_line "query latency under load" "$last_ql"
  echo "measuring queries with no load for $idle s (after 5 s to settle)..." >&2
  sleep 5
  querylat_start "$prev_hashes" "$work/qlidle.out" -duration "${idle}s"
  querylat_stop "$work/qlidle.out" wait
  latency_line "query latency with no load" "$(grep '^queries=' "$work/qlidle.out")"
  echo "(proven /credential queries at $qps/s; target: p99 <= 100 ms under load)"
fi
