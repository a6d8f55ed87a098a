#!/usr/bin/env bash
# Run every native Go fuzz target (func FuzzX in a *_test.go) of the module
# for FUZZTIME each, one after the other, then print a summary table:
# package, target, executions (the last "fuzz: elapsed: ..., execs: N" line
# go test printed) and result. Used by `make fuzz-smoke` (short, stops at the
# first failure) and `make fuzz` (long, -k: runs every target and fails at
# the end if any failed). A run that fails only by Go's end-of-fuzztime
# race (see deadline_race) counts as passed, with result ok(go#75804).
set -eu -o pipefail

usage() {
	cat >&2 <<EOF
usage: $0 [-k] FUZZTIME [PKG...]
  FUZZTIME  how long each target runs (a go test -fuzztime: 10s, 10m, 1000x)
  PKG       packages to fuzz (default: every package with a Fuzz target)
  -k        keep going after a failing target; exit 1 at the end if any failed
environment: GO (default go), FUZZPARALLEL (go test -parallel, default
  GOMAXPROCS), FUZZMINIMIZETIME (go test -fuzzminimizetime, default 10s:
  go's 60s default lets a target with large inputs spend most of a run
  minimizing the new inputs it finds)
EOF
}

keep_going=0
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) usage; exit 0 ;;
	-k) keep_going=1; shift ;;
	-*) usage; exit 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { usage; exit 2; }
fuzztime=$1
shift

cd "$(dirname "$0")/.."
GO=${GO:-go}
flags=(-fuzzminimizetime "${FUZZMINIMIZETIME:-10s}")
if [ -n "${FUZZPARALLEL:-}" ]; then
	flags+=(-parallel "$FUZZPARALLEL")
fi

if [ $# -gt 0 ]; then
	pkgs=("$@")
else
	mapfile -t pkgs < <(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u)
fi

log=$(mktemp)
summary=$(mktemp)
trap 'rm -f "$log" "$summary"' EXIT

# print_summary prints the table of the targets run so far.
print_summary() {
	echo
	echo "fuzz summary (FUZZTIME $fuzztime)"
	{
		echo "package target execs result"
		cat "$summary"
	} | awk '{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
		END {
			fmt = "%-" w[1] "s  %-" w[2] "s  %" w[3] "s  %s\n"
			for (r = 1; r <= NR; r++) printf fmt, cell[r, 1], cell[r, 2], cell[r, 3], cell[r, 4]
		}'
}

# deadline_race reports whether the failed run in $log is Go's fuzzing
# coordinator race at the end of -fuzztime (go.dev/issue/75804, fixed in
# Go 1.27): a bare "context deadline exceeded" with no failing input
# written, and the target's corpus (seeds and testdata) passes when run
# again.
deadline_race() {
	grep -q '^    context deadline exceeded$' "$log" || return 1
	! grep -q 'Failing input written to' "$log" || return 1
	echo "fuzz $pkg $f: bare \"context deadline exceeded\" (go.dev/issue/75804); running its corpus again"
	"$GO" test -count=1 -run "^$f\$" "$pkg"
}

failed=0
for pkg in "${pkgs[@]}"; do
	targets=$("$GO" test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
	for f in $targets; do
		echo "fuzz $pkg $f ($fuzztime)"
		result=ok
		if ! "$GO" test -run '^$' -fuzz "^$f\$" -fuzztime "$fuzztime" "${flags[@]}" "$pkg" 2>&1 | tee "$log"; then
			result=FAIL
			if deadline_race; then
				result='ok(go#75804)'
			else
				failed=1
			fi
		fi
		# the last progress line holds the total; there is none if the time
		# ran out while go test gathered the corpus' baseline coverage
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
		echo "$pkg $f ${execs:--} $result" >>"$summary"
		if [ "$result" = FAIL ] && [ "$keep_going" = 0 ]; then
			print_summary
			exit 1
		fi
	done
done
print_summary
exit "$failed"
