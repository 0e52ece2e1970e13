#!/usr/bin/env bash
# Fuzz every libFuzzer target of xvs for SECONDS each (default 300) and grow
# the corpus in the tree:
#   nice -n 10 scripts/fuzz.sh 120
# Builds build-fuzz/ (clang; targets that need libdpdk only where it is found),
# runs each tests/fuzz/fuzz_* on tests/fuzz/corpus/<name>/, merges the inputs
# that reach new coverage into that directory (-merge=1: only what adds
# coverage, so the corpus stays small; commit it when it grew), saves any
# crashing input to tests/fuzz/crashes/, prints a summary and exits 1 when a
# target crashed (2 when nothing could be built or run).
# A crash input reproduces with: build-fuzz/tests/fuzz/fuzz_<name> FILE
# Summary columns: runs and exec/s of the fuzzing run, inputs merged into the
# corpus, corpus files/size after the merge, coverage (libFuzzer's "cov", edges)
# at start -> end, crash inputs saved, CPU seconds (fuzzing + merge).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/fuzz_lib.sh

secs=${1:-300}
case $secs in
'' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS per target, default 300]" >&2; exit 2 ;;
esac
command -v clang >/dev/null || { echo "fuzz: clang is not installed" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! fuzz_build "$work/build.log"; then
	cat "$work/build.log" >&2
	echo "fuzz: build failed" >&2
	exit 2
fi
mapfile -t targets < <(fuzz_targets)
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no target in $FUZZ_BUILD/tests/fuzz" >&2
	exit 2
fi
for n in $(fuzz_unbuilt); do
	echo "fuzz: $n not built here (its dependencies are missing); skipped"
done

# Sets cpu_s to the CPU seconds (user + system) of this shell's finished
# children. `times` runs here, not in a $(...) subshell, which has none.
cpu_now() {
	times >"$work/times"
	cpu_s=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/)
		printf "%.1f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$work/times")
}
# Bytes of the files in a directory (du's block counts say little for tiny files).
bytes() { find "$1" -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }'; }

# Inputs saved in tests/fuzz/crashes/ for target $1.
crash_count() { ls "$FUZZ_CRASHES" 2>/dev/null | grep -c "^${1#fuzz_}-" || true; }
# stat VALUE of "stat::KEY: VALUE" in a libFuzzer log, or "?"
fstat() { sed -n "s/^stat::$2: *//p" "$1" | tail -1 | grep . || echo "?"; }
# "cov: N" of the first line starting with $2 (INITED, DONE), or "?"
cov() { sed -n "s/.*$2 *cov: \([0-9]*\).*/\1/p" "$1" | head -1 | grep . || echo "?"; }

crashed=0 cpu_total=0
rows=()
echo "fuzz: ${#targets[@]} target(s), ${secs} s each; logs in /tmp/xvs-<target>.log"
for bin in "${targets[@]}"; do
	name=$(basename "$bin")
	corpus=$(fuzz_corpus "$bin")
	log=/tmp/xvs-$name.log
	scratch=$work/$name
	before=$(ls "$corpus" 2>/dev/null | wc -l)
	crashes0=$(crash_count "$name")
	cpu_now
	cpu0=$cpu_s
	fuzz_run "$bin" "$secs" "$scratch" "$log"
	rc=$?
	# Keep only the new inputs that add coverage to what the tree holds.
	"$bin" -merge=1 "$corpus" "$scratch" >"$work/merge.log" 2>&1 ||
		echo "fuzz: $name: merge failed (see $work/merge.log)" >&2
	cpu_now
	cpu=$(awk -v a="$cpu0" -v b="$cpu_s" 'BEGIN { printf "%.1f", b - a }')
	cpu_total=$(awk -v a="$cpu_total" -v b="$cpu" 'BEGIN { printf "%.1f", a + b }')
	after=$(ls "$corpus" | wc -l)
	kb=$(( ($(bytes "$corpus") + 1023) / 1024 ))
	found=$(($(crash_count "$name") - crashes0))
	if [ "$rc" -ne 0 ]; then
		crashed=$((crashed + 1))
		echo "fuzz: $name FAILED (exit $rc), see $log; inputs in $FUZZ_CRASHES/"
		grep -m3 -E "ERROR: |runtime error:|ALARM|out-of-memory" "$log" | sed 's/^/    /'
	fi
	rows+=("$(printf '%-22s %10s %8s %6s %8s %12s %7s %6s' "$name" \
		"$(fstat "$log" number_of_executed_units)" "$(fstat "$log" average_exec_per_sec)" \
		"$((after - before))" "$after/${kb}K" "$(cov "$log" INITED)->$(cov "$log" DONE)" \
		"$found" "$cpu")")
done

echo
printf '%-22s %10s %8s %6s %8s %12s %7s %6s\n' target runs exec/s +inputs corpus \
	coverage crashes cpu_s
printf '%s\n' "${rows[@]}"
echo "total CPU: ${cpu_total} s; corpus: tests/fuzz/corpus ($(( ($(bytes tests/fuzz/corpus) + 1023) / 1024 )) KB)"
[ "$crashed" -eq 0 ] || exit 1
