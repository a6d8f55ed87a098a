# Shell helpers the benchmark scripts share; sourced, not run.

# stop_pid PID: TERM, then KILL after 10 s, and reap it (no-op for "")
stop_pid() {
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 1 40); do kill -0 "$1" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
