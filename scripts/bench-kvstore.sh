#!/usr/bin/env bash
# credledger against CometBFT's stock kvstore on the same machine (issue 10,
# target 2), every node on 127.0.0.1.
#
# Method:
# 1. credledger: `credledger testnet --validators V` (default 4), nodes run
#    by scripts/localnet.sh; N random hashes (default 200,000) anchored
#    through node0 with one `credledger anchor --hash-file` run (10,000
#    hashes per tx by default). credentials/s = committed credentials / the
#    wall time of that run (end to end through RPC, so it is the lower bound).
#    The network is then stopped and removed.
# 2. kvstore: the stock `cometbft` binary (built from the module version in
#    go.mod) with its built-in kvstore (proxy_app = "kvstore", in memory),
#    V validators made by `cometbft testnet`, every node's config otherwise
#    stock except: listeners on 127.0.0.1 (p2p BASE+100+10i, RPC +1),
#    persistent_peers between them, and every [consensus] setting
#    (timeout_propose ... timeout_commit, create_empty_blocks and its
#    interval, ...; not wal_file) copied from credledger's node0 config.toml.
#    Loaded with CometBFT's own test/loadtime `load` tool (tm-load-test,
#    built in a throwaway module) at each offered rate (default 3000, 4000,
#    5000 tx/s; 6000, 8000, 10000 with -v 1) for T seconds (default 30):
#    txs of S bytes (default 250),
#    broadcast_tx_sync over websockets, the rate split evenly over every
#    node's RPC (-r is per connection per endpoint). Between rates the
#    mempool is left to drain.
#    tx/s is counted from the chain (/blockchain and /header of node0): with
#    h0 and h1 the latest heights when the load starts and ends, and F the
#    first block after h0 with txs (the load's first block), tx/s = the sum
#    of num_txs of blocks F+1..h1 / (time of block h1 - time of block F),
#    i.e. the steady state while the load runs (F's own txs are left out, as
#    is the idle time before it; blocks after the load are not counted). The
#    kvstore figure is the best of the offered rates.
# 3. ratio = credledger credentials/s / kvstore tx/s (target >= 3.5 with 4
#    validators).
# Set LOADTIME=/path/to/load to reuse a built load tool. Every process it
# started is stopped on exit (also on Ctrl-C) and its files are removed.
set -eu -o pipefail

usage() {
  cat >&2 <<EOF
usage: $0 [-v VALIDATORS] [-n HASHES] [-r RATES] [-T SECONDS] [-s TX_SIZE] [-c CONNS] [-b BATCH] [-p BASE_PORT]
  -v VALIDATORS  validators of each network (default 4; 1 for the single-validator comparison)
  -n HASHES      random hashes credledger anchors (default 200000)
  -r RATES       comma-separated offered kvstore rates, tx/s in all
                 (default 3000,4000,5000; with -v 1: 6000,8000,10000)
  -T SECONDS     length of each kvstore load (default 30)
  -s TX_SIZE     kvstore tx size in bytes (default 250)
  -c CONNS       load connections per node (default 1)
  -b BATCH       credledger hashes per tx (default: the chain's max_batch_size, 10000)
  -p BASE_PORT   first port (default 31650, below the ephemeral port range); credledger uses BASE.., kvstore BASE+100..
  env LOADTIME   a built test/loadtime load binary to use instead of building one
example: $0 -n 20000 -r 3000 -T 10
EOF
}

vals=4 n=200000 rates="" secs=30 size=250 conns=1 batch=0 port=31650
while getopts "v:n:r:T:s:c:b:p:h" opt; do
  case $opt in
    v) vals=$OPTARG ;; n) n=$OPTARG ;; r) rates=$OPTARG ;; T) secs=$OPTARG ;; s) size=$OPTARG ;;
    c) conns=$OPTARG ;; b) batch=$OPTARG ;; p) port=$OPTARG ;;
    h) usage; exit 0 ;; *) usage; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
# one validator commits more: offer it more (the issue measured ~7,700 tx/s)
if [ -z "$rates" ]; then if [ "$vals" = 1 ]; then rates=6000,8000,10000; else rates=3000,4000,5000; fi; fi
[ $# -eq 0 ] || { echo "unexpected argument: $1" >&2; usage; exit 2; }
for v in "$vals" "$n" "$secs" "$size" "$conns" "$batch" "$port" ${rates//,/ }; do
  case $v in ''|*[!0-9]*) echo "not a whole number: $v" >&2; usage; exit 2 ;; esac
done
[ "$vals" -ge 1 ] && [ "$n" -ge 1 ] && [ "$secs" -ge 1 ] && [ "$conns" -ge 1 ] || { echo "-v, -n, -T and -c must be at least 1" >&2; exit 2; }
for tool in go curl awk sed grep od head tr date mkfifo paste sort seq; do
  command -v "$tool" >/dev/null || { echo "$tool is needed but not found in PATH" >&2; exit 1; }
done
kport=$((port + 100))
for p in $(seq "$port" 10 $((port + 10 * (vals - 1)))) $(seq "$kport" 10 $((kport + 10 * (vals - 1)))); do
  if curl -s --max-time 2 "http://127.0.0.1:$((p + 1))/status" >/dev/null 2>&1; then
    echo "something already answers on 127.0.0.1:$((p + 1)): pick another base port with -p" >&2; exit 1
  fi
done

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
warn_ephemeral "$port" "$((kport + 10 * vals))"

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
bin="$work/bin"
kv_pids=() anchor_pid="" reader_pid="" load_pid=""
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
stop_credledger() {
  if [ -f "$work/cl/nodes.json" ]; then
    CREDLEDGER="$bin/credledger" "$root/scripts/localnet.sh" stop "$work/cl" >/dev/null 2>&1 || true
  fi
}
cleanup() {
  trap - EXIT INT TERM
  stop_pid "$load_pid"; stop_pid "$anchor_pid"; stop_pid "$reader_pid"
  for p in "${kv_pids[@]}"; do stop_pid "$p"; done
  stop_credledger
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build everything first, so no build runs beside a measurement
mkdir -p "$bin"
echo "building credledger and cometbft..." >&2
(cd "$root" && go build -o "$bin/credledger" ./cmd/credledger && go build -o "$bin/cometbft" github.com/cometbft/cometbft/cmd/cometbft)
cmtver=$(cd "$root" && go list -m -f '{{.Version}}' github.com/cometbft/cometbft)
if [ -n "${LOADTIME:-}" ]; then
  [ -x "$LOADTIME" ] || { echo "LOADTIME=$LOADTIME is not an executable" >&2; exit 1; }
  load=$LOADTIME
else
  echo "building cometbft $cmtver test/loadtime/cmd/load (with tm-load-test) in a throwaway module..." >&2
  mkdir "$work/loadmod"
  if ! (cd "$work/loadmod" && export GOWORK=off GOFLAGS=-mod=mod &&
    go mod init loadtool && go get "github.com/cometbft/cometbft/test/loadtime/cmd/load@$cmtver" &&
    go build -o "$bin/load" github.com/cometbft/cometbft/test/loadtime/cmd/load) >"$work/loadbuild.log" 2>&1; then
    echo "could not build the loadtime load tool:" >&2; cat "$work/loadbuild.log" >&2; exit 1
  fi
  load="$bin/load"
fi

# height RPC: the latest block height (empty if the node does not answer)
height() { curl -sf --max-time 5 "$1/status" 2>/dev/null | grep -o '"latest_block_height": *"[0-9]*"' | grep -o '[0-9][0-9]*' || true; }
# wait_blocks RPC MIN WHAT: wait up to 60 s for height >= MIN
wait_blocks() {
  local h
  for _ in $(seq 1 120); do
    h=$(height "$1")
    if [ -n "$h" ] && [ "$h" -ge "$2" ]; then return 0; fi
    sleep 0.5
  done
  echo "$3 made no block in 60 s" >&2
  return 1
}

# --- 1. credledger
echo "credledger: testnet of $vals validator(s) on 127.0.0.1:$port.." >&2
"$bin/credledger" testnet --validators "$vals" --output "$work/cl" --base-port "$port" >/dev/null
CREDLEDGER="$bin/credledger" "$root/scripts/localnet.sh" start "$work/cl" >&2 ||
  { echo "node0 log tail:" >&2; tail -20 "$work/cl/node0/node.log" >&2; exit 1; }
home="$work/cl/node0"
issuer=$(ls "$home/keys" | head -1 | sed 's/\.json$//')
echo "credledger: anchoring $n random hashes through node0..." >&2
head -c $((n * 32)) /dev/urandom | od -An -v -tx1 -w32 | tr -d ' ' >"$work/hashes.txt"
batch_flag=()
[ "$batch" != 0 ] && batch_flag=(--batch-size "$batch")
mkfifo "$work/out.fifo"
awk 'index($0, "\"result\":\"committed\"") { n++ } END { print n + 0 }' <"$work/out.fifo" >"$work/count" &
reader_pid=$!
start=$(date +%s.%N)
"$bin/credledger" anchor --hash-file "$work/hashes.txt" --from "$issuer" --home "$home" --output json "${batch_flag[@]}" >"$work/out.fifo" &
anchor_pid=$!
rc=0
wait "$anchor_pid" || rc=$?
end=$(date +%s.%N)
anchor_pid=""
wait "$reader_pid" || true
reader_pid=""
[ "$rc" = 0 ] || { echo "credledger anchor failed (exit $rc); see above" >&2; exit 1; }
committed=$(cat "$work/count")
cl_rate=$(awk -v n="$committed" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')
awk -v n="$committed" -v s="$start" -v e="$end" -v v="$vals" 'BEGIN {
  printf "credledger: %d credentials in %.2f s = %.0f credentials/s (%d validator(s), through node0)\n", n, e - s, n / (e - s), v }'
# the consensus settings the kvstore network copies
awk '/^\[/ { sec = $0 } sec == "[consensus]" && /^[a-z0-9_]+ *=/ && $1 != "wal_file" { print }' \
  "$home/config/config.toml" >"$work/consensus.toml"
stop_credledger
rm -rf "$work/cl" "$work/hashes.txt"

# --- 2. kvstore
# set_toml FILE SECTION KEY VALUE: set KEY (which must exist) in [SECTION]
# ("" for the top level) to VALUE, written as TOML
set_toml() {
  awk -v sec="$2" -v key="$3" -v val="$4" '
    /^\[/ { cur = $0; gsub(/[][ ]/, "", cur) }
    cur == sec && !done && $0 ~ ("^" key " *=") { print key " = " val; done = 1; next }
    { print }
    END { if (!done) exit 3 }' "$1" >"$1.tmp" || { echo "$1: no key $3 in [$2]" >&2; return 1; }
  mv "$1.tmp" "$1"
}
echo "kvstore: testnet of $vals validator(s) on 127.0.0.1:$kport.., consensus settings of credledger:" >&2
sed 's/^/  /' "$work/consensus.toml" >&2
"$bin/cometbft" testnet --v "$vals" --o "$work/kv" --populate-persistent-peers=false >"$work/kvinit.log" 2>&1 ||
  { echo "cometbft testnet failed:" >&2; cat "$work/kvinit.log" >&2; exit 1; }
peers=() endpoints="" rpcs=()
for i in $(seq 0 $((vals - 1))); do
  peers+=("$("$bin/cometbft" show-node-id --home "$work/kv/node$i")@127.0.0.1:$((kport + 10 * i))")
  rpcs+=("http://127.0.0.1:$((kport + 10 * i + 1))")
  endpoints="$endpoints${endpoints:+,}ws://127.0.0.1:$((kport + 10 * i + 1))/websocket"
done
for i in $(seq 0 $((vals - 1))); do
  c="$work/kv/node$i/config/config.toml"
  others=$(printf '%s\n' "${peers[@]}" | { grep -v "@127.0.0.1:$((kport + 10 * i))$" || true; } | paste -sd, -)
  set_toml "$c" "" proxy_app '"kvstore"'
  set_toml "$c" rpc laddr "\"tcp://127.0.0.1:$((kport + 10 * i + 1))\""
  set_toml "$c" p2p laddr "\"tcp://127.0.0.1:$((kport + 10 * i))\""
  set_toml "$c" p2p persistent_peers "\"$others\""
  set_toml "$c" p2p allow_duplicate_ip true
  set_toml "$c" p2p addr_book_strict false
  while read -r key _ value; do set_toml "$c" consensus "$key" "$value"; done <"$work/consensus.toml"
done
for i in $(seq 0 $((vals - 1))); do
  "$bin/cometbft" start --home "$work/kv/node$i" --log_level error >"$work/kv/node$i/node.log" 2>&1 &
  kv_pids+=($!)
done
wait_blocks "${rpcs[0]}" 1 "the kvstore network" || { tail -20 "$work/kv/node0/node.log" >&2; exit 1; }

# block_time RPC H: the time of block H in seconds since the epoch
block_time() {
  date -d "$(curl -sf --max-time 5 "$1/header?height=$2" | grep -o '"time": *"[^"]*"' | head -1 | sed 's/.*"\([^"]*\)"$/\1/')" +%s.%N
}
# block_txs RPC A B: "HEIGHT NUM_TXS" for blocks A..B, in height order
block_txs() {
  local lo=$2 hi
  while [ "$lo" -le "$3" ]; do
    hi=$((lo + 19)); [ "$hi" -le "$3" ] || hi=$3
    curl -sf --max-time 10 "$1/blockchain?minHeight=$lo&maxHeight=$hi" |
      grep -o '"height": *"[0-9]*"\|"num_txs": *"[0-9]*"' | tr -d '" ' |
      awk -F: '$1 == "height" { h = $2 } $1 == "num_txs" { print h, $2 }' | sort -n
    lo=$((hi + 1))
  done
}
# drain RPC: wait up to 60 s for the mempool to empty
drain() {
  local t
  for _ in $(seq 1 120); do
    t=$(curl -sf --max-time 5 "$1/num_unconfirmed_txs" | grep -o '"total": *"[0-9]*"' | grep -o '[0-9][0-9]*' || true)
    [ "$t" = 0 ] && return 0
    sleep 0.5
  done
  echo "warning: the mempool of $1 still holds $t txs after 60 s" >&2
}

best=0 best_rate="" max_offered=0
for r in ${rates//,/ }; do
  per=$((r / (vals * conns)))
  [ "$per" -ge 1 ] || { echo "rate $r is less than 1 tx/s per connection" >&2; exit 1; }
  [ $((per * vals * conns)) -le "$max_offered" ] || max_offered=$((per * vals * conns))
  drain "${rpcs[0]}"
  h0=$(height "${rpcs[0]}")
  echo "kvstore: offering $((per * vals * conns)) tx/s ($per per connection, $conns connection(s) to each of $vals node(s)) for $secs s from height $h0..." >&2
  "$load" -c "$conns" -T "$secs" -r "$per" -s "$size" --broadcast-tx-method sync --endpoints "$endpoints" \
    --stats-output "$work/stats.csv" >"$work/load.log" 2>&1 &
  load_pid=$!
  rc=0
  wait "$load_pid" || rc=$?
  load_pid=""
  [ "$rc" = 0 ] || { echo "the load tool failed (exit $rc):" >&2; tail -20 "$work/load.log" >&2; exit 1; }
  h1=$(height "${rpcs[0]}")
  [ -n "$h1" ] && [ "$h1" -gt "$h0" ] || { echo "kvstore made no block during the load; node0 log:" >&2; tail -20 "$work/kv/node0/node.log" >&2; exit 1; }
  block_txs "${rpcs[0]}" $((h0 + 1)) "$h1" >"$work/blocks"
  # the first block with txs starts the span; its own txs came before it
  first=$(awk '$2 > 0 { print $1; exit }' "$work/blocks")
  [ -n "$first" ] && [ "$first" -lt "$h1" ] || { echo "kvstore committed txs in fewer than 2 blocks during the load: make -T longer" >&2; exit 1; }
  txs=$(awk -v f="$first" '$1 > f { s += $2 } END { print s + 0 }' "$work/blocks")
  t0=$(block_time "${rpcs[0]}" "$first")
  t1=$(block_time "${rpcs[0]}" "$h1")
  rate=$(awk -v n="$txs" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
  sent=$(awk -F, '$1 == "total_txs" { n = $2 } $1 == "avg_tx_rate" { r = $2 } END { printf "%d txs at %.0f tx/s", n, r }' "$work/stats.csv")
  awk -v o="$((per * vals * conns))" -v n="$txs" -v a="$t0" -v b="$t1" -v f="$first" -v h1="$h1" -v sent="$sent" 'BEGIN {
    printf "kvstore: offered %d tx/s (sent %s): %d txs committed in blocks %d..%d over %.2f s (block times %d..%d) = %.0f tx/s\n", o, sent, n, f + 1, h1, b - a, f, h1, n / (b - a) }'
  if [ "$rate" -gt "$best" ]; then best=$rate best_rate=$((per * vals * conns)); fi
done

echo
echo "summary ($vals validator(s) each, $(nproc 2>/dev/null || echo '?') cores, cometbft $cmtver):"
echo "credledger: $cl_rate credentials/s ($committed hashes through node0, wall time of credledger anchor)"
echo "kvstore:    $best tx/s (best of offered $rates tx/s, $size-byte txs, $secs s each, counted from block times)"
[ "$best" -gt 0 ] || { echo "kvstore committed no tx: no ratio" >&2; exit 1; }
if [ "$best_rate" = "$max_offered" ] && [ $((best * 10)) -ge $((best_rate * 9)) ]; then
  echo "note: kvstore kept up with the highest rate offered ($best_rate tx/s), so it may not be saturated: offer more with -r"
fi
awk -v a="$cl_rate" -v b="$best" 'BEGIN { printf "ratio: %.2fx (target >= 3.5x)\n", a / b }'
