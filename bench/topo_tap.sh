#!/bin/bash
# topo_tap.sh strip|hosts|up — topology for the xvs tap variant.
#
#   netns xbh1                netns xbswns               netns xbh2
#   eth0 (tap) 192.0.2.1 <-- xvsd (tap fds) --> eth0 (tap) 192.0.2.2
#
# Same namespaces, addresses and MACs as the anchors' topo.sh, but the hosts' eth0 is a
# tap device created by xvsd (port add pN tap ifname=xbtapN netns=xbhN mac=...) and renamed
# to eth0 in the host (traffic.py/trafgen use eth0), not a veth.
#   strip : delete the veth pairs of an existing topo.sh topology (namespaces stay)
#   hosts : after xvsd moved the taps in, rename xbtapN -> eth0, addresses, link up
#   up    : topo.sh up + strip (namespaces only; then start xvs and run "hosts")
# Teardown is the anchors' "topo.sh down" (deleting the namespaces).
set -u
. "$(dirname "$(readlink -f "$0")")/lib.sh"
strip() {
  for p in $XB_SW1 $XB_SW2; do nsx "$XB_SWNS" ip link del "$p" 2>/dev/null; done
  for h in $XB_H1 $XB_H2; do
    if nsx "$h" ip link show eth0 >/dev/null 2>&1; then
      echo "$h still has eth0" >&2; return 1
    fi
  done
  true
}
hosts() {
  local h ns ip4 ip6 tap
  for h in "$XB_H1 $XB_H1_IP4 $XB_H1_IP6 xbtap1" "$XB_H2 $XB_H2_IP4 $XB_H2_IP6 xbtap2"; do
    read -r ns ip4 ip6 tap <<<"$h"
    if ! nsx "$ns" ip link show eth0 >/dev/null 2>&1; then
      wait_if "$ns" "$tap" || { echo "no $tap in $ns" >&2; return 1; }
      nsx "$ns" ip link set "$tap" down
      nsx "$ns" ip link set "$tap" name eth0 || return 1
    fi
    nsx "$ns" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 2>/dev/null
    nsx "$ns" ip addr replace "$ip4/24" dev eth0 || return 1
    nsx "$ns" ip -6 addr replace "$ip6/64" dev eth0 nodad 2>/dev/null
    nsx "$ns" ip link set lo up
    nsx "$ns" ip link set eth0 up || return 1
  done
}
case "${1:-}" in
  strip) strip ;;
  hosts) hosts ;;
  up) "$XVS_ANCHORS/topo.sh" up >/dev/null && strip && echo "tap topology up (no host links yet)" ;;
  *) echo "usage: $0 strip|hosts|up" >&2; exit 2 ;;
esac
