#!/bin/bash
# run_taprelay.sh start|stop|pids|info — the bare tap relay (bench/taprelay.c) as an
# anchor for xvs's tap rows, with the runner interface of $XVS_ANCHORS/README.md.
#
# Same topology as run_xvs.sh XVS_PORT=tap: the veths go, two taps xbtap1/2 (created
# in $XB_SWNS by the relay, with the hosts' MACs) move into $XB_H1/$XB_H2 and become
# eth0 there (topo_tap.sh). It forwards every frame from one tap to the other: no
# learning, no VLANs, nothing but a read and a write per frame, so its figures are
# what any switch built on tap devices can reach on this machine.
# Env: RELAY_MODE=epoll (default: sleeps in epoll_wait) | spin
#      RELAY_CPU = CPU to pin it to (default $XB_SW_CORE, where xvs's worker runs)
#      HOST_TXCSUM=off|on (host eth0 tx csum, as for xvs)
set -u
. "$(dirname "$(readlink -f "$0")")/lib.sh"
RELAY=${RELAY:-$XVS_BUILD/taprelay}
RELAY_MODE=${RELAY_MODE:-epoll}
RELAY_CPU=${RELAY_CPU:-$XB_SW_CORE}
HOST_TXCSUM=${HOST_TXCSUM:-off}
ST=$XB_STATE/taprelay
PIDF=$ST/taprelay.pid; LOGF=$ST/taprelay.log

start() {
  stop
  [ -x "$RELAY" ] || { echo "taprelay not built ($RELAY); run ninja -C build" >&2; return 1; }
  mkdir -p "$ST"
  "$BENCH_DIR/topo_tap.sh" strip || return 1
  local mode=""
  [ "$RELAY_MODE" = spin ] && mode=spin
  # shellcheck disable=SC2086
  setsid ip netns exec "$XB_SWNS" taskset -c "$RELAY_CPU" "$RELAY" \
    xbtap1 "$XB_H1_MAC" xbtap2 "$XB_H2_MAC" $mode </dev/null >"$LOGF" 2>&1 &
  echo $! >"$PIDF"
  wait_if "$XB_SWNS" xbtap2 || { cat "$LOGF" >&2; stop; return 1; }
  nsx "$XB_SWNS" ip link set xbtap1 netns "$XB_H1" &&
  nsx "$XB_SWNS" ip link set xbtap2 netns "$XB_H2" || { stop; return 1; }
  "$BENCH_DIR/topo_tap.sh" hosts || { stop; return 1; }
  if [ "$HOST_TXCSUM" = off ]; then
    for h in $XB_H1 $XB_H2; do nsx "$h" ethtool -K eth0 tx off >/dev/null 2>&1; done
  fi
}

stop() { kill_pidfile "$PIDF"; true; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  pids) [ -f "$PIDF" ] && cat "$PIDF" ;;
  info) echo "taprelay (bare tap-to-tap read/write, $RELAY_MODE, CPU $RELAY_CPU)" ;;
  *) echo "usage: $0 start|stop|pids|info" >&2; exit 2 ;;
esac
