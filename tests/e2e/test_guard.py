# SPDX-License-Identifier: BSD-3-Clause
"""Port security: MAC spoofing protection, DHCP guard, router guard, storm limit
(built-in stages of the pipeline, doc/guard.md), attacked from "VM" namespaces.

   ns a / m (VMs)       ns b / v (VMs)        ns c (VM: DHCP client)    ns up (network)
   [a] 10.77.0.N        [b] 10.77.0.N         [c] udhcpc                [up] dnsmasq
    | tap                | tap                 | tap                     | veth
  +-+--------------------+---------------------+------------------------+-+
  |                 xvsd (ns xe<sfx>sw), VLAN 1, uplink = afpacket        |
  +-----------------------------------------------------------------------+

The attacker VM sends with scapy (nsagent.py); what arrives elsewhere, `port stats`
(policy drops), `fdb show` and `pipeline.stages` (each stage's drop reasons) are the
oracle.
"""
import re
import shutil
import subprocess
import time

import pytest

from conftest import AGENT, PYTHON, scapy_or_skip, wait_for


def _stage(switch, name):
    for st in switch.rpc({"method": "pipeline.stages"})["result"]["stages"]:
        if st["name"] == name:
            return st
    raise AssertionError(f"no stage {name}")


def _probe(src, dst="ff:ff:ff:ff:ff:ff", tag=b"guard"):
    from scapy.layers.l2 import Ether

    return Ether(src=src, dst=dst, type=0x88b5) / (tag + b"." * 46)


def test_spoofed_source_dropped_counted_not_learned(switch):
    """A VM port with a MAC has spoofing protection by default: frames from any
    other source are dropped, counted under mac_spoof's 'spoofed' and the port's
    'policy', never learned; the VM's own traffic keeps working. Off, the same
    frames pass and are learned."""
    scapy_or_skip()
    a = switch.vm("a", ipv6=False, mac_spoof=None)   # xvsd's default: on
    b = switch.vm("b", ipv6=False)
    assert "mac_spoof" in switch.ports()["a"]["stages"]
    assert switch.ports()["a"]["options"]["mac-spoof"] == "on"
    fake = "02:ba:d0:00:00:01"
    # one byte off the VM's own MAC: the stage's fast compare must see all 6
    near = a.mac[:-2] + ("01" if a.mac[-2:].lower() != "01" else "02")
    sb = b.sniff(src=[fake, near])
    a.send([_probe(fake) for _ in range(3)] + [_probe(near) for _ in range(2)])
    assert sb.stop() == [], "spoofed frames reached b"
    assert switch.fdb_entry(fake) is None and switch.fdb_entry(near) is None
    st = _stage(switch, "mac_spoof")
    assert st["counters"]["drop_spoofed"] == 5, st
    assert switch.stats("a")["drops"]["policy"] == 5
    a.ping(b)                                          # the VM's own MAC still works
    assert switch.fdb_entry(a.mac)["port"] == "a"

    switch.ctl("port", "set", "a", "mac-spoof=off")
    assert "mac_spoof" not in switch.ports()["a"]["stages"]
    sb = b.sniff(src=[fake])
    a.send([_probe(fake)])
    assert len(sb.stop()) == 1
    wait_for(lambda: switch.fdb_entry(fake), 2, what="spoofed MAC learned with mac-spoof=off")


def test_mac_spoof_sticky_and_uplink_refused(switch):
    """mac=sticky adopts the first source the VM sends and then refuses others;
    an uplink refuses mac-spoof=on (and the guards) with the reason, changing
    nothing."""
    scapy_or_skip()
    a = switch.vm("a", ipv6=False, mac_spoof="on", opts=("mac=sticky",))
    b = switch.vm("b", ipv6=False)
    up = switch.uplink("up", ipv6=False)
    a.ping(b)                                   # first source: the tap's own MAC
    wait_for(lambda: switch.ports()["a"].get("sticky_macs") == [a.mac.lower()], 4,
             what="sticky MAC adopted")
    fake = "02:ba:d0:00:00:02"
    sb = b.sniff(src=[fake])
    a.send([_probe(fake)])
    assert sb.stop() == []
    a.ping(b)
    for opt in ("mac-spoof=on", "dhcp-guard=on", "router-guard=on"):
        before = switch.ports()[up.port]
        argv, p = switch.xvsd.ctl_proc("port", "set", up.port, opt)
        assert p.returncode != 0 and "uplink" in p.stderr, (opt, p.stderr)
        assert switch.ports()[up.port] == before


def _dnsmasq(switch, host, first, last, delay=0):
    leases = switch.tmp / f"leases-{host.port}"
    argv = ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--user=root",
            f"--interface={host.ifname}", "--bind-interfaces", "--no-ping",
            f"--dhcp-range={first},{last},255.255.255.0,300", f"--dhcp-leasefile={leases}",
            "--no-resolv", "--no-hosts", f"--pid-file={switch.tmp}/dnsmasq-{host.port}.pid"]
    if delay:
        argv.append(f"--dhcp-reply-delay={delay}")
    return switch.spawn(host.ns, argv, stderr=subprocess.PIPE)


def test_rogue_dhcp_server_on_a_vm(switch):
    """A rogue DHCP server (dnsmasq) on VM m answers at once; the legitimate one
    behind the uplink answers after 1 s. With dhcp-guard=on on m, a real client
    (busybox udhcpc) in VM c gets its lease from the legitimate server only."""
    if shutil.which("dnsmasq") is None or shutil.which("busybox") is None:
        pytest.skip("needs dnsmasq and busybox (scripts/setup.sh installs them)")
    up = switch.uplink("up", ipv6=False)
    m = switch.vm("m", ipv6=False, opts=("dhcp-guard=on",))
    c = switch.vm("c", ipv6=False)
    assert "dhcp_guard" in switch.ports()["m"]["stages"]
    _dnsmasq(switch, up, "10.77.0.100", "10.77.0.110", delay=1)
    _dnsmasq(switch, m, "10.77.0.200", "10.77.0.210")
    time.sleep(0.5)
    p = c.run(["busybox", "udhcpc", "-f", "-q", "-n", "-t", "6", "-T", "2", "-s", "/bin/true",
               "-i", c.ifname], check=False, timeout=30)
    out = p.stdout + p.stderr
    got = re.search(r"lease of ([\d.]+) obtained from ([\d.]+)", out)
    assert got, f"no lease: {out}"
    assert got.group(2) == up.ip4, f"lease from {got.group(2)}, not the real server: {out}"
    assert got.group(1).startswith("10.77.0.1"), out
    st = _stage(switch, "dhcp_guard")
    assert st["counters"]["drop_dhcp4_server"] >= 1, st
    assert switch.stats("m")["drops"]["policy"] >= 1


def _routes6(host):
    out = host.run(["ip", "-6", "route", "show", "dev", host.ifname]).stdout
    return sorted(out.splitlines())


def test_rogue_router_advertisement(switch):
    """VM r (router-guard=on) sends an IPv6 router advertisement with a prefix
    and a default route; victim v, which accepts RAs, keeps its routes. Also an
    ICMP redirect (IPv4 router message) is dropped."""
    scapy_or_skip()
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.inet6 import (ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr,
                                    IPv6)
    from scapy.layers.l2 import Ether

    r = switch.vm("r", opts=("router-guard=on",))
    v = switch.vm("v")
    v.run(["sysctl", "-q", "-w", f"net.ipv6.conf.{v.ifname}.accept_ra=2",
           f"net.ipv6.conf.{v.ifname}.forwarding=0"])
    before = _routes6(v)
    ra = (Ether(src=r.mac, dst="33:33:00:00:00:01") /
          IPv6(src="fe80::bad:1", dst="ff02::1", hlim=255) /
          ICMPv6ND_RA(routerlifetime=1800) /
          ICMPv6NDOptSrcLLAddr(lladdr=r.mac) /
          ICMPv6NDOptPrefixInfo(prefix="2001:db8:bad::", prefixlen=64, validlifetime=3600,
                                preferredlifetime=1800, L=1, A=1))
    redirect = (Ether(src=r.mac, dst=v.mac) / IP(src=r.ip4, dst=v.ip4) /
                ICMP(type=5, code=1, gw=r.ip4) / IP(src=v.ip4, dst="10.99.0.1") / (b"x" * 8))
    sv = v.sniff(src=[r.mac])
    r.send([ra, ra, ra, redirect], gap=0.05)
    # r's kernel sends its own traffic too (MLD reports): only router messages count
    got = [Ether(f) for f in sv.stop()]
    got = [p for p in got if p.haslayer(ICMPv6ND_RA) or (p.haslayer(ICMP) and p[ICMP].type == 5)]
    assert got == [], "router messages reached the victim"
    time.sleep(0.5)
    assert _routes6(v) == before, f"victim routes changed: {before} -> {_routes6(v)}"
    assert not any("2001:db8:bad" in x or "default" in x for x in _routes6(v))
    st = _stage(switch, "router_guard")
    assert st["counters"]["drop_router6"] == 3, st
    assert st["counters"]["drop_router4"] == 1, st
    r.ping(v)


@pytest.mark.serial
def test_broadcast_storm_limited(switch):
    """VM s (storm-limit=200) floods broadcasts for 2 s: the other ports see
    about 200/s (the bucket holds one second: at most 200 + 200 * 2), the rest is
    dropped and counted as 'storm'; meanwhile b and c ping each other without
    loss, and s's known unicast is not limited."""
    scapy_or_skip()
    s = switch.vm("s", ipv6=False, opts=("storm-limit=200",))
    b = switch.vm("b", ipv6=False)
    c = switch.vm("c", ipv6=False)
    assert switch.ports()["s"]["options"]["storm-limit"] == "200"
    b.ping(c, count=1)
    s.ping(b, count=1)
    frame = _probe(s.mac, tag=b"storm")
    sb = b.sniff(src=[s.mac], seconds=15)
    storm = switch.spawn(s.ns, [PYTHON, AGENT, "storm", s.ifname, "--seconds", "2"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    storm.stdin.write(bytes(frame).hex() + "\n")
    storm.stdin.close()
    b.ping(c, count=10, interval=0.1)          # raises on loss
    storm.wait(timeout=20)
    got = [f for f in sb.stop(grace=1.0) if b"storm" in f]
    st = _stage(switch, "storm_limit")
    dropped = st["counters"]["drop_storm"]
    assert dropped > 0, st
    assert 0 < len(got) <= 200 + 200 * 3, f"{len(got)} storm frames reached b"
    assert switch.stats("s")["drops"]["policy"] == dropped
    s.ping(b, count=3, interval=0.1)          # known unicast: not limited


def test_guard_options_survive_a_restart(switch):
    """The guard options are stored like every option: after kill -9 and a
    restart the same stages are enabled with the same settings, and a bad value
    changes nothing."""
    scapy_or_skip()
    a = switch.vm("a", ipv6=False, mac_spoof="on",
                  opts=("dhcp-guard=on", "router-guard=on", "storm-limit=300"))
    b = switch.vm("b", ipv6=False)
    stages = ["mac_spoof", "dhcp_guard", "router_guard", "storm_limit"]
    assert switch.ports()["a"]["stages"] == stages
    before = switch.ports()["a"]
    argv, p = switch.xvsd.ctl_proc("port", "set", "a", "storm-limit=-1")
    assert p.returncode != 0 and "storm-limit" in p.stderr
    assert switch.ports()["a"] == before
    switch.kill9()
    switch.start()
    switch.reconfigure_hosts()
    assert switch.ports()["a"]["stages"] == stages
    assert switch.ports()["a"]["options"]["storm-limit"] == "300"
    fake = "02:ba:d0:00:00:03"
    sb = b.sniff(src=[fake])
    a.send([_probe(fake)])
    assert sb.stop() == []
    a.ping(b)
