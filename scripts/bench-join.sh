#!/usr/bin/env bash
# How long a new member takes to join a big chain by state sync and serve
# verified queries (issue 10, target 5), every node on 127.0.0.1.
#
# Method: takes a stopped single-validator node home that already holds
# the credentials (make one with `scripts/bench-scale.sh --keep DIR`), sets
# its snapshot_interval to INTERVAL (default 5) and starts it, then anchors
# one hash per block until the validator has written a snapshot (the time
# the export took is printed with its chunks and bytes). A joiner is made
# with `credledger init --genesis --peers --state-sync RPC,RPC` (its
# discovery_time lowered to CometBFT's minimum, 5 s) and started; the clock
# runs from its start. It prints when the joiner's state was restored from
# the snapshot (its log), when it caught up with the validator, and when the
# first `credledger verify` through it (the joiner as primary, the validator
# as witness, trusting the joiner's first kept header) of a hash anchored
# after it joined gave a proven verdict: "joined and serving verified
# queries in S s" (target: under 120 s at 2M credentials). (A verify of a
# credential anchored before the snapshot through the joiner needs two
# witnesses that keep the older headers, see README "State sync";
# TestStateSyncJoin checks it.)
#
# Every process it started is stopped on exit (also on Ctrl-C) and the
# joiner's files are removed; the validator home keeps its new blocks and
# snapshots.
set -eu -o pipefail

usage() {
  cat >&2 <<EOF
usage: $0 --home DIR [-p BASE_PORT] [-i INTERVAL]
  --home DIR     a stopped validator home holding the chain (scripts/bench-scale.sh --keep DIR)
  -p BASE_PORT   the base port DIR was made with (default 31650, bench-scale's); the joiner uses BASE_PORT+10..
  -i INTERVAL    snapshot every INTERVAL blocks (default 5)
example: scripts/bench-scale.sh -w 5 -k 400000 --keep /tmp/big && $0 --home /tmp/big
EOF
}

home="" port=31650 interval=5
while [ $# -gt 0 ]; do
  case $1 in
    --home|-p|-i) [ $# -ge 2 ] || { echo "$1 needs a value" >&2; usage; exit 2; } ;;
  esac
  case $1 in
    --home) home=$2; shift ;; -p) port=$2; shift ;; -i) interval=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage; exit 2 ;;
  esac
  shift
done
[ -n "$home" ] || { echo "--home DIR is needed" >&2; usage; exit 2; }
[ -f "$home/config/credledger.toml" ] || { echo "$home is not a credledger node home (no config/credledger.toml)" >&2; exit 1; }
for v in "$port" "$interval"; do
  case $v in ''|*[!0-9]*) echo "not a whole number: $v" >&2; usage; exit 2 ;; esac
done
[ "$interval" -ge 1 ] || { echo "-i must be at least 1" >&2; exit 2; }
for tool in go curl awk od head tr grep sed date; do
  command -v "$tool" >/dev/null || { echo "$tool is needed but not found in PATH" >&2; exit 1; }
done
rpc="http://127.0.0.1:$((port + 1))"
jrpc="http://127.0.0.1:$((port + 11))"
for u in "$rpc" "$jrpc"; do
  if curl -s --max-time 2 "$u/status" >/dev/null 2>&1; then
    echo "something already answers on $u: stop it, or give the right base port with -p" >&2; exit 1
  fi
done

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
val_pid="" join_pid=""
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
cleanup() {
  trap - EXIT INT TERM
  stop_pid "$join_pid"; stop_pid "$val_pid"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# field JSON NAME: the first string value of "NAME" in JSON
field() { { echo "$1" | grep -o "\"$2\": *\"[^\"]*\"" || true; } | head -1 | sed 's/.*: *"\(.*\)"/\1/'; }
height_of() { field "$(curl -sf --max-time 2 "$1/status" 2>/dev/null || true)" latest_block_height; }
randhex() { head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n'; }

echo "building credledger..." >&2
(cd "$root" && go build -o "$work/credledger" ./cmd/credledger)
cl="$work/credledger"

sed -i "s/^\( *snapshot_interval *=\).*/\1 $interval/; s/^\( *snapshot_keep_recent *=\).*/\1 2/" "$home/config/credledger.toml"
grep -q "snapshot_interval = $interval" "$home/config/credledger.toml" || { echo "could not set snapshot_interval in $home/config/credledger.toml" >&2; exit 1; }
"$cl" start --home "$home" --log-level "*:error" 2>"$work/validator.log" &
val_pid=$!
for i in $(seq 1 240); do
  h=$(height_of "$rpc")
  [ -n "$h" ] && break
  kill -0 "$val_pid" 2>/dev/null || { echo "the validator exited; log:" >&2; tail -20 "$work/validator.log" >&2; exit 1; }
  [ "$i" = 240 ] && { echo "the validator's RPC did not answer in 120 s; log:" >&2; tail -20 "$work/validator.log" >&2; exit 1; }
  sleep 0.5
done
issuer=$(ls "$home/keys" | head -1 | sed 's/\.json$//')
credentials=$(curl -sf "$rpc/abci_info" | grep -o '"data": *"[^"]*"' | head -1 || true)
echo "validator up at height $h ($rpc, issuer $issuer${credentials:+; abci_info $credentials})" >&2

# one hash per block until a snapshot is being written, then wait for it
"$cl" anchor --hash "$(randhex)" --from "$issuer" --home "$home" >/dev/null
latest_snap() { ls "$home/data/snapshots" 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -1 || true; }
snap="" ts=""
for i in $(seq 1 $((3 * interval + 3))); do
  if ls "$home/data/snapshots" 2>/dev/null | grep -q '^tmp-'; then ts=$(now); break; fi
  s=$(latest_snap); if [ -n "$s" ] && [ "$s" -gt "$h" ]; then snap=$s; break; fi
  "$cl" anchor --hash "$(randhex)" --from "$issuer" --home "$home" >/dev/null
done
if [ -z "$snap" ]; then
  [ -n "$ts" ] || { echo "the validator started no snapshot in $((3 * interval + 3)) blocks (snapshot_interval $interval); log:" >&2; tail -20 "$work/validator.log" >&2; exit 1; }
  echo "validator: writing a snapshot..." >&2
  for i in $(seq 1 1200); do
    s=$(latest_snap); if [ -n "$s" ] && [ "$s" -gt "$h" ]; then snap=$s; break; fi
    kill -0 "$val_pid" 2>/dev/null || { echo "the validator exited; log:" >&2; tail -20 "$work/validator.log" >&2; exit 1; }
    [ "$i" = 1200 ] && { echo "the snapshot was not written in 600 s; log:" >&2; tail -20 "$work/validator.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "validator: snapshot of height $snap written in about $(since "$ts") s"
fi
# the headers after the snapshot's height verify it: two more blocks
for _ in 1 2; do "$cl" anchor --hash "$(randhex)" --from "$issuer" --home "$home" >/dev/null; done
sdir="$home/data/snapshots/$snap"
chunks=$(ls "$sdir" | grep -c '^chunk-' || true)
sbytes=$(du -sb "$sdir" | cut -f1)
echo "snapshot of height $snap: $chunks chunks, $sbytes bytes"

# the joiner
gen="$home/config/genesis.json"
vid=$(field "$(curl -sf "$rpc/status")" id)
peer="$vid@127.0.0.1:$port"
"$cl" init --home "$work/joiner" --genesis "$gen" --peers "$peer" --state-sync "$rpc,$rpc" \
  --issuer joiner --base-port "$((port + 10))" >"$work/init.out"
grep -o 'trust height [0-9]*, hash [0-9A-F]*' "$work/init.out" | sed 's/^/joiner: /' || true
sed -i 's/^discovery_time = .*/discovery_time = "5s"/' "$work/joiner/config/config.toml"
t0=$(now)
"$cl" start --home "$work/joiner" --log-level "*:info" 2>"$work/joiner.log" &
join_pid=$!
restored="" caught=""
for i in $(seq 1 1200); do
  kill -0 "$join_pid" 2>/dev/null || { echo "the joiner exited; log:" >&2; tail -30 "$work/joiner.log" >&2; exit 1; }
  if [ -z "$restored" ] && grep -q "restored state from snapshot" "$work/joiner.log"; then
    restored=$(since "$t0"); echo "joiner: state restored from the snapshot after $restored s"
  fi
  st=$(curl -sf --max-time 2 "$jrpc/status" 2>/dev/null || true)
  if [ -n "$restored" ] && [ -n "$st" ] && echo "$st" | grep -q '"catching_up": *false'; then
    jh=$(field "$st" latest_block_height); vh=$(height_of "$rpc")
    if [ -n "$jh" ] && [ -n "$vh" ] && [ "$jh" -ge "$((vh - 1))" ]; then
      caught=$(since "$t0"); echo "joiner: caught up at height $jh after $caught s"; break
    fi
  fi
  [ "$i" = 1200 ] && { echo "the joiner did not catch up in 600 s; log tail:" >&2; tail -30 "$work/joiner.log" >&2; exit 1; }
  sleep 0.5
done

# the first verified answer through the joiner
later=$(randhex)
"$cl" anchor --hash "$later" --from "$issuer" --home "$home" >/dev/null
earliest=$(field "$(curl -sf "$jrpc/status")" earliest_block_height)
root_h=$((earliest + 1))
root_hash=$(curl -sf "$rpc/block?height=$root_h" | grep -o '"hash": *"[0-9A-F]\{64\}"' | head -1 | grep -o '[0-9A-F]\{64\}')
for i in $(seq 1 60); do
  if out=$("$cl" verify --hash "$later" --node "$jrpc" --witness "$rpc" --trust-height "$root_h" --trust-hash "$root_hash" \
      --light-home "$work/light" --output json 2>"$work/verify.err"); then
    break
  fi
  [ "$i" = 60 ] && { echo "verify through the joiner failed for 30 s:" >&2; cat "$work/verify.err" >&2; exit 1; }
  sleep 0.5
done
served=$(since "$t0")
echo "joiner: verify through it: $(field "$out" verdict), issuer $(field "$out" issuer) after $served s"
echo
echo "joined and serving verified queries in $served s (restored $restored s, caught up $caught s; snapshot $sbytes bytes in $chunks chunks; $(nproc) cores; target < 120 s)"
