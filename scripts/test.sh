#!/usr/bin/env bash
# Run every test of xvs: unit tests (plain and ASan+UBSan), a short fuzz pass,
# and the end-to-end suite on network namespaces. Installs and builds first.
# Ends with one line "N passed, N failed[, N skipped]".
set -uo pipefail
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
	echo "== fuzz targets (short run; scripts/fuzz.sh runs them longer)"
	. scripts/fuzz_lib.sh
	if fuzz_build /tmp/xvs-fuzz-build.log; then
		for f in $(fuzz_targets); do
			name=$(basename "$f")
			# New inputs go to a scratch directory, so the corpus in the
			# tree stays as committed (fuzz.sh merges them).
			scratch=$(mktemp -d)
			if fuzz_run "$f" 10 "$scratch" /tmp/xvs-$name.log; then
				echo "ok: $name"; passed=$((passed + 1))
			else
				echo "FAIL: $name (see /tmp/xvs-$name.log; input in $FUZZ_CRASHES/)"
				failed=$((failed + 1))
			fi
			rm -rf "$scratch"
		done
	else
		echo "FAIL: fuzz build (see /tmp/xvs-fuzz-build.log)"; failed=$((failed + 1))
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
