#!/bin/bash
# coldping.sh LABEL RUNNER [coldping.py args...]
# A fresh session for the cold-ping measurement, same steps as the anchors'
# bench_switch.sh (topo.sh up -> host TX csum -> RUNNER start -> connectivity check)
# but running coldping.py instead of traffic.py, so the silence is not preceded by
# the load tests. RUNNER must be an absolute path. Env vars reach the runner.
set -u
. "$(dirname "$(readlink -f "$0")")/lib.sh"
LABEL=$1; RUNNER=$2; shift 2
HOST_TXCSUM=${HOST_TXCSUM:-off}
"$XVS_ANCHORS/topo.sh" up >/dev/null || exit 1
if [ "$HOST_TXCSUM" = off ]; then
  for h in $XB_H1 $XB_H2; do nsx "$h" ethtool -K eth0 tx off >/dev/null 2>&1; done
fi
trap '"$RUNNER" stop; "$XVS_ANCHORS/topo.sh" down >/dev/null' EXIT
log "cold ping $LABEL: $("$RUNNER" info)"
"$RUNNER" start || { log "runner start failed"; exit 1; }
ok=0
for _ in $(seq 1 30); do nsx "$XB_H1" ping -c 1 -W 1 "$XB_H2_IP4" >/dev/null 2>&1 && { ok=1; break; }; sleep 1; done
[ $ok = 1 ] || { log "no connectivity through $LABEL"; exit 1; }
"$BENCH_PY" "$BENCH_DIR/coldping.py" --label "$LABEL" --runner "$RUNNER" "$@"
