#!/bin/bash
# run_xvs.sh start|stop|pids|info|ctl ARGS... — xvs (xvsd) runner for the anchor harness.
#
# Implements the runner interface of $XVS_ANCHORS/README.md: start xvsd inside netns
# $XB_SWNS, switching between $XB_SW1 and $XB_SW2 with MAC learning.
#
# Env:
#   XVS_PORT    = afxdp (default)  ports "afxdp ifname=$XB_SW1/2" (xvs's own AF_XDP port, 1 queue)
#                 afpacket         ports "afpacket ifname=$XB_SW1/2" (net_af_packet)
#                 tap              no veths: deletes the topology's veth pairs and adds two
#                                  tap ports xbtap1/2, moved into $XB_H1/$XB_H2 with the
#                                  hosts' MACs, then renames them eth0 there and puts the
#                                  hosts' addresses on them (topo_tap.sh). stop leaves the host namespaces without
#                                  eth0; topo.sh up restores the veth topology.
#                 none             daemon only, no ports (datapath.py adds pcap/null ports)
#   XVS_WORKERS = worker lcores (default 1)    XVS_CPUS = their CPUs (default $XB_SW_CORE)
#   XVS_NS      = namespace to run in (default $XB_SWNS)
#   XVS_STATE   = db/socket/log/pid directory (default $XB_STATE/xvs)
#   XVS_ARGS    = extra xvsd arguments       HOST_TXCSUM=off|on (tap mode: host eth0 tx csum)
# xvsd runs its control thread on CPU 0 and its worker(s) on XVS_CPUS.
set -u
. "$(dirname "$(readlink -f "$0")")/lib.sh"
XVS_PORT=${XVS_PORT:-afxdp}
XVS_WORKERS=${XVS_WORKERS:-1}
XVS_CPUS=${XVS_CPUS:-$XB_SW_CORE}
XVS_NS=${XVS_NS:-$XB_SWNS}
XVS_STATE=${XVS_STATE:-$XB_STATE/xvs}
XVS_ARGS=${XVS_ARGS:-}
HOST_TXCSUM=${HOST_TXCSUM:-off}
PIDF=$XVS_STATE/xvsd.pid; LOGF=$XVS_STATE/xvsd.log; SOCK=$XVS_STATE/xvsd.sock; DB=$XVS_STATE/xvs.db

ctl() { "$XVSCTL" --socket "$SOCK" "$@"; }

alive() { [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; }

start() {
  stop
  [ -x "$XVSD" ] && [ -x "$XVSCTL" ] || { echo "xvsd/xvsctl not built ($XVSD); run ninja -C build" >&2; return 1; }
  mkdir -p "$XVS_STATE"; rm -f "$DB" "$SOCK"
  # ip netns exec exec()s, so the recorded PID is xvsd itself. Own session: a Ctrl-C
  # of the benchmark does not hit it, stop does.
  # shellcheck disable=SC2086
  setsid ip netns exec "$XVS_NS" "$XVSD" --db "$DB" --socket "$SOCK" \
    --workers "$XVS_WORKERS" --cpus "$XVS_CPUS" $XVS_ARGS </dev/null >"$LOGF" 2>&1 &
  echo $! >"$PIDF"
  local ok=0
  for _ in $(seq 1 150); do
    alive || { echo "xvsd died:" >&2; tail -20 "$LOGF" >&2; return 1; }
    ctl switch show >/dev/null 2>&1 && { ok=1; break; }
    sleep 0.1
  done
  [ $ok = 1 ] || { echo "xvsd did not answer on $SOCK" >&2; tail -20 "$LOGF" >&2; stop; return 1; }
  case "$XVS_PORT" in
    none) return 0 ;;
    afxdp|afpacket)
      ctl port add p1 "$XVS_PORT" "ifname=$XB_SW1" >/dev/null &&
      ctl port add p2 "$XVS_PORT" "ifname=$XB_SW2" >/dev/null || { tail -5 "$LOGF" >&2; stop; return 1; } ;;
    tap)
      "$BENCH_DIR/topo_tap.sh" strip || { stop; return 1; }
      # xvs wants distinct tap names; topo_tap.sh hosts renames them to eth0 in the hosts
      # (traffic.py and trafgen use eth0).
      ctl port add p1 tap ifname=xbtap1 "netns=$XB_H1" "mac=$XB_H1_MAC" >/dev/null &&
      ctl port add p2 tap ifname=xbtap2 "netns=$XB_H2" "mac=$XB_H2_MAC" >/dev/null || { tail -5 "$LOGF" >&2; stop; return 1; }
      "$BENCH_DIR/topo_tap.sh" hosts || { stop; return 1; }
      if [ "$HOST_TXCSUM" = off ]; then
        for h in $XB_H1 $XB_H2; do nsx "$h" ethtool -K eth0 tx off >/dev/null 2>&1; done
      fi ;;
    *) echo "unknown XVS_PORT=$XVS_PORT" >&2; stop; return 2 ;;
  esac
  # both ports must be up (the daemon keeps a port that failed to open, with an error;
  # indented lines are details under a port: xdp-mode, error)
  local st
  st=$(ctl port list 2>&1 | awk 'NR>1 && !/^ / && $3!="up"')
  [ -z "$st" ] || { echo "ports not up: $st" >&2; tail -5 "$LOGF" >&2; stop; return 1; }
}

stop() {
  kill_pidfile "$PIDF"   # SIGTERM, SIGKILL after 10 s
  rm -f "$SOCK"
  # an unclean exit can leave XDP programs on the veths
  if [ "$XVS_PORT" = afxdp ]; then
    for p in $XB_SW1 $XB_SW2; do nsx "$XVS_NS" ip link set dev "$p" xdp off 2>/dev/null; done
  fi
  true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  pids) [ -f "$PIDF" ] && cat "$PIDF" ;;
  info)
    v=$(ctl switch show 2>/dev/null | awk '$1=="version"{print $2}')
    echo "xvs ${v:+$v }(xvsd built $(date -r "$XVSD" '+%F %T' 2>/dev/null)) port=$XVS_PORT" \
         "workers=$XVS_WORKERS cpus=$XVS_CPUS (control thread on CPU 0)" ;;
  ctl) shift; ctl "$@" ;;
  *) echo "usage: $0 start|stop|pids|info|ctl ARGS..." >&2; exit 2 ;;
esac
