#!/usr/bin/env bash
# xvs demo: installs and builds xvs, starts xvsd on a topology of network
# namespaces, sends real traffic through it and prints what happened.
#
#   ns xvd-vm1           ns xvd-vm2           ns xvd-vm3
#   10.10.0.1/24         10.10.0.2/24         10.20.0.3/24
#   fd10::1/64           fd10::2/64           fd20::3/64
#      | tap vm1            | tap vm2            | tap vm3
#      | access vlan 10     | access vlan 10     | access vlan 20
#   +--+--------------------+--------------------+---------+
#   |                 xvsd (in ns xvd-sw)                    |
#   +--------------------------+-----------------------------+
#                              | port up0: afpacket on veth xvdup0, trunk:
#                              | vlan 10 native (untagged), vlan 20 tagged
#   ns xvd-phys: xvdphy0 10.10.0.254/24 (the 'physical network': vlan 10 untagged;
#                its vlan-20 frames are shown by a capture, as this kernel has no 802.1Q)
#
# Everything is removed at the end, also on failure or Ctrl-C.
#
# usage: demo.sh [all|basic|rss]   (default all)
#   basic  the topology above: VLANs, ping, iperf3, FDB, counters, restart
#   rss    receive side scaling: one uplink saturating one worker with RSS off,
#          spread over both workers with RSS on (software, then hardware queues)
set -euo pipefail
. "$(dirname "$0")/need_root.sh"
cd "$(dirname "$0")/.."
SCENARIO=${1:-all}
case "$SCENARIO" in
all | basic | rss) ;;
*) echo "usage: $0 [all|basic|rss]" >&2; exit 2 ;;
esac
./scripts/setup.sh

XVSD=$PWD/build/src/ctl/xvsd
XVSCTL=$PWD/build/cli/xvsctl
STATE=$(mktemp -d /tmp/xvs-demo.XXXXXX)
export XVS_SOCKET=$STATE/xvsd.sock
NSS=(xvd-sw xvd-vm1 xvd-vm2 xvd-vm3 xvd-phys)
XVSD_PID=

cleanup() {
	set +e
	[ -n "$XVSD_PID" ] && kill -TERM "$XVSD_PID" 2>/dev/null && wait "$XVSD_PID" 2>/dev/null
	for ns in "${NSS[@]}"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null; done
	for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$STATE"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ctl() { echo "\$ xvsctl $*"; "$XVSCTL" "$@"; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

start_xvsd() { # extra xvsd options...
	ip netns exec xvd-sw "$XVSD" --db "$STATE/xvs.db" --socket "$XVS_SOCKET" "$@" \
		>>"$STATE/xvsd.log" 2>&1 &
	XVSD_PID=$!
	for _ in $(seq 100); do "$XVSCTL" port list >/dev/null 2>&1 && break; sleep 0.1; done
	"$XVSCTL" port list >/dev/null 2>&1 || { cat "$STATE/xvsd.log"; exit 1; }
}
stop_xvsd() {
	kill -TERM "$XVSD_PID"; wait "$XVSD_PID" || true
	XVSD_PID=
}

basic() {
step "topology: 3 VMs on tap ports, an uplink veth into a 'physical network'"
for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"; done
for ns in "${NSS[@]}"; do ip -n "$ns" link set lo up; done
ip link add xvdup0 netns xvd-sw type veth peer name xvdphy0 netns xvd-phys
ip -n xvd-sw link set xvdup0 up
ip -n xvd-phys link set xvdphy0 up
# Frames leaving the 'physical' host go through AF_PACKET without the kernel
# filling in offloaded checksums: have the host compute them (doc/ports.md).
in_ns xvd-phys ethtool -K xvdphy0 tx off >/dev/null
ip -n xvd-phys addr add 10.10.0.254/24 dev xvdphy0
ip -n xvd-phys addr add fd10::fe/64 dev xvdphy0 nodad

step "start xvsd in namespace xvd-sw (1 worker, state in $STATE)"
start_xvsd --workers 1

step "add ports"
ctl port add vm1 tap ifname=xvdvm1 netns=xvd-vm1 mac=02:00:00:00:10:01 vlan=10
ctl port add vm2 tap ifname=xvdvm2 netns=xvd-vm2 mac=02:00:00:00:10:02 vlan=10
ctl port add vm3 tap ifname=xvdvm3 netns=xvd-vm3 mac=02:00:00:00:20:03 vlan=20
ctl port add up0 afpacket ifname=xvdup0 vlan-mode=trunk trunks=10,20 native=10
ctl port list
ip -n xvd-vm1 addr add 10.10.0.1/24 dev xvdvm1; ip -n xvd-vm1 addr add fd10::1/64 dev xvdvm1 nodad
ip -n xvd-vm2 addr add 10.10.0.2/24 dev xvdvm2; ip -n xvd-vm2 addr add fd10::2/64 dev xvdvm2 nodad
ip -n xvd-vm3 addr add 10.20.0.3/24 dev xvdvm3; ip -n xvd-vm3 addr add fd20::3/64 dev xvdvm3 nodad

pingt() { # ns target label expect(ok|fail)
	if in_ns "$1" ping -c 3 -i 0.2 -W 1 "$2" >"$STATE/ping" 2>&1; then
		printf '  %-44s ok   (%s)\n' "$3" "$(tail -1 "$STATE/ping" | cut -d= -f2)"
		[ "$4" = ok ] || { echo "  UNEXPECTED: should be isolated"; exit 1; }
	else
		printf '  %-44s no reply\n' "$3"
		[ "$4" = fail ] || { echo "  UNEXPECTED: should work"; exit 1; }
	fi
}
step "ping"
pingt xvd-vm1 10.10.0.2 "vm1 -> vm2 (vlan 10, IPv4)" ok
pingt xvd-vm1 fd10::2 "vm1 -> vm2 (vlan 10, IPv6)" ok
pingt xvd-vm1 10.10.0.254 "vm1 -> physical host (vlan 10, native on trunk)" ok
pingt xvd-vm1 fd10::fe "vm1 -> physical host (IPv6)" ok
pingt xvd-vm1 10.20.0.3 "vm1 -> vm3 (vlan 10 -> 20: isolated)" fail
pingt xvd-vm3 10.10.0.254 "vm3 -> physical host (vlan 20 -> 10: isolated)" fail

step "vlan 20 leaves through the trunk tagged: capture on the physical side"
in_ns xvd-phys /usr/bin/python3 - <<'PY' &
from scapy.all import sniff, Dot1Q, ARP
pk = sniff(iface="xvdphy0", timeout=3, lfilter=lambda p: Dot1Q in p and ARP in p)
for p in pk[:2]:
    print("  captured: 802.1Q vid %d, ARP who-has %s tell %s" % (p[Dot1Q].vlan, p[ARP].pdst, p[ARP].psrc))
print("  %d tagged ARP frame(s) seen on the uplink" % len(pk))
PY
SNIFF_PID=$!
sleep 1
in_ns xvd-vm3 ping -c 2 -i 0.3 -W 1 10.20.0.254 >/dev/null 2>&1 || true
wait "$SNIFF_PID" || true

step "iperf3 TCP, 3 s each"
iperf() { # server_ns server_ip client_ns label
	in_ns "$1" iperf3 -s -1 -B "$2" >/dev/null 2>&1 &
	local spid=$!
	sleep 0.5
	local r
	r=$(in_ns "$3" iperf3 -c "$2" -t 3 -J 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; print("%.2f Gbit/s" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))' ||
		echo "failed")
	printf '  %-44s %s\n' "$4" "$r"
	wait "$spid" 2>/dev/null || true
}
iperf xvd-vm2 10.10.0.2 xvd-vm1 "vm1 -> vm2 (tap to tap)"
iperf xvd-phys 10.10.0.254 xvd-vm1 "vm1 -> physical host (tap to afpacket)"

step "what the switch learned"
ctl fdb show
step "port counters"
ctl port stats
step "workers"
ctl worker stats
step "switch"
ctl switch show

step "restart xvsd: the configuration comes back from its database"
stop_xvsd
start_xvsd --workers 1
ctl port list
# The taps were recreated; give them their addresses back.
ip -n xvd-vm1 addr add 10.10.0.1/24 dev xvdvm1
ip -n xvd-vm2 addr add 10.10.0.2/24 dev xvdvm2
pingt xvd-vm1 10.10.0.2 "vm1 -> vm2 after restart" ok
stop_xvsd
}

# ---- RSS: the "core 0 at 100 %" picture, and what spreading does to it ----
rate() { # port seconds -> "Mpps" switched out of port over the interval
	"$XVSCTL" --json port stats "$1" | /usr/bin/python3 -c \
		'import json,sys; print(json.load(sys.stdin)["ports"][0]["tx_packets"])' >"$STATE/r0"
	sleep "$2"
	"$XVSCTL" --json port stats "$1" | /usr/bin/python3 -c \
		'import json,sys; a=int(open(sys.argv[1]).read()); b=json.load(sys.stdin)["ports"][0]["tx_packets"]; print("%.2f" % ((b-a)/float(sys.argv[2])/1e6))' \
		"$STATE/r0" "$2"
}
phase() { # label
	sleep 2 # let the load settle and the once-a-second busy sample catch up
	local mpps
	mpps=$(rate vmsink 3)
	echo "  switched: $mpps Mpps"
	ctl top --once
	ctl rss show nic0 | grep -E 'port nic0|queue->worker|packets by worker'
	"$XVSCTL" --json worker stats | /usr/bin/python3 -c \
		'import json,sys; w=json.load(sys.stdin)["workers"]; print(" / ".join("%.0f%%" % x["busy_pct"] for x in w))' \
		>"$STATE/busy"
	printf '%-46s %8s Mpps   busy per worker %s\n' "$1" "$mpps" "$(cat "$STATE/busy")" >>"$STATE/summary"
}

rss() {
step "RSS: an uplink NIC replaying 4096 UDP flows at full speed, 2 workers (CPUs 0 and 1)"
echo "  The uplink is a pcap port replaying a capture forever: memory-only, so the"
echo "  switch, not the kernel or iperf3, is what limits the rate (a stand-in for a busy NIC)."
/usr/bin/python3 - "$STATE/flows.pcap" <<'PY'
import sys
from scapy.all import Ether, IP, UDP, wrpcap
pk = [Ether(src="02:00:00:00:aa:01", dst="02:00:00:00:99:99") /
      IP(src="10.1.%d.%d" % (i >> 8, i & 255), dst="10.2.0.1") / UDP(sport=1024 + i, dport=4789) /
      (b"x" * 18) for i in range(4096)]
wrpcap(sys.argv[1], pk)
PY
/usr/bin/python3 scripts/rss_split.py "$STATE/flows.pcap" "$STATE/flows_q{q}.pcap" --queues 2 |
	sed 's/^/  /'
rm -f "$STATE"/xvs.db* "$STATE/summary"
ip netns add xvd-sw 2>/dev/null || true
start_xvsd --workers 2 --cpus 0,1
ctl port add vmsink null
ctl fdb add 02:00:00:00:99:99 vlan=1 port=vmsink

step "1) RSS off: one queue, one worker does everything"
ctl port add nic0 pcap path="$STATE/flows.pcap" infinite=on rss=off
phase "RSS off (1 queue)"

step "2) RSS on, software: the polling worker hashes and hands flows to the other"
ctl rss set nic0 enabled=on profile=static
phase "RSS on, software spreading (1 queue)"

echo "  The load is spread, but on this source the total drops: every frame now costs a"
echo "  hash, a hand-off and cache misses on the other core, more than the frame itself"
echo "  costs a memory-only replay. Real ports (tap, vhost) pay a syscall or copy per frame,"
echo "  and there the second worker gains. The default profile checks which case it is in:"

step "3) RSS on, default profile (conservative) on the 1-queue NIC: spreads only if it pays"
ctl rss set nic0 profile=conservative
sleep 6 # a second worker is tried after 1 s and judged 2 s later
ctl rss show nic0 | grep -E 'port nic0|not paid'
grep -E 'rss: nic0: (spreading|spreading to .* did not pay|packing)' "$STATE/xvsd.log" |
	sed 's/^/  log: /' || true
phase "RSS on, conservative (1 queue)"

step "4) RSS on, hardware: a 2-queue NIC, one queue per worker"
ctl port del nic0
ctl port add nic0 pcap path="$STATE/flows_q{q}.pcap" queues=2 infinite=on rss-profile=static
phase "RSS on, 2 hardware queues"

step "5) RSS off on the 2-queue NIC: both queues back on one worker"
ctl rss set nic0 enabled=off
phase "RSS off (2 queues, 1 worker)"

step "summary"
cat "$STATE/summary"
ctl port del nic0 >/dev/null
stop_xvsd
}

case "$SCENARIO" in
all) basic; rss ;;
basic) basic ;;
rss) rss ;;
esac

echo
echo "demo done: log of xvsd:"
sed 's/^/  /' "$STATE/xvsd.log" | grep -v -E "^  (EAL|TELEMETRY|eth_virtio)" | tail -25
