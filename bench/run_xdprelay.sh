#!/bin/bash
# run_xdprelay.sh start|stop|pids|info — the bare AF_XDP relay (bench/xdprelay.c) as an
# anchor for xvs's afxdp rows, with the runner interface of $XVS_ANCHORS/README.md.
#
# Same topology as run_xvs.sh XVS_PORT=afxdp: one AF_XDP socket on each of $XB_SW1 and
# $XB_SW2 in $XB_SWNS (copy mode, need-wakeup, the same redirect program as xvs), every
# frame copied from one socket's rx ring to the other's tx ring: no learning, nothing
# but the unavoidable work, so its figures are what any AF_XDP switch reaches here.
# Env: RELAY_MODE=epoll (default: sleeps in epoll_wait, as xvs's worker) | spin
#      RELAY_CPU = CPU to pin it to (default $XB_SW_CORE, where xvs's worker runs)
set -u
. "$(dirname "$(readlink -f "$0")")/lib.sh"
RELAY=${RELAY:-$XVS_BUILD/xdprelay}
RELAY_MODE=${RELAY_MODE:-epoll}
RELAY_CPU=${RELAY_CPU:-$XB_SW_CORE}
ST=$XB_STATE/xdprelay
PIDF=$ST/xdprelay.pid; LOGF=$ST/xdprelay.log

start() {
  stop
  [ -x "$RELAY" ] || { echo "xdprelay not built ($RELAY); run ninja -C build" >&2; return 1; }
  mkdir -p "$ST"
  local mode=""
  [ "$RELAY_MODE" = spin ] && mode=spin
  # ip netns exec and taskset exec(): the recorded PID is the relay itself
  # shellcheck disable=SC2086
  setsid ip netns exec "$XB_SWNS" taskset -c "$RELAY_CPU" "$RELAY" "$XB_SW1" "$XB_SW2" $mode \
    </dev/null >"$LOGF" 2>&1 &
  echo $! >"$PIDF"
  for _ in $(seq 1 100); do
    grep -q "<->" "$LOGF" 2>/dev/null && return 0
    kill -0 "$(cat "$PIDF")" 2>/dev/null || break
    sleep 0.1
  done
  cat "$LOGF" >&2; stop; return 1
}

stop() {
  kill_pidfile "$PIDF"
  for p in $XB_SW1 $XB_SW2; do nsx "$XB_SWNS" ip link set dev "$p" xdp off 2>/dev/null; done
  true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  pids) [ -f "$PIDF" ] && cat "$PIDF" ;;
  info) echo "xdprelay (bare AF_XDP copy-mode relay, $RELAY_MODE, CPU $RELAY_CPU)" ;;
  *) echo "usage: $0 start|stop|pids|info" >&2; exit 2 ;;
esac
