#!/usr/bin/env bash
# Run every test of xvs: unit tests (plain and ASan+UBSan), a short fuzz pass,
# the end-to-end suite on network namespaces, and a subset of it against xvsd
# built with ASan+UBSan. Installs and builds first.
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

# e2e BUILD_DIR NAME TESTS...: run pytest on TESTS against BUILD_DIR's xvsd and
# xvsctl, log to /tmp/xvs-NAME.log, add the results to the totals.
e2e() {
	local build=$1 name=$2 xml=/tmp/xvs-$2.xml t f e s
	shift 2
	rm -f "$xml"
	XVS_BUILD=$ROOT/$build /usr/bin/python3 -m pytest -q -p no:cacheprovider \
		--junitxml="$xml" "$@" 2>&1 | tee /tmp/xvs-$name.log
	if [ ! -f "$xml" ]; then
		failed=$((failed + 1))
		return
	fi
	read -r t f e s < <(/usr/bin/python3 - "$xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
s = r if r.tag == 'testsuite' else r.find('testsuite')
print(s.get('tests'), s.get('failures'), s.get('errors'), s.get('skipped'))
PY
)
	passed=$((passed + t - f - e - s)); failed=$((failed + f + e)); skipped=$((skipped + s))
	rm -f "$xml"
}

echo "== end-to-end tests"
e2e build e2e tests/e2e

# xvsd and xvsctl built with AddressSanitizer + UBSan, on a subset that adds
# every port kind (tap, afpacket, afxdp, vhost-user with a virtio-user guest,
# pcap, null) and calls every RPC method: a sanitizer report in any process
# fails its test (tests/e2e/conftest.py, SAN_DEFAULTS). The rest of the suite
# would double the time; its timing checks (idle CPU, aging windows) are not
# about memory safety. Kept in step with tests/e2e/README.md, "Sanitizers".
SAN_E2E=(test_smoke.py test_vhost.py test_l2.py test_malformed.py test_cli.py test_ports.py
	test_lifecycle.py test_rss.py::test_reconfiguration_under_traffic
	test_persistence.py::test_restart_restores_ports_vlans_statics_and_settings)
echo "== end-to-end subset against xvsd under AddressSanitizer + UBSan"
if [ ! -f build-san/build.ninja ]; then
	# frame pointers: whole stacks in leak reports at no unwinding cost;
	# float-cast-overflow is not part of GCC's -fsanitize=undefined
	meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false \
		"-Dc_args=-fno-omit-frame-pointer -fsanitize=float-cast-overflow" >/dev/null
fi
if ninja -C build-san >/tmp/xvs-san-build.log 2>&1; then
	e2e build-san e2e-san "${SAN_E2E[@]/#/tests/e2e/}"
else
	echo "FAIL: sanitizer build (see /tmp/xvs-san-build.log)"; failed=$((failed + 1))
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
