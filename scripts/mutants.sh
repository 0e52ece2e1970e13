#!/usr/bin/env bash
# Standing mutation check: do the tests catch the switch's main behaviours broken?
#
# Applies each mutant of scripts/mutants.py (a deliberate one-line bug: file,
# exact original text, replacement) one at a time, rebuilds incrementally, and
# runs the tests that should catch it, twice. A mutant is killed only if both
# runs fail (deterministically caught); it survives if either run passes.
# The tree is always restored, also on Ctrl-C or an error, and rebuilt.
#
#   ./scripts/mutants.sh                 all mutants (hours: half of them run end-to-end
#                                        tests, twice, ~2 min a mutant on a 2-CPU VM;
#                                        the unit-test ones ~5 s each; not run by CI)
#   ./scripts/mutants.sh 3 12            only mutants 3 and 12
#   MUTANTS_BASELINE=0 ...               skip the first pass, which requires every
#                                        selected test set to pass on the unmutated tree
#
# Prints a line per mutant and "N killed, N survived"; exits 1 if any survived,
# 2 if a mutant no longer applies (a source changed: update its original text in
# mutants.py) or the baseline fails.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
export XVS_BUILD=${XVS_BUILD:-$REPO/build}
PY=/usr/bin/python3
HELPER="$PY $REPO/scripts/mutants.py"
LOG=$(mktemp -d /tmp/xvs-mutants.XXXXXX)

restore() {
	$HELPER restore
	ninja -C "$XVS_BUILD" >"$LOG/restore-build.log" 2>&1 ||
		echo "mutants: rebuild of the restored tree failed, see $LOG/restore-build.log" >&2
}
# A test run is started in the background and waited for, so that Ctrl-C
# interrupts the wait at once (a foreground child would be waited out first).
# Background children ignore the terminal's SIGINT: the trap hands it to the
# test run (timeout passes it on), so that pytest still tears its fixtures down.
child=""
interrupted() {
	echo >&2
	echo "mutants: interrupted, restoring the tree" >&2
	if [ -n "$child" ]; then
		kill -INT "$child" 2>/dev/null
		for _ in $(seq 1 300); do   # pytest's teardown: up to 30 s
			kill -0 "$child" 2>/dev/null || break
			sleep 0.1
		done
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	exit 130
}
trap 'restore' EXIT
trap 'interrupted' INT TERM

# bg LOG CMD...: run CMD in the background (output to LOG), wait, return its status.
bg() {
	local log=$1 rc
	shift
	"$@" >"$log" 2>&1 &
	child=$!
	wait "$child"
	rc=$?
	child=""
	return $rc
}

# run_tests LABEL N: the test commands of mutant N (or of the baseline when N is
# "all"), stopping at the first failure. Returns 0 if all passed, 1 if one
# failed (a unit test binary's non-zero exit, a crash, a timeout, pytest's 1),
# 2 if pytest did not run the tests (nothing selected, usage error).
run_tests() {
	local label=$1 which=$2 cmd rc i=0
	local list argv
	if [ "$which" = all ]; then list=$($HELPER alltests); else list=$($HELPER tests "$which"); fi
	while IFS= read -r cmd; do
		i=$((i + 1))
		eval "argv=($cmd)"   # the helper prints shell words (shlex.join)
		bg "$LOG/$label.$i.log" timeout 600 "${argv[@]}"
		rc=$?
		# pytest: 1 is failed tests; 5 nothing selected (a renamed test), 2-4
		# an interrupted run or a usage or internal error: not the mutant's doing
		if [[ " ${argv[*]} " == *" pytest "* ]] && [ $rc -ge 2 ] && [ $rc -le 5 ]; then
			echo "mutants: pytest exit $rc (not a test failure) from: $cmd" \
			     "(see $LOG/$label.$i.log)" >&2
			return 2
		fi
		[ $rc -eq 0 ] || return 1
	done <<<"$list"
	return 0
}

$HELPER restore   # leftovers of an interrupted run
if ! $HELPER check; then
	echo "mutants: fix the mutants above in scripts/mutants.py" >&2
	exit 2
fi
if ! ninja -C "$XVS_BUILD" >"$LOG/build.log" 2>&1; then
	echo "mutants: the unmutated tree does not build, see $LOG/build.log" >&2
	exit 2
fi

total=$($HELPER count)
if [ $# -gt 0 ]; then sel=("$@"); else mapfile -t sel < <(seq 1 "$total"); fi

if [ "${MUTANTS_BASELINE:-1}" != 0 ]; then
	run_tests baseline all
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "mutants: the selected tests do not pass on the unmutated tree, see $LOG/baseline.*.log" >&2
		exit 2
	fi
	echo "baseline: every selected test set passes on the unmutated tree"
fi

killed=0
survived=0
results=()
for n in "${sel[@]}"; do
	name=$($HELPER name "$n") || exit 2
	if ! $HELPER apply "$n"; then
		echo "mutant $n not applicable" >&2
		exit 2
	fi
	if ! bg "$LOG/m$n.build.log" ninja -C "$XVS_BUILD"; then
		# a mutant that does not compile tests nothing: the list is wrong
		echo "mutant $n ($name) does not build, see $LOG/m$n.build.log" >&2
		exit 2
	fi
	runs=""
	for r in 1 2; do
		run_tests "m$n.run$r" "$n"
		rc=$?
		[ $rc -eq 2 ] && exit 2
		if [ $rc -eq 0 ]; then runs+="pass "; else runs+="fail "; fi
	done
	if [ "$runs" = "fail fail " ]; then
		verdict=killed
		killed=$((killed + 1))
	else
		verdict=SURVIVED
		survived=$((survived + 1))
	fi
	line=$(printf "%2d %-9s %s  (runs: %s)" "$n" "$verdict" "$name" "${runs% }")
	echo "$line"
	results+=("$line")
	$HELPER restore
done
echo "$killed killed, $survived survived   (logs: $LOG)"
[ "$survived" -eq 0 ]
