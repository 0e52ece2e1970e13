#!/usr/bin/env bash
# Run every test of xvs: unit tests (plain and ASan+UBSan), a short fuzz pass,
# and the end-to-end suite on network namespaces. Installs and builds first.
# Ends with one line "N passed, N failed[, N skipped]".
set -uo pipefail
. "$(dirname "$0")/need_root.sh"
cd "$(dirname "$0")/.."
ROOT=$PWD
./scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 skipped=0
count_meson() { # $1 = build dir; adds meson test results to the totals
	local log=$1/meson-logs/testlog.json p f s
	if [ ! -f "$log" ]; then failed=$((failed + 1)); return; fi
	read -r p f s < <(/usr/bin/python3 scripts/count_meson.py "$log")
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

echo "== unit tests"
meson test -C build --print-errorlogs || true
count_meson build

echo "== unit tests under AddressSanitizer + UBSan"
if [ ! -f build-asan/build.ninja ]; then
	meson setup build-asan -Ddatapath=disabled -Db_sanitize=address,undefined \
		-Db_lundef=false >/dev/null
fi
ninja -C build-asan >/dev/null && meson test -C build-asan --print-errorlogs || true
count_meson build-asan

if command -v clang >/dev/null; then
	echo "== fuzz targets (short run)"
	if [ ! -f build-fuzz/build.ninja ]; then
		CC=clang meson setup build-fuzz -Ddatapath=disabled -Dfuzz=true >/dev/null
	fi
	if ninja -C build-fuzz >/dev/null; then
		for f in build-fuzz/tests/fuzz/fuzz_*; do
			[ -f "$f" ] && [ -x "$f" ] || continue
			name=$(basename "$f"); corpus=tests/fuzz/corpus/${name#fuzz_}
			# New inputs go to a scratch directory (libFuzzer writes to the
			# first one), so the seed corpus in the tree stays as committed.
			scratch=$(mktemp -d)
			if "$f" -max_total_time=10 -print_final_stats=0 "$scratch" "$corpus" \
				>/tmp/xvs-$name.log 2>&1; then
				echo "ok: $name"; passed=$((passed + 1))
			else
				echo "FAIL: $name (see /tmp/xvs-$name.log)"; failed=$((failed + 1))
			fi
			rm -rf "$scratch"
		done
	else
		echo "FAIL: fuzz build"; failed=$((failed + 1))
	fi
fi

echo "== end-to-end tests"
if [ -d tests/e2e ] && ls tests/e2e/test_*.py >/dev/null 2>&1; then
	XVS_BUILD=$ROOT/build /usr/bin/python3 -m pytest -q -p no:cacheprovider \
		--junitxml=/tmp/xvs-e2e.xml tests/e2e 2>&1 | tee /tmp/xvs-e2e.log
	if [ -f /tmp/xvs-e2e.xml ]; then
		read -r t f e s < <(/usr/bin/python3 - <<'PY'
import xml.etree.ElementTree as ET
r = ET.parse('/tmp/xvs-e2e.xml').getroot()
s = r if r.tag == 'testsuite' else r.find('testsuite')
print(s.get('tests'), s.get('failures'), s.get('errors'), s.get('skipped'))
PY
)
		passed=$((passed + t - f - e - s)); failed=$((failed + f + e)); skipped=$((skipped + s))
		rm -f /tmp/xvs-e2e.xml
	else
		failed=$((failed + 1))
	fi
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
