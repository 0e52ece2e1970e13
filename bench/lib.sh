#!/bin/bash
# bench/lib.sh — common settings for the xvs benchmark (source it).
# Reuses the anchor harness (read-only) through $XVS_ANCHORS and its lib.sh, so the
# namespaces, addresses, MACs, cores and state directory are exactly the anchors'.
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
XVS_REPO="$(cd "$BENCH_DIR/.." && pwd)"
export BENCH_DIR XVS_REPO
XVS_ANCHORS="$(cd "${XVS_ANCHORS:-$XVS_REPO/../shared/bench/anchors}" 2>/dev/null && pwd)" \
  || { echo "anchor harness not found (set XVS_ANCHORS)" >&2; exit 2; }
export XVS_ANCHORS
[ -f "$XVS_ANCHORS/lib.sh" ] || { echo "no lib.sh in XVS_ANCHORS=$XVS_ANCHORS" >&2; exit 2; }
# shellcheck source=/dev/null
. "$XVS_ANCHORS/lib.sh"
export XVS_BUILD=${XVS_BUILD:-$XVS_REPO/build}
export XVSD=${XVSD:-$XVS_BUILD/src/ctl/xvsd}
export XVSCTL=${XVSCTL:-$XVS_BUILD/cli/xvsctl}
export BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_DIR/results}
export BENCH_PCAPS=${BENCH_PCAPS:-$BENCH_RESULTS/pcaps}
# The anchors' scripts need Debian's python3 (scapy); a pyenv python3 on PATH lacks it.
export BENCH_PY=${BENCH_PY:-/usr/bin/python3}
