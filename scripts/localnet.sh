#!/usr/bin/env bash
# Runs the nodes of a testnet directory (made by `credledger testnet`) in the
# background on 127.0.0.1, with logs and pid files under each node's home.
#   start DIR   start every node not yet running, wait until blocks are made
#   stop DIR    stop exactly the processes this script started (pid files)
#   status DIR  show each node's process and latest height
# The binary is $CREDLEDGER, else build/credledger (built if missing).
set -eu

usage() {
  echo "usage: $0 start|stop|status DIR" >&2
}

[ $# -eq 2 ] || { usage; exit 2; }
cmd=$1 dir=$2
[ -f "$dir/nodes.json" ] || { echo "$dir/nodes.json not found: create the network with: credledger testnet --validators 4 --output $dir" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${CREDLEDGER:-$root/build/credledger}

homes() { grep -o '"home": *"[^"]*"' "$dir/nodes.json" | sed 's/.*"home": *"\(.*\)"/\1/'; }
rpcs() { grep -o '"rpc": *"[^"]*"' "$dir/nodes.json" | sed 's/.*"rpc": *"\(.*\)"/\1/'; }
alive() { [ -f "$1/node.pid" ] && kill -0 "$(cat "$1/node.pid")" 2>/dev/null; }
height() { curl -sf --max-time 2 "$1/status" 2>/dev/null | grep -o '"latest_block_height": *"[0-9]*"' | grep -o '[0-9]*' || echo "-"; }

case $cmd in
start)
  if [ ! -x "$bin" ]; then
    echo "building $bin..." >&2
    (cd "$root" && go build -o "$bin" ./cmd/credledger)
  fi
  for h in $(homes); do
    if alive "$h"; then echo "$(basename "$h") already running (pid $(cat "$h/node.pid"))"; continue; fi
    "$bin" start --home "$h" --log-level "*:error,credledger:info" >>"$h/node.log" 2>&1 &
    echo $! >"$h/node.pid"
    echo "started $(basename "$h") (pid $!, log $h/node.log)"
  done
  first=$(rpcs | head -1)
  for _ in $(seq 1 120); do
    hgt=$(height "$first")
    if [ "$hgt" != "-" ] && [ "$hgt" -ge 2 ]; then echo "network is producing blocks (height $hgt at $first)"; exit 0; fi
    sleep 0.5
  done
  echo "no blocks after 60 s; see the node.log files under $dir" >&2
  exit 1
  ;;
stop)
  for h in $(homes); do
    if alive "$h"; then
      pid=$(cat "$h/node.pid")
      kill "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && { echo "$(basename "$h") did not stop in 10 s; killing" >&2; kill -9 "$pid"; }
      echo "stopped $(basename "$h") (pid $pid)"
    fi
    rm -f "$h/node.pid"
  done
  ;;
status)
  paste <(homes) <(rpcs) | while read -r h rpc; do
    if alive "$h"; then state="running (pid $(cat "$h/node.pid"))"; else state="stopped"; fi
    echo "$(basename "$h")  $state  rpc=$rpc  height=$(height "$rpc")"
  done
  ;;
*) usage; exit 2 ;;
esac
