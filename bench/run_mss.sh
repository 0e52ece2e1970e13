#!/bin/bash
# bench/run_mss.sh [--reps N] [--secs S] [--mss "536 1000 1400"] [--configs "..."]
#
# Small-MSS TCP: one iperf3 stream xbh1 -> xbh2 with -M MSS, through
#   xvs-tap-afpacket  xbh1 eth0 is an xvs tap (TSO on) -> xvsd -> afpacket on xbsw2 ==veth== xbh2
#   xvs-tap-tap       both hosts on xvs taps (host offloads on), as run_xvs.sh XVS_PORT=tap
#   linuxbridge       the anchors' veth -> Linux bridge -> veth, xbh1 offloads on (TSO)
# xbh2's eth0 has TX checksum offload off where it is a veth (an AF_PACKET port needs it,
# doc/ports.md; the bridge row does the same so the hosts match). The VM side sends 64 KB
# TSO frames that xvs cuts into MSS-sized segments for the afpacket port, and passes whole
# to a tap. Prints a markdown table: median receiver Gbit/s over the reps (min-max) and
# the median retransmits. Defaults: 3 reps of 5 s.
#
# Uses its own namespace names (xbms*) and state directory, so it does not touch another
# benchmark's topology. XVS_BUILD selects the xvs build (e.g. an older one, for before/after).
set -u -o pipefail
export XB_SWNS=${XB_SWNS:-xbmssw} XB_H1=${XB_H1:-xbmsh1} XB_H2=${XB_H2:-xbmsh2}
export XB_SW1=${XB_SW1:-xbmss1} XB_SW2=${XB_SW2:-xbmss2} XB_STATE=${XB_STATE:-/tmp/xbstate-mss}
. "$(dirname "$(readlink -f "$0")")/lib.sh"

REPS=3; SECS=5; MSS="536 1000 1400"; CONFIGS="xvs-tap-afpacket xvs-tap-tap linuxbridge"
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift ;;
    --secs) SECS=$2; shift ;;
    --mss) MSS=$2; shift ;;
    --configs) CONFIGS=$2; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "run_mss.sh needs root (namespaces)" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "no iperf3" >&2; exit 1; }
OUT=$(mktemp)
trap 'cleanup; rm -f "$OUT"' EXIT
trap 'exit 130' INT TERM

cleanup() {
  "$BENCH_DIR/run_xvs.sh" stop >/dev/null 2>&1
  "$XVS_ANCHORS/run_linuxbridge.sh" stop >/dev/null 2>&1
  "$XVS_ANCHORS/topo.sh" down >/dev/null 2>&1
  true
}

txcsum_off() { nsx "$1" ethtool -K eth0 tx off >/dev/null 2>&1; }

# Bring config $1 up on a fresh topology.
setup() {
  cleanup
  "$XVS_ANCHORS/topo.sh" up >/dev/null || return 1
  case "$1" in
    linuxbridge)
      "$XVS_ANCHORS/run_linuxbridge.sh" start || return 1
      txcsum_off "$XB_H2" ;;
    xvs-tap-tap)
      XVS_PORT=tap HOST_TXCSUM=on "$BENCH_DIR/run_xvs.sh" start || return 1 ;;
    xvs-tap-afpacket)
      XVS_PORT=none "$BENCH_DIR/run_xvs.sh" start || return 1
      nsx "$XB_SWNS" ip link del "$XB_SW1" || return 1   # xbh1 gets a tap instead
      "$BENCH_DIR/run_xvs.sh" ctl port add p1 tap ifname=xbtap1 "netns=$XB_H1" \
        "mac=$XB_H1_MAC" >/dev/null || return 1
      "$BENCH_DIR/run_xvs.sh" ctl port add p2 afpacket "ifname=$XB_SW2" >/dev/null || return 1
      "$BENCH_DIR/topo_tap.sh" hosts || return 1
      txcsum_off "$XB_H2" ;;
    *) echo "unknown config $1" >&2; return 2 ;;
  esac
  nsx "$XB_H1" ping -c 3 -i 0.2 -W 2 "$XB_H2_IP4" >/dev/null || { echo "$1: no ping" >&2; return 1; }
}

# One iperf3 run: prints "bits_per_second retransmits".
measure() {
  local mss=$1 j
  nsx "$XB_H2" iperf3 -s -1 -B "$XB_H2_IP4" >/dev/null 2>&1 &
  local srv=$!
  sleep 0.3
  j=$(nsx "$XB_H1" iperf3 -c "$XB_H2_IP4" -t "$SECS" -M "$mss" -J 2>/dev/null)
  wait "$srv" 2>/dev/null
  "$BENCH_PY" -c 'import json,sys
e = json.load(sys.stdin)["end"]
print(e["sum_received"]["bits_per_second"], e["sum_sent"].get("retransmits", 0))' <<<"$j" \
    || echo "nan nan"
}

log "small-MSS TCP: configs [$CONFIGS], MSS [$MSS], $REPS reps x ${SECS}s; xvs $XVSD"
for c in $CONFIGS; do
  setup "$c" || { echo "$c: setup failed" >&2; continue; }
  for m in $MSS; do
    for r in $(seq 1 "$REPS"); do
      read -r bps retr < <(measure "$m")
      echo "$c $m $r $bps $retr" >>"$OUT"
      gbps=$(awk -v b="$bps" 'BEGIN{printf "%.2f", b/1e9}')
      log "$c MSS $m rep $r: $gbps Gbit/s, $retr retransmits"
    done
  done
  if [ "$c" != linuxbridge ]; then
    "$BENCH_DIR/run_xvs.sh" ctl --json port stats >"$XB_STATE/stats-$c.json" 2>/dev/null
  fi
done
cleanup

"$BENCH_PY" - "$OUT" "$CONFIGS" "$MSS" "$REPS" "$SECS" <<'EOF'
import statistics, sys
path, reps, secs = sys.argv[1], sys.argv[4], sys.argv[5]
configs, msss = sys.argv[2].split(), sys.argv[3].split()
rows = {}
for line in open(path):
    c, m, _, bps, retr = line.split()
    rows.setdefault((c, m), []).append((float(bps), float(retr)))
def cell(c, m):
    v = rows.get((c, m))
    if not v:
        return "—"
    g = [b / 1e9 for b, _ in v]
    return (f"{statistics.median(g):.2f} ({min(g):.2f}–{max(g):.2f}), "
            f"{statistics.median(r for _, r in v):.0f} retr")
print(f"\nTCP, 1 stream, iperf3 -M, receiver Gbit/s: median (min–max) of {reps} x {secs} s, "
      "median retransmits\n")
print("| MSS | " + " | ".join(configs) + " |")
print("|---|" + "---|" * len(configs))
for m in msss:
    print(f"| {m} | " + " | ".join(cell(c, m) for c in configs) + " |")
EOF
