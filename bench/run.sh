#!/bin/bash
# bench/run.sh [--quick] [--reps N] [--parts datapath,traffic,cold] [--no-build]
#
# Measures xvs beside the anchor switches in the same run and prints one markdown
# table with xvs/anchor ratios (also written to bench/results/latest.md).
#   datapath : memory-only pcap replay -> null, 1 worker core (datapath_xvs.py, which
#              runs the anchors' datapath.py functions for testpmd io/mac and OVS), plus
#              RSS at 1 and 2 workers on the 10k-flow pcap (scaling, per-worker share)
#   traffic  : namespace topology, the anchors' bench_switch.sh + traffic.py with
#              run_xvs.sh (afxdp, [afpacket], tap), the anchor runners and the bare
#              tap relay (run_taprelay.sh: the ceiling of any tap-based switch here)
#   cold     : first ping after 10 s of silence vs steady median, + idle CPU (coldping.sh);
#              also the tap relay sleeping in epoll and spinning (the machine's floor)
# --quick: 1 rep and short windows (~9 min); default: 3 reps (~33 min).
# Raw records: bench/results/{datapath,traffic,coldping}-RUNID.jsonl, log run-RUNID.log.
# Needs root, 2 CPUs to itself (do not run it beside another benchmark).
set -u -o pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"

QUICK=0; REPS=""; PARTS="datapath,traffic,cold"; BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --reps) REPS=$2; shift ;;
    --reps=*) REPS=${1#*=} ;;
    --parts) PARTS=$2; shift ;;
    --parts=*) PARTS=${1#*=} ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "run.sh needs root (namespaces, AF_XDP)" >&2; exit 1; }

# RSS at 1 and 2 workers (10k-flow pcap only; datapath_xvs.py skips them on the others),
# right after xvs-fdb, their 1-queue 1-worker baseline
RSS_CONFIGS=xvs-fdb-1w-hwq,xvs-fdb-2w-hwq,xvs-fdb-2w-swrss,xvs-fdb-2w-hwq-cons
if [ $QUICK = 1 ]; then
  MODE=quick; REPS=${REPS:-1}
  DP_WARM=2; DP_SECS=5
  DP_CONFIGS=${DP_CONFIGS:-testpmd-io,testpmd-mac,testpmd-mac-2q,testpmd-mac-2q-2c,ovs-normal-fdb,xvs-fdb,$RSS_CONFIGS,xvs-flood}
  TR_ARGS="--tcp-secs 3 --pps-secs 3 --pps-warm 1"
  TR_CONFIGS=${TR_CONFIGS:-xvs-afxdp xvs-tap taprelay linuxbridge linuxbridge-hostoffload-on ovs-dpdk-afxdp-normal}
else
  MODE=full; REPS=${REPS:-3}
  DP_WARM=3; DP_SECS=6
  DP_CONFIGS=${DP_CONFIGS:-testpmd-io,testpmd-mac,testpmd-mac-2q,testpmd-mac-2q-2c,ovs-normal-fdb,ovs-normal-flood,xvs-fdb,$RSS_CONFIGS,xvs-flood}
  TR_ARGS="--tcp-secs 8 --pps-secs 6 --pps-warm 2"
  TR_CONFIGS=${TR_CONFIGS:-xvs-afxdp xvs-afpacket xvs-tap taprelay linuxbridge linuxbridge-hostoffload-on ovs-dpdk-afxdp-normal}
fi
# cold ping: the same switches (host TX offload does not matter for a ping), and the
# relay spinning: what a first ping costs here when nothing sleeps on the switch side
COLD_CONFIGS=${COLD_CONFIGS:-$(for c in $TR_CONFIGS; do [ "$c" = linuxbridge-hostoffload-on ] || echo "$c"
  [ "$c" = taprelay ] && echo taprelay-spin; done)}
SILENCE=${SILENCE:-10}

# label -> "runner env..." for the namespace tests
cfg() {
  case "$1" in
    xvs-afxdp)    echo "$BENCH_DIR/run_xvs.sh XVS_PORT=afxdp" ;;
    xvs-afpacket) echo "$BENCH_DIR/run_xvs.sh XVS_PORT=afpacket" ;;
    xvs-tap)      echo "$BENCH_DIR/run_xvs.sh XVS_PORT=tap HOST_TXCSUM=on" ;;
    taprelay)     echo "$BENCH_DIR/run_taprelay.sh HOST_TXCSUM=on" ;;
    taprelay-spin) echo "$BENCH_DIR/run_taprelay.sh HOST_TXCSUM=on RELAY_MODE=spin" ;;
    linuxbridge)  echo "$XVS_ANCHORS/run_linuxbridge.sh HOST_TXCSUM=off" ;;
    linuxbridge-hostoffload-on) echo "$XVS_ANCHORS/run_linuxbridge.sh HOST_TXCSUM=on" ;;
    ovs-dpdk-afxdp-normal) echo "$XVS_ANCHORS/run_ovs.sh OVS_PORT=dpdk-afxdp" ;;
    *) return 1 ;;
  esac
}

RID=$(date +%Y%m%d-%H%M%S)
mkdir -p "$BENCH_RESULTS"
LOG=$BENCH_RESULTS/run-$RID.log
exec 3>&1                                  # the table goes to the original stdout
exec > >(tee -a "$LOG" >&2) 2>&1           # progress: stderr + log
T0=$(date +%s)
say() { echo "[$(date +%T) +$(( $(date +%s) - T0 ))s] $*"; }

# one benchmark at a time on this host
exec 9>"$XB_STATE/bench.lock"
flock -n 9 || { echo "another bench/run.sh holds $XB_STATE/bench.lock" >&2; exit 1; }

cleanup() {
  XVS_STATE=$XB_STATE/xvs "$BENCH_DIR/run_xvs.sh" stop 2>/dev/null
  XVS_STATE=$XB_STATE/xvs-dp "$BENCH_DIR/run_xvs.sh" stop 2>/dev/null
  "$XVS_ANCHORS/run_ovs.sh" stop >/dev/null 2>&1
  "$BENCH_DIR/run_taprelay.sh" stop >/dev/null 2>&1
  "$XVS_ANCHORS/run_testpmd.sh" stop >/dev/null 2>&1
  "$XVS_ANCHORS/topo.sh" down >/dev/null 2>&1
}
# every step runs in the background so that an interrupt can stop it (timeout(1) puts
# its child in its own process group: a Ctrl-C would not reach it) and forwards TERM
CHILD=""
step() {
  "$@" > >(cut -c1-240) 2>&1 &
  CHILD=$!; wait "$CHILD"; local rc=$?; CHILD=""; return $rc
}
trap 'say "interrupted, cleaning up"; [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null && wait "$CHILD"; cleanup; exit 130' INT TERM

# ---- prerequisites ---------------------------------------------------------------
missing=""
for p in dpdk openvswitch-switch-dpdk iperf3 netsniff-ng python3-scapy ethtool iproute2; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing:$missing"
  { apt-get install -y $missing || { apt-get update && apt-get install -y $missing; }; } >/dev/null \
    || { say "apt-get install$missing failed"; exit 1; }
fi
BUILD_NOTE="not rebuilt (--no-build)"
if [ $BUILD = 1 ]; then
  if ninja -C "$XVS_BUILD" >"$BENCH_RESULTS/build-$RID.log" 2>&1; then BUILD_NOTE="ninja -C build: ok"
  else BUILD_NOTE="ninja -C build FAILED (see results/build-$RID.log); measured the existing binaries"
       say "WARNING: $BUILD_NOTE"; fi
fi
[ -x "$XVSD" ] && [ -x "$XVSCTL" ] || { say "no xvsd/xvsctl in $XVS_BUILD"; exit 1; }
# Measure one build from start to end even if build/ is rebuilt meanwhile: run copies.
XVSD_BUILT=$(date -r "$XVSD" '+%F %T'); XVSD_SHA=$(sha256sum "$XVSD" | cut -c1-12)
rm -rf "$XB_STATE"/bin-*; SNAP=$XB_STATE/bin-$RID; mkdir -p "$SNAP"
cp -p "$XVSD" "$XVSCTL" "$SNAP/" || exit 1
export XVSD=$SNAP/xvsd XVSCTL=$SNAP/xvsctl
for f in udp64_1flow.pcap udp64_10kflows.pcap imix.pcap fdb_10kflows.txt; do
  [ -s "$BENCH_PCAPS/$f" ] && continue
  say "generating pcaps into $BENCH_PCAPS"
  "$BENCH_PY" "$XVS_ANCHORS/gen_pcaps.py" "$BENCH_PCAPS" || { say "gen_pcaps.py failed"; exit 1; }
  break
done
# The stand-in for a 2-queue NIC: the 10k-flow capture split per queue as a NIC's Toeplitz
# RSS would split it (default key, 128-entry table i mod 2), regenerated every run so it
# matches the current scripts/rss_split.py. datapath_xvs.py replays it on a queues=2 port.
if [[ ,$PARTS, == *,datapath,* ]]; then
  rm -f "$BENCH_PCAPS"/udp64_10kflows_rss2_*.pcap
  if SPLIT_OUT=$("$BENCH_PY" "$XVS_REPO/scripts/rss_split.py" "$BENCH_PCAPS/udp64_10kflows.pcap" \
                 "$BENCH_PCAPS/udp64_10kflows_rss2_{q}.pcap" --queues 2 2>&1); then say "$SPLIT_OUT"
  else say "WARNING: rss_split.py failed, the 2-queue configs will fail: $(echo "$SPLIT_OUT" | tail -1)"; fi
fi
cleanup
# How busy is the host before we start (other people's builds/tests)? 3 s of /proc/stat.
host_busy() {
  local a b
  read -ra a </proc/stat; sleep 3; read -ra b </proc/stat
  local tot=0 idle=$(( b[4] + b[5] - a[4] - a[5] ))
  for i in 1 2 3 4 5 6 7 8; do tot=$(( tot + b[i] - a[i] )); done
  echo $(( (tot - idle) * 100 * $(nproc) / (tot > 0 ? tot : 1) ))
}
BUSY0=$(host_busy)
BUSY_NOTE="host busy before start: ${BUSY0} % of one core (3 s, nothing of ours running)"
[ "$BUSY0" -gt 15 ] && BUSY_NOTE="**$BUSY_NOTE: the host was not quiet, expect noisy and lower numbers**"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
say "run $RID: mode=$MODE reps=$REPS parts=$PARTS xvsd built $XVSD_BUILT sha256 $XVSD_SHA load=$LOAD0"
say "$BUSY_NOTE"

# ---- a. memory-only datapath -------------------------------------------------------
if [[ ,$PARTS, == *,datapath,* ]]; then
  say "a. datapath: $DP_CONFIGS"
  # shellcheck disable=SC2086
  step timeout -k 10 2400 "$BENCH_PY" "$BENCH_DIR/datapath_xvs.py" --reps "$REPS" --warm $DP_WARM \
    --secs $DP_SECS --configs "$DP_CONFIGS" --run-id "$RID" --out "$BENCH_RESULTS/datapath-$RID.jsonl" \
    || say "datapath part failed (rc=$?)"
  cleanup
fi

# ---- b. namespace topology, c. idle CPU (traffic.py) ---------------------------------
if [[ ,$PARTS, == *,traffic,* ]]; then
  for label in $TR_CONFIGS; do
    read -r runner envs <<<"$(cfg "$label")"
    say "b. traffic: $label ($envs)"
    # shellcheck disable=SC2086
    step env $envs timeout -k 10 900 "$XVS_ANCHORS/bench_switch.sh" "$label" "$runner" --reps "$REPS" \
      $TR_ARGS --out "$BENCH_RESULTS/traffic-$RID.jsonl" || say "$label failed"
    cleanup
  done
fi

# ---- c. first ping after silence (+ idle CPU during the silence) ---------------------
if [[ ,$PARTS, == *,cold,* ]]; then
  for label in $COLD_CONFIGS; do
    read -r runner envs <<<"$(cfg "$label")"
    say "c. cold ping: $label"
    # shellcheck disable=SC2086
    step env $envs timeout -k 10 600 "$BENCH_DIR/coldping.sh" "$label" "$runner" --reps "$REPS" \
      --silence "$SILENCE" --run-id "$RID" --out "$BENCH_RESULTS/coldping-$RID.jsonl" \
      || say "$label cold ping failed"
    cleanup
  done
fi

# ---- table -----------------------------------------------------------------------------
DUR=$(( $(date +%s) - T0 ))
HDR=$BENCH_RESULTS/header-$RID.md
{
  echo "## xvs vs anchors — run $RID ($MODE, $REPS rep(s), $((DUR / 60)) min $((DUR % 60)) s)"
  echo
  echo "Command: \`bench/run.sh$([ $QUICK = 1 ] && echo ' --quick') --reps $REPS --parts $PARTS\`;" \
       "xvsd built $XVSD_BUILT, sha256 $XVSD_SHA ($BUILD_NOTE); host: $(nproc) CPUs, kernel $(uname -r)," \
       "load average at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg); $BUSY_NOTE. Cells: median [min–max] over the reps (one value: n=1)."
  echo "xvsd --workers 1 --cpus $XB_SW_CORE (control thread CPU 0) everywhere unless noted (2-worker RSS rows:" \
       "--workers 2 --cpus 0,1, worker 0 on CPU 0 beside the idle control thread); anchors' forwarding" \
       "core is CPU $XB_SW_CORE too. Datapath: ${DP_WARM} s warm-up, ${DP_SECS} s window; namespaces: traffic.py $TR_ARGS;" \
       "cold ping: ${SILENCE} s silence."
} >"$HDR"
"$BENCH_PY" "$BENCH_DIR/summarize.py" --run-id "$RID" --results "$BENCH_RESULTS" --header "$HDR" \
  >"$BENCH_RESULTS/table-$RID.md"
cp "$BENCH_RESULTS/table-$RID.md" "$BENCH_RESULTS/latest.md"
say "done in ${DUR}s; table: $BENCH_RESULTS/latest.md, raw: $BENCH_RESULTS/*-$RID.jsonl"
cat "$BENCH_RESULTS/latest.md" >&3
