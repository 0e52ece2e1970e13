# SPDX-License-Identifier: BSD-3-Clause
# Shared by scripts/fuzz.sh (long runs that grow the corpus) and
# scripts/test.sh (a short pass): build the libFuzzer targets and run one.
# Source it from the repository root. Nothing here exits or prints a verdict;
# the callers count and report.
#
# Layout: build-fuzz/tests/fuzz/fuzz_<name> runs on tests/fuzz/corpus/<name>/;
# a crashing, leaking or hanging input is saved as
# tests/fuzz/crashes/<name>-{crash,leak,timeout,oom}-<sha1>.

FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_CRASHES=tests/fuzz/crashes

# Configure (once) and build the targets. Targets that need libdpdk are built
# only where it is found (tests/fuzz/meson.build decides), so the set may vary.
# Returns non-zero, with the build's output in $1 (a log file), on failure.
fuzz_build() {
	local log=$1
	if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
		CC=clang meson setup "$FUZZ_BUILD" -Ddatapath=disabled -Dfuzz=true >"$log" 2>&1 ||
			return 1
	fi
	ninja -C "$FUZZ_BUILD" >"$log" 2>&1
}

# The built targets, one path a line.
fuzz_targets() {
	local f
	for f in "$FUZZ_BUILD"/tests/fuzz/fuzz_*; do
		[ -f "$f" ] && [ -x "$f" ] && echo "$f"
	done
}

# Sources of targets that were not built here (e.g. a DPDK-based target without
# libdpdk), one name a line.
fuzz_unbuilt() {
	local s name
	for s in tests/fuzz/fuzz_*.c; do
		[ -f "$s" ] || continue
		name=$(basename "$s" .c)
		[ -x "$FUZZ_BUILD/tests/fuzz/$name" ] || echo "$name"
	done
}

# fuzz_corpus TARGET_PATH: the target's corpus directory in the tree.
fuzz_corpus() {
	local name
	name=$(basename "$1")
	echo "tests/fuzz/corpus/${name#fuzz_}"
}

# fuzz_run TARGET_PATH SECONDS SCRATCH LOG: fuzz for SECONDS, starting from
# the tree's corpus; new inputs go to SCRATCH (libFuzzer writes to its first
# directory), so the tree's corpus changes only when a caller merges them.
# Crash inputs go to tests/fuzz/crashes/. Returns libFuzzer's exit status:
# non-zero means a crash, leak, timeout or out-of-memory input was found.
fuzz_run() {
	local bin=$1 secs=$2 scratch=$3 log=$4 name corpus
	name=$(basename "$bin")
	corpus=$(fuzz_corpus "$bin")
	mkdir -p "$corpus" "$FUZZ_CRASHES" "$scratch"
	"$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$FUZZ_CRASHES/${name#fuzz_}-" "$scratch" "$corpus" >"$log" 2>&1
}
