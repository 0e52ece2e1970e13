# SPDX-License-Identifier: BSD-3-Clause
"""VLANs: access isolation, trunks with tagged frames (scapy), native VLAN,
a VM that is itself a trunk (kernel VLAN sub-interfaces), live VLAN changes.

   ns a          ns b          ns c                ns up ("physical network")
   [a]           [b]           [c]                 [xe<sfx>up]  scapy sends/sniffs
    | access 10   | access 20   | access 30          |  tagged 10, 20; untagged = 30
  +-+-------------+-------------+-----------+        | veth
  | a             b             c        up +--------+ (afpacket, trunk
  |              xvsd (ns xe<sfx>sw)        |           trunks=10,20 native=30)
  +-----------------------------------------+

test_vlan_isolation_access uses a, b on VLAN 10 and c on VLAN 20, all in one
IP subnet. test_vm_trunk_with_kernel_subinterfaces attaches a VM "t" as a
trunk (trunks=10,20) with kernel sub-interfaces t.10 and t.20.
"""

import pytest

from conftest import scapy_or_skip, wait_for


def test_vlan_isolation_access(switch):
    a = switch.vm("a", vlan=10, ipv6=False)
    b = switch.vm("b", vlan=10, ipv6=False)
    c = switch.vm("c", vlan=20, ipv6=False)
    a.ping(b, count=2)
    before_c = switch.stats("c")
    r = a.ping(c, count=2, interval=0.2, check=False)
    assert r.returncode != 0, "VLAN 10 reached VLAN 20"
    r = c.ping(b, count=1, check=False)
    assert r.returncode != 0, "VLAN 20 reached VLAN 10"
    after_c = switch.stats("c")
    # c sent its own ARP requests but received nothing from VLAN 10
    assert after_c["tx_packets"] == before_c["tx_packets"], after_c
    assert a.neigh(c.ip4) is None
    # learned entries carry their VLAN
    assert switch.fdb_entry(a.mac)["vlan"] == 10
    assert wait_for(lambda: switch.fdb_entry(c.mac), 2, what="c learned")["vlan"] == 20


def _trunk_topology(switch):
    a = switch.vm("a", vlan=10, ipv6=False)
    b = switch.vm("b", vlan=20, ipv6=False)
    c = switch.vm("c", vlan=30, ipv6=False)
    up = switch.uplink("up", ipv6=False,
                       opts=["vlan-mode=trunk", "trunks=10,20", "native=30"])
    return a, b, c, up


def test_trunk_ingress_tagged_untagged_and_disallowed(switch):
    scapy_or_skip()
    from scapy.layers.l2 import Dot1Q, Ether

    a, b, c, up = _trunk_topology(switch)
    src = "02:55:00:00:00:01"
    frames = [
        Ether(src=src, dst=a.mac) / Dot1Q(vlan=10, type=0x88b5) / (b"to-a-vid10" + b"." * 40),
        Ether(src=src, dst=b.mac) / Dot1Q(vlan=20, type=0x88b5) / (b"to-b-vid20" + b"." * 40),
        Ether(src=src, dst=c.mac, type=0x88b5) / (b"to-c-untagged" + b"." * 40),
        Ether(src=src, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=99) / (b"vid99" + b"." * 40),
        Ether(src=src, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=40) / (b"vid40" + b"." * 40),
    ]
    sn = {h.port: h.sniff(src=[src]) for h in (a, b, c)}
    before = switch.stats("up")
    up.send(frames)
    got = {p: s.stop() for p, s in sn.items()}
    after = switch.stats("up")

    for port, want in (("a", b"to-a-vid10"), ("b", b"to-b-vid20"), ("c", b"to-c-untagged")):
        assert len(got[port]) == 1, (port, got[port])
        f = got[port][0]
        assert f[12:14] != b"\x81\x00", f"{port}: frame still tagged on an access port: {f.hex()}"
        assert want in f, f.hex()
    d = {k: after["drops"][k] - before["drops"][k] for k in after["drops"]}
    assert d["vlan_not_allowed"] == 2, d
    assert after["rx_packets"] - before["rx_packets"] == 5
    assert (after["forwarded"] + after["flooded"]) - (before["forwarded"] + before["flooded"]) == 3
    # the source was learned once per VLAN it used, on the trunk port
    want = {10, 20, 30}
    wait_for(lambda: {e["vlan"] for e in switch.fdb(port="up")["entries"]
                      if e["mac"] == src} == want, 2, what="src learned on VLANs 10, 20, 30")


def test_runs_of_same_addresses_follow_their_own_vlan(switch):
    """Back-to-back frames with the same addresses share one FDB answer (the
    stage reuses it within a burst); a change of VLAN, however, must not. A
    run to a's MAC in VLAN 10 reaches a; the same addresses in VLAN 20 and
    untagged (native 30) are unknown there and flood to b and c only."""
    scapy_or_skip()
    from scapy.layers.l2 import Dot1Q, Ether

    a, b, c, up = _trunk_topology(switch)
    a.send([Ether(src=a.mac, dst="ff:ff:ff:ff:ff:ff", type=0x88b5) / (b"hello" + b"." * 40)])
    wait_for(lambda: switch.fdb_entry(a.mac, vlan=10), 2, what="a learned in VLAN 10")
    src = "02:55:00:00:00:02"

    def run(tag, n):
        body = b"run-" + tag.encode() + b"." * 40
        if tag == "u":
            return [Ether(src=src, dst=a.mac, type=0x88b5) / body] * n
        return [Ether(src=src, dst=a.mac) / Dot1Q(vlan=int(tag), type=0x88b5) / body] * n

    frames = run("10", 4) + run("20", 4) + run("u", 4) + run("10", 4)
    sn = {h.port: h.sniff(src=[src]) for h in (a, b, c)}
    before = switch.stats("up")
    up.send(frames)
    got = {p: s.stop() for p, s in sn.items()}
    after = switch.stats("up")

    def tags(port):
        return sorted(bytes(f).split(b"run-")[1][:2] for f in got[port])

    assert tags("a") == [b"10"] * 8, got["a"]
    assert tags("b") == [b"20"] * 4, got["b"]
    assert tags("c") == [b"u."] * 4, got["c"]
    assert after["forwarded"] - before["forwarded"] == 8
    assert after["flooded"] - before["flooded"] == 8


def test_trunk_egress_tags_by_vlan(switch):
    scapy_or_skip()
    from scapy.layers.l2 import Dot1Q, Ether

    a, b, c, up = _trunk_topology(switch)
    sn = up.sniff(src=[a.mac, b.mac, c.mac])
    for h in (a, b, c):
        h.send([Ether(src=h.mac, dst="ff:ff:ff:ff:ff:ff", type=0x88b5) / (b"from-" + h.port.encode()
                                                                          + b"." * 40)])
    frames = sn.stop()
    by_src = {}
    for f in frames:
        e = Ether(f)
        by_src.setdefault(e.src, []).append(e)
    assert sorted(by_src) == sorted([a.mac, b.mac, c.mac]), frames
    ea, eb, ec = by_src[a.mac][0], by_src[b.mac][0], by_src[c.mac][0]
    assert ea.haslayer(Dot1Q) and ea[Dot1Q].vlan == 10, ea.summary()
    assert eb.haslayer(Dot1Q) and eb[Dot1Q].vlan == 20, eb.summary()
    assert not ec.haslayer(Dot1Q), f"native VLAN frame left the trunk tagged: {ec.summary()}"
    assert ea[Dot1Q].type == 0x88b5 and ec.type == 0x88b5


def test_trunk_native_none_drops_untagged_and_tagged_native_is_accepted(switch):
    scapy_or_skip()
    from scapy.layers.l2 import Dot1Q, Ether

    a, b, c, up = _trunk_topology(switch)
    src = "02:55:00:00:00:02"
    # a tagged frame on the native VLAN is carried by the port, delivered untagged
    sn = c.sniff(src=[src])
    up.send([Ether(src=src, dst=c.mac) / Dot1Q(vlan=30, type=0x88b5) /
             (b"tagged-native" + b"." * 40)])
    got = sn.stop()
    assert len(got) == 1 and got[0][12:14] != b"\x81\x00", [g.hex() for g in got]

    r = switch.ctl("port", "set", "up", "native=none")
    assert r["options"]["native"] == "none"
    before = switch.stats("up")
    sn = c.sniff(src=[src])
    up.send([Ether(src=src, dst=c.mac, type=0x88b5) / (b"untagged" + b"." * 40)] * 3)
    assert sn.stop() == []
    after = switch.stats("up")
    assert after["drops"]["vlan_untagged"] - before["drops"]["vlan_untagged"] == 3


def test_tagged_frame_on_access_port_is_dropped_priority_tag_is_not(switch):
    scapy_or_skip()
    from scapy.layers.l2 import Dot1Q, Ether

    a = switch.vm("a", vlan=10, ipv6=False)
    b = switch.vm("b", vlan=10, ipv6=False)
    src = a.mac
    sn = b.sniff(src=[src])
    before = switch.stats("a")
    pad = b"." * 40
    a.send([Ether(src=src, dst=b.mac) / Dot1Q(vlan=10, type=0x88b5) / (b"tagged" + pad),
            Ether(src=src, dst=b.mac) / Dot1Q(vlan=0, prio=5, type=0x88b5) /
            (b"prio-tagged" + pad)])
    got = sn.stop()
    after = switch.stats("a")
    assert after["drops"]["vlan_tagged_on_access"] - before["drops"]["vlan_tagged_on_access"] == 1
    assert len(got) == 1, [g.hex() for g in got]
    assert got[0][12:14] != b"\x81\x00" and b"prio-tagged" in got[0]


def test_vm_trunk_with_kernel_subinterfaces(switch):
    """A VM attached as a trunk talks to access ports of two VLANs through
    kernel 802.1Q sub-interfaces: real ARP + ICMP over tagged frames."""
    a = switch.vm("a", vlan=10, ipv6=False)
    b = switch.vm("b", vlan=20, ipv6=False)
    t = switch.vm("t", ipv6=False, opts=["vlan-mode=trunk", "trunks=10,20"])
    a.run(["ip", "addr", "add", "10.77.10.1/24", "dev", a.ifname])
    b.run(["ip", "addr", "add", "10.77.20.2/24", "dev", b.ifname])
    for vid in (10, 20):
        sub = f"{t.ifname[:11]}.{vid}"
        r = t.run(["ip", "link", "add", "link", t.ifname, "name", sub, "type", "vlan", "id",
                   str(vid)], check=False)
        if r.returncode != 0 and "Unknown device type" in r.stderr:
            pytest.skip("this kernel has no 802.1Q VLAN devices (CONFIG_VLAN_8021Q)")
        assert r.returncode == 0, r.stderr
        t.run(["ip", "addr", "add", f"10.77.{vid}.3/24", "dev", sub])
        t.run(["ip", "link", "set", sub, "up"])
    a.ping("10.77.10.3", count=2)
    b.ping("10.77.20.3", count=2)
    assert a.ping("10.77.20.3", count=1, check=False).returncode != 0
    e = {(x["mac"], x["vlan"]): x["port"] for x in switch.fdb()["entries"]}
    assert e.get((t.mac, 10)) == "t" and e.get((t.mac, 20)) == "t", e


def test_port_set_vlan_moves_port_live(switch):
    a = switch.vm("a", vlan=10, ipv6=False)
    b = switch.vm("b", vlan=20, ipv6=False)
    assert a.ping(b, count=1, check=False).returncode != 0
    r = switch.ctl("port", "set", "b", "vlan=10")
    assert r["options"]["vlan"] == "10"
    a.ping(b, count=2)
    assert switch.ports()["b"]["options"]["vlan"] == "10"
