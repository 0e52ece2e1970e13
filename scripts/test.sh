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

if command -v clang >/dev/null; then
	echo "== fuzz targets (short run; scripts/fuzz.sh runs them longer)"
	. scripts/fuzz_lib.sh
	if fuzz_build /tmp/xvs-fuzz-build.log; then
		# One target per CPU at a time: a libFuzzer run is one process on
		# one CPU, so each still gets its 6 s of a whole CPU.
		targets=$(fuzz_targets)
		for f in $targets; do
			while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n; done
			name=$(basename "$f")
			# New inputs go to a scratch directory, so the corpus in the
			# tree stays as committed (fuzz.sh merges them).
			(
				scratch=$(mktemp -d)
				fuzz_run "$f" 6 "$scratch" /tmp/xvs-$name.log
				echo $? >/tmp/xvs-$name.rc
				rm -rf "$scratch"
			) &
		done
		wait
		for f in $targets; do
			name=$(basename "$f")
			if [ "$(cat /tmp/xvs-$name.rc 2>/dev/null)" = 0 ]; then
				echo "ok: $name"; passed=$((passed + 1))
			else
				echo "FAIL: $name (see /tmp/xvs-$name.log; input in $FUZZ_CRASHES/)"
				failed=$((failed + 1))
			fi
			rm -f /tmp/xvs-$name.rc
		done
	else
		echo "FAIL: fuzz build (see /tmp/xvs-fuzz-build.log)"; failed=$((failed + 1))
	fi
fi

# e2e BUILD_DIR NAME TESTS...: run pytest on TESTS against BUILD_DIR's xvsd and
# xvsctl, add the results to the totals. The tests are independent and mostly
# wait (on the kernel, ping, timers), so three run at a time on 2 CPUs
# (pytest-xdist; XVS_E2E_JOBS), logged to /tmp/xvs-NAME.log; those marked
# serial (timing checks, long CPU load; see tests/e2e/README.md) run alone
# afterwards, logged to /tmp/xvs-NAME-serial.log. Each log ends with the
# slowest tests, for whoever has to keep the suite inside its time.
e2e() {
	local build=$1 name=$2
	shift 2
	e2e_pass "$build" "$name" -n "${XVS_E2E_JOBS:-3}" -m "not serial" "$@"
	e2e_pass "$build" "$name-serial" -m serial "$@"
}

# e2e_pass BUILD_DIR NAME PYTEST_ARGS...: one pytest run, logged to /tmp/xvs-NAME.log.
e2e_pass() {
	local build=$1 name=$2 xml=/tmp/xvs-$2.xml t f e s
	shift 2
	rm -f "$xml"
	XVS_BUILD=$ROOT/$build /usr/bin/python3 -m pytest -q -p no:cacheprovider \
		--junitxml="$xml" --durations=15 "$@" 2>&1 | tee /tmp/xvs-$name.log
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

# build-san (xvsd and xvsctl with ASan + UBSan for the e2e subset below) also
# has every unit test: one sanitizer build instead of two, and the DPDK-based
# unit tests run under the sanitizers too. It compiles in the background, at
# the lowest priority, while the non-serial e2e tests run (those mostly
# wait); the serial tests start only once it is done.
if [ ! -f build-san/build.ninja ]; then
	# frame pointers: whole stacks in leak reports at no unwinding cost;
	# float-cast-overflow is not part of GCC's -fsanitize=undefined
	meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false \
		"-Dc_args=-fno-omit-frame-pointer -fsanitize=float-cast-overflow" >/dev/null
fi
nice -n 19 ninja -C build-san >/tmp/xvs-san-build.log 2>&1 &
san_pid=$!

# wait_san_build: wait for the background sanitizer build, then run the unit
# tests under the sanitizers.
san_built=0
wait_san_build() {
	echo "== unit tests under AddressSanitizer + UBSan"
	if wait "$san_pid"; then
		san_built=1
		meson test -C build-san --print-errorlogs || true
		count_meson build-san
	else
		echo "FAIL: sanitizer build (see /tmp/xvs-san-build.log)"; failed=$((failed + 1))
	fi
}

echo "== end-to-end tests"
# as e2e(), with the sanitizer build waited for between the two passes
e2e_pass build e2e -n "${XVS_E2E_JOBS:-3}" -m "not serial" tests/e2e
wait_san_build
e2e_pass build e2e-serial -m serial tests/e2e

# xvsd and xvsctl built with AddressSanitizer + UBSan, on a subset that adds
# every port kind (tap, afpacket, afxdp, vhost-user with a virtio-user guest,
# pcap, null) and calls every RPC method: a sanitizer report in any process
# fails its test (tests/e2e/conftest.py, SAN_DEFAULTS). The rest of the suite
# would double the time; its timing checks (idle CPU, aging windows, the idle
# tap's read count in test_l2.py) are not about memory safety and their
# thresholds assume an uninstrumented daemon. Kept in step with
# tests/e2e/README.md, "Sanitizers".
SAN_E2E=(test_smoke.py test_vhost.py test_l2.py test_malformed.py test_cli.py test_ports.py
	test_lifecycle.py test_rss.py::test_reconfiguration_under_traffic
	test_persistence.py::test_restart_restores_ports_vlans_statics_and_settings)
# node ids are relative to tests/e2e (its pytest.ini)
SAN_SKIP=(--deselect test_l2.py::test_idle_tap_is_not_read_while_others_are_busy)
echo "== end-to-end subset against xvsd under AddressSanitizer + UBSan"
if [ "$san_built" = 1 ]; then
	e2e build-san e2e-san "${SAN_E2E[@]/#/tests/e2e/}" "${SAN_SKIP[@]}"
else
	echo "skipped: the sanitizer build failed (counted above)"
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
