# SPDX-License-Identifier: BSD-3-Clause
"""Forwarding database: aging, MAC moves, static entries, flush, a full table,
the per-port limit on learned MACs, sources held by static entries.

   ns a                ns b                ns c
   [a] 10.77.0.1       [b] 10.77.0.2       [c] 10.77.0.3     (c only where needed)
    | tap               | tap               | tap
  +-+-------------------+-------------------+-+
  | a                   b                   c |
  |        xvsd (ns xe<sfx>sw), VLAN 1        |
  +-------------------------------------------+

scapy in a/b sends frames with chosen source MACs; `fdb show --json` and
`switch show --json` are the oracle.
"""
import os
import time

import pytest

from conftest import scapy_or_skip, wait_for


def _probe(src, dst="ff:ff:ff:ff:ff:ff", tag=b"probe"):
    from scapy.layers.l2 import Ether

    return Ether(src=src, dst=dst, type=0x88b5) / (tag + b"." * 46)


@pytest.mark.serial
def test_aging_removes_idle_entry(switch):
    """Smoke test: aging=10 reaches the FDB in seconds, and the control thread
    ages: an entry not refreshed disappears 10-12 s after its last frame. The
    aging rules (boundaries, refresh, static entries, a clock behind) are
    unit-tested on a fake clock in tests/unit/test_fdb.c."""
    scapy_or_skip()
    a = switch.vm("a", ipv6=False)
    switch.vm("b", ipv6=False)
    r = switch.ctl("switch", "set", "aging=10")
    assert r["settings"]["aging"] == "10"
    mac = "02:a9:00:00:00:01"
    aged_before = switch.show()["fdb"]["aged"]
    a.send([_probe(mac)])
    t0 = time.monotonic()
    e = wait_for(lambda: switch.fdb_entry(mac), 2, what="entry learned")
    assert e["age_s"] < 2, e
    wait_for(lambda: switch.fdb_entry(mac) is None, 14, interval=0.2, what="entry aged out")
    gone_after = time.monotonic() - t0
    assert 9.5 <= gone_after <= 13, f"aged out after {gone_after:.1f} s (aging=10)"
    assert switch.show()["fdb"]["aged"] > aged_before


def test_aging_minimum_is_10s(switch):
    before = switch.show()["settings"]
    argv, p = switch.xvsd.ctl_proc("switch", "set", "aging=9")
    assert p.returncode != 0
    assert "aging" in p.stderr
    assert switch.show()["settings"] == before


def test_mac_move(switch):
    scapy_or_skip()
    a, b = switch.vm("a", ipv6=False), switch.vm("b", ipv6=False)
    c = switch.vm("c", ipv6=False)
    mac = "02:a9:00:00:00:02"
    a.send([_probe(mac)])
    assert wait_for(lambda: switch.fdb_entry(mac), 2, what="learned on a")["port"] == "a"
    moved = switch.show()["fdb"]["moved"]
    b.send([_probe(mac)])
    wait_for(lambda: (switch.fdb_entry(mac) or {}).get("port") == "b", 2, what="moved to b")
    assert switch.show()["fdb"]["moved"] == moved + 1
    assert len([e for e in switch.fdb()["entries"] if e["mac"] == mac]) == 1
    # traffic to the MAC now goes to b only
    sa, sb = a.sniff(src=[c.mac]), b.sniff(src=[c.mac])
    c.send([_probe(c.mac, dst=mac, tag=b"to-moved")])
    assert len(sb.stop()) == 1 and sa.stop() == []


def test_static_mac_add_del_and_restart(switch):
    scapy_or_skip()
    a, b = switch.vm("a", ipv6=False), switch.vm("b", ipv6=False)
    c = switch.vm("c", ipv6=False)
    mac = "02:5a:00:00:00:01"
    r = switch.ctl("fdb", "add", mac.upper(), "vlan=1", "port=a")
    assert r["mac"] == mac and r["port"] == "a"
    e = switch.fdb_entry(mac)
    assert (e["port"], e["vlan"], e["type"]) == ("a", 1, "static"), e
    assert switch.show()["fdb"]["static"] == 1

    # frames to the static MAC are forwarded to a only (never flooded)
    sa, sb = a.sniff(src=[c.mac]), b.sniff(src=[c.mac])
    before = switch.stats("c")
    c.send([_probe(c.mac, dst=mac, tag=b"to-static")] * 2)
    assert len(sa.stop()) == 2 and sb.stop() == []
    after = switch.stats("c")
    assert after["forwarded"] - before["forwarded"] == 2 and after["flooded"] == before["flooded"]

    # the same MAC as a source elsewhere does not move a static entry
    b.send([_probe(mac)] * 3)
    wait_for(lambda: switch.stats("b")["fdb"]["static_conflict"] > 0, 2,
             what="static_conflict counted on b")
    e = switch.fdb_entry(mac)
    assert (e["port"], e["type"]) == ("a", "static"), e

    # flush removes dynamic entries only
    switch.ctl("fdb", "flush")
    assert switch.fdb_entry(mac)["type"] == "static"

    switch.restart()
    e = switch.fdb_entry(mac)
    assert e is not None and (e["port"], e["vlan"], e["type"]) == ("a", 1, "static"), e

    r = switch.ctl("fdb", "del", mac, "vlan=1")
    assert r["deleted"] == mac
    assert switch.fdb_entry(mac) is None
    switch.restart()
    assert switch.fdb_entry(mac) is None
    assert switch.show()["fdb"]["static"] == 0


def test_fdb_full(switch):
    """fdb-max=16 (applied at restart): 100 source MACs fill the table to 16,
    learn_full counts the refusals, known VMs keep talking."""
    scapy_or_skip()
    r = switch.ctl("switch", "set", "fdb-max=16")
    assert r["settings"]["fdb-max"] == "16"
    a, b = switch.vm("a", ipv6=False), switch.vm("b", ipv6=False)
    switch.restart()
    assert switch.fdb()["max"] == 16
    a.ping(b, count=1)
    wait_for(lambda: switch.fdb_entry(a.mac) and switch.fdb_entry(b.mac), 2,
             what="VMs learned")
    macs = ["02:%02x:%02x:%02x:%02x:%02x" % tuple(os.urandom(5)) for _ in range(100)]
    a.send([_probe(m, dst=b.mac) for m in macs])
    wait_for(lambda: switch.show()["fdb"]["learn_full"] > 0, 3, what="learn_full counted")
    fdb = switch.fdb()
    assert fdb["count"] == 16 and len(fdb["entries"]) == 16, fdb["count"]
    show = switch.show()["fdb"]
    assert show["entries"] == 16 and show["max"] == 16 and show["learn_full"] > 0, show
    a.ping(b, count=3)
    assert switch.fdb_entry(a.mac)["port"] == "a" and switch.fdb_entry(b.mac)["port"] == "b"


def test_fdb_flush_filters(switch):
    scapy_or_skip()
    from scapy.layers.l2 import Dot1Q, Ether

    a = switch.vm("a", ipv6=False, opts=["vlan-mode=trunk", "trunks=10,20"])
    b = switch.vm("b", ipv6=False, opts=["vlan-mode=trunk", "trunks=10,20"])

    def tagged(src, vid):
        return Ether(src=src, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=vid, type=0x88b5) / (b"f" * 46)

    a.send([tagged("02:f1:00:00:00:01", 10), tagged("02:f1:00:00:00:02", 20)])
    b.send([tagged("02:f1:00:00:00:03", 10), tagged("02:f1:00:00:00:04", 20)])
    switch.ctl("fdb", "add", "02:f1:00:00:00:05", "vlan=10", "port=a")
    wait_for(lambda: switch.fdb()["count"] == 5, 2, what="4 learned + 1 static")
    assert switch.ctl("fdb", "flush", "port=a", "vlan=20")["flushed"] == 1
    assert switch.fdb_entry("02:f1:00:00:00:02") is None
    assert switch.ctl("fdb", "flush", "vlan=10")["flushed"] == 2  # static entry stays
    left = sorted((e["mac"], e["type"]) for e in switch.fdb()["entries"])
    assert left == [("02:f1:00:00:00:04", "dynamic"), ("02:f1:00:00:00:05", "static")]
    assert switch.ctl("fdb", "flush")["flushed"] == 1
    assert switch.fdb()["count"] == 1


def test_static_conflict_forwarded_not_learned(switch):
    """A source MAC that a static entry holds on another port: the frame is
    forwarded (as Linux and OVS do), the entry stays, and the refusal is
    counted on the port the frame came in on."""
    scapy_or_skip()
    a, b = switch.vm("a", ipv6=False), switch.vm("b", ipv6=False)
    c = switch.vm("c", ipv6=False)
    mac = "02:5a:00:00:00:02"
    switch.ctl("fdb", "add", mac, "vlan=1", "port=a")
    c.send([_probe(c.mac)])
    wait_for(lambda: switch.fdb_entry(c.mac), 2, what="c learned")
    total = switch.show()["fdb"]["static_conflict"]
    sc = c.sniff(src=[mac])
    b.send([_probe(mac, dst=c.mac, tag=b"spoof")] * 3)
    assert len(sc.stop()) == 3, "frames from a static source on another port not forwarded"
    f = wait_for(lambda: (lambda f: f if f["static_conflict"] > 0 else None)(
        switch.stats("b")["fdb"]), 2, what="static_conflict on b")
    assert f["learned"] == 0, f
    assert switch.stats("a")["fdb"]["static_conflict"] == 0
    assert switch.stats("c")["fdb"]["static_conflict"] == 0
    assert switch.show()["fdb"]["static_conflict"] > total
    assert switch.fdb()["ports"]["b"]["static_conflict"] == f["static_conflict"]
    e = switch.fdb_entry(mac)
    assert (e["port"], e["type"]) == ("a", "static"), e
    assert not [x for x in switch.fdb()["entries"] if x["port"] == "b"]


def test_mac_limit(switch):
    """mac-limit=8 on a: 60 source MACs from a leave 8 learned there, the rest
    refused under learn_limit but still forwarded; b keeps learning; a raised
    limit (live) lets a learn again."""
    scapy_or_skip()
    a = switch.vm("a", ipv6=False, opts=["mac-limit=8"])
    b, c = switch.vm("b", ipv6=False), switch.vm("c", ipv6=False)
    assert switch.ports()["a"]["options"]["mac-limit"] == "8"
    assert switch.ports()["b"]["options"]["mac-limit"] == "4096"
    c.send([_probe(c.mac)])
    wait_for(lambda: switch.fdb_entry(c.mac), 2, what="c learned")
    macs = ["02:1a:00:00:%02x:%02x" % (i >> 8, i & 255) for i in range(60)]
    sc = c.sniff(dst=[c.mac])
    a.send([_probe(m, dst=c.mac, tag=b"many") for m in macs])
    assert len(sc.stop()) == 60, "frames from sources over the limit must still be forwarded"
    f = wait_for(lambda: (lambda f: f if f["learn_limit"] > 0 else None)(
        switch.stats("a")["fdb"]), 3, what="learn_limit counted on a")
    assert f["learned"] == 8 and f["mac_limit"] == 8, f
    on_a = [e for e in switch.fdb()["entries"] if e["port"] == "a"]
    assert len(on_a) == 8, on_a
    assert switch.fdb(port="a")["ports"] == {"a": f}
    assert switch.show()["fdb"]["learn_full"] == 0

    # other ports keep learning
    b.send([_probe("02:1b:00:00:00:%02x" % i) for i in range(20)])
    wait_for(lambda: switch.stats("b")["fdb"]["learned"] == 20, 3, what="b learns 20")
    assert switch.stats("b")["fdb"]["learn_limit"] == 0

    # a MAC known on b does not move to the full port a
    moved = switch.show()["fdb"]["moved"]
    before = switch.stats("a")["fdb"]["learn_limit"]
    a.send([_probe("02:1b:00:00:00:00")])
    wait_for(lambda: switch.stats("a")["fdb"]["learn_limit"] > before, 2,
             what="refused move counted")
    assert switch.fdb_entry("02:1b:00:00:00:00")["port"] == "b"
    assert switch.show()["fdb"]["moved"] == moved

    # raising the limit on the running port lets a learn again
    r = switch.ctl("port", "set", "a", "mac-limit=0")
    assert r["options"]["mac-limit"] == "0"
    a.send([_probe(m) for m in macs[8:20]])
    wait_for(lambda: switch.stats("a")["fdb"]["learned"] >= 20, 3, what="a learns again")

    # stored with the port's options, and in force again after a restart
    switch.ctl("port", "set", "a", "mac-limit=5")
    switch.restart()
    assert switch.ports()["a"]["options"]["mac-limit"] == "5"
    a.send([_probe(m) for m in macs[:10]])
    f = wait_for(lambda: (lambda f: f if f["learn_limit"] > 0 else None)(
        switch.stats("a")["fdb"]), 3, what="learn_limit after restart")
    assert f["learned"] == 5 and f["mac_limit"] == 5, f



def test_port_at_mac_limit_does_not_fill_the_learn_ring(switch):
    """A port at its mac-limit spraying random source MACs sends no learn requests
    (they would all be refused): they count as learn_limit on that port, and another
    port on the same worker (xvsd runs --workers 1) still gets every new MAC learned,
    with no learn request lost to a full ring anywhere. Deterministic: while the
    spray and b's new MACs arrive, the control thread is stuck in SQLite's 2 s busy
    timeout (another process holds the write lock), so nothing drains the ring."""
    import random
    import sqlite3
    import threading

    scapy_or_skip()
    a = switch.vm("a", ipv6=False, opts=["mac-limit=4"])
    b, c = switch.vm("b", ipv6=False), switch.vm("c", ipv6=False)
    c.send([_probe(c.mac)])
    wait_for(lambda: switch.fdb_entry(c.mac), 2, what="c learned")
    a.send([_probe("02:1a:00:00:00:%02x" % i, dst=c.mac) for i in range(4)])
    wait_for(lambda: switch.stats("a")["fdb"]["learned"] == 4, 2, what="a at its limit")
    rnd = random.Random(7)
    spray = [bytes(_probe("02:%02x:%02x:%02x:%02x:%02x" % tuple(rnd.randrange(256)
                                                                for _ in range(5)),
                          dst=c.mac, tag=b"spray")) for _ in range(2000)]
    new_b = ["02:1b:00:00:%02x:%02x" % (i >> 8, i & 255) for i in range(64)]
    before = switch.stats("a")
    con = sqlite3.connect(str(switch.xvsd.db), timeout=5, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    stuck = threading.Thread(target=switch.xvsd.ctl_proc, args=("port", "add", "q", "null"))
    try:
        stuck.start()
        time.sleep(0.3)  # the control thread is now waiting for the lock
        a.send(spray)
        b.send([_probe(m, dst=c.mac) for m in new_b])
        time.sleep(0.1)
    finally:
        con.execute("ROLLBACK")
        con.close()
        stuck.join()
    wait_for(lambda: switch.stats("b")["fdb"]["learned"] == len(new_b), 3,
             what=f"b learns its {len(new_b)} MACs")
    st = switch.stats()
    assert {n: st[n]["learn_ring_full"] for n in st} == {n: 0 for n in st}, st
    # every sprayed frame that reached the switch (a tap queue may drop some)
    # was one refusal
    f, rx = st["a"]["fdb"], st["a"]["rx_packets"] - before["rx_packets"]
    assert f["learned"] == 4 and f["learn_limit"] - before["fdb"]["learn_limit"] == rx > 0, \
        (f, rx)
