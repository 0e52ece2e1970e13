#!/usr/bin/env bash
# Fault and soak test: traffic on tap, afpacket, afxdp and vhost-user ports while a
# seeded driver adds, deletes and changes ports, VLANs, static MACs, RSS settings and the
# worker count, restarts the guest, and kills xvsd (-9) and restarts it; after each
# restart the state must equal the driver's model of acknowledged changes, and counters
# must be conserved (tests/e2e/soak.py, doc/l2.md "Conservation").
#
# usage: scripts/soak.sh [SECONDS]   (default 300; root, like the e2e tests)
#        XVS_SOAK_SEED=N scripts/soak.sh 60   replays the choices of a run
# Prints the run's summary line last; exits non-zero if the run failed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-300}
case $secs in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
[ -x build/src/ctl/xvsd ] || ./scripts/setup.sh
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
rc=0
XVS_BUILD=${XVS_BUILD:-$PWD/build} XVS_SOAK_SECONDS=$secs XVS_SOAK_SUMMARY=$summary \
	timeout $((secs + 300)) /usr/bin/python3 -m pytest -q -p no:cacheprovider -rN \
	tests/e2e/test_soak.py || rc=$?
if [ -s "$summary" ]; then
	cat "$summary"
else
	echo "soak: no summary (status $rc): the run did not get to the end" >&2
fi
exit $rc
