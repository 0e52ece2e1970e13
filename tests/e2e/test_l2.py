# SPDX-License-Identifier: BSD-3-Clause
"""Basic L2 switching: reachability, ARP, TCP throughput, learning, flooding.

    ns xe<sfx>a            ns xe<sfx>b            ns xe<sfx>c
    [xe<sfx>a] 10.77.0.1   [xe<sfx>b] 10.77.0.2   [xe<sfx>c] 10.77.0.3
        | tap                  | tap                  | tap
  +-----+----------------------+----------------------+----------------------+
  |    port a                port b                port c          port up  |
  |                     xvsd (ns xe<sfx>sw)                       afpacket   |
  +------------------------------------------------------------------+-------+
                                                          veth xe<sfx>ups
                                                                     |
                                                   ns xe<sfx>up [xe<sfx>up] 10.77.0.N
                                                   ("physical network")

(c and the uplink exist only in the tests that need them.)
"""
import json
import time

import pytest

from conftest import need_tool, scapy_or_skip, wait_for


def test_ping_ipv4_and_ipv6(switch):
    a, b = switch.vm("a"), switch.vm("b")
    a.ping(b, count=3)
    a.ping(b, count=3, v6=True)
    b.ping(a, count=2, v6=True)
    st = switch.stats()
    # 3 + 2 echo requests and as many replies crossed each way at least
    assert st["a"]["forwarded"] >= 5 and st["b"]["forwarded"] >= 5, st
    assert st["a"]["tx_packets"] >= 5 and st["b"]["tx_packets"] >= 5, st


def test_arp_resolution(switch):
    a, b = switch.vm("a", ipv6=False), switch.vm("b", ipv6=False)
    a.run(["ip", "neigh", "flush", "dev", a.ifname])
    assert a.neigh(b.ip4) is None
    echo = a.sniff(src=[a.mac])   # frames from a that come back to a
    before = switch.stats()
    a.ping(b, count=1)
    # the request was broadcast (flooded from a), the reply unicast (forwarded from b)
    assert a.neigh(b.ip4) == b.mac
    assert b.neigh(a.ip4) == a.mac
    after = switch.stats()
    assert after["a"]["flooded"] - before["a"]["flooded"] >= 1, after["a"]
    # ARP reply + echo reply; learning is asynchronous (the control thread
    # inserts entries), so a reply right behind the request may still be flooded
    sent_b = lambda s: s["b"]["forwarded"] + s["b"]["flooded"]  # noqa: E731
    assert sent_b(after) - sent_b(before) >= 2, after["b"]
    # nothing was flooded back to the port it came from: a's sniffer (which
    # skips what a itself sends) saw none of a's frames, and the switch sent a
    # no more than b's two replies (ARP and echo)
    assert echo.stop() == [], "a's broadcast came back to a"
    assert after["a"]["tx_packets"] - before["a"]["tx_packets"] == 2, after["a"]


def _iperf(switch, client, server, seconds=2):
    need_tool("iperf3")
    srv = switch.spawn(server.ns, ["iperf3", "-s", "-1", "-B", server.ip4])
    time.sleep(0.3)
    r = None
    for _ in range(20):  # the server may not listen yet
        r = client.run(["iperf3", "-c", server.ip4, "-t", str(seconds), "-J"], check=False,
                       timeout=seconds + 20)
        if r.returncode == 0:
            break
        time.sleep(0.2)
    assert r.returncode == 0, f"iperf3 failed: {r.stdout[-2000:]} {r.stderr}"
    srv.wait(5)
    res = json.loads(r.stdout)
    return res["end"]["sum_received"]


def test_iperf3_tcp_vm_to_vm(switch):
    a, b = switch.vm("a", ipv6=False), switch.vm("b", ipv6=False)
    got = _iperf(switch, a, b)
    assert got["bytes"] > 10 * 1024 * 1024, got
    st = switch.stats()
    # every byte crossed the switch, in frames of at most 64 KB (TSO)
    assert st["a"]["forwarded"] * 65536 >= got["bytes"], st["a"]
    assert st["a"]["drops"]["no_dest"] == 0 and st["b"]["drops"]["no_dest"] == 0
    # each frame was read into one 64 KB buffer (+ a 2 KB one for the tail),
    # not into a chain of 2 KB buffers
    assert st["a"]["dev_rx_reads_chained"] == 0 and st["b"]["dev_rx_reads_chained"] == 0, st


def test_iperf3_tcp_vm_to_vm_without_64k_read_buffers(switch_unstarted):
    """--tap-mbufs 0: taps read into chains of 2 KB mbufs, and TSO frames
    still cross whole."""
    switch_unstarted.xvsd.extra += ["--tap-mbufs", "0"]
    switch_unstarted.start()
    sw = switch_unstarted
    a, b = sw.vm("a", ipv6=False), sw.vm("b", ipv6=False)
    got = _iperf(sw, a, b)
    assert got["bytes"] > 10 * 1024 * 1024, got
    st = sw.stats()
    assert st["a"]["forwarded"] * 65536 >= got["bytes"], st["a"]
    # frames of more than one 2 KB mbuf crossed: far fewer frames than 2 KB pieces
    assert st["a"]["forwarded"] * 4096 < got["bytes"], st["a"]
    assert st["a"]["dev_rx_reads_chained"] >= st["a"]["rx_packets"] > 0, st["a"]


def test_iperf3_tcp_vm_to_uplink(switch):
    a = switch.vm("a", ipv6=False)
    up = switch.uplink("up", ipv6=False)
    got = _iperf(switch, a, up)
    assert got["bytes"] > 10 * 1024 * 1024, got
    st = switch.stats()
    assert st["a"]["forwarded"] * 65536 >= got["bytes"] and st["up"]["forwarded"] > 1000, st


def test_learning_puts_each_mac_on_its_port(switch):
    a, b = switch.vm("a", ipv6=False), switch.vm("b", ipv6=False)
    up = switch.uplink("up", ipv6=False)
    a.ping(b, count=1)
    a.ping(up, count=1)

    def learned():
        e = {x["mac"]: x for x in switch.fdb()["entries"]}
        return e if all(h.mac in e for h in (a, b, up)) else None

    entries = wait_for(learned, 3, what="all three MACs learned")
    for h in (a, b, up):
        e = entries[h.mac]
        assert (e["port"], e["vlan"], e["type"]) == (h.port, 1, "dynamic"), e
    # filters
    only_b = switch.fdb(port="b")["entries"]
    assert [x["mac"] for x in only_b] == [b.mac]
    assert switch.fdb(vlan=2)["entries"] == []
    show = switch.show()
    assert show["fdb"]["entries"] == 3 and show["fdb"]["learned"] >= 3, show["fdb"]
    # after learning, a known destination is forwarded, not flooded
    before = switch.stats("a")
    a.ping(b, count=3)
    after = switch.stats("a")
    assert after["forwarded"] - before["forwarded"] >= 3
    assert after["flooded"] == before["flooded"]


def test_flood_reaches_only_same_vlan_ports(switch):
    """Broadcast and unknown unicast from a (VLAN 10) go to b and the uplink
    (VLAN 10), never to c (VLAN 20) nor back to a."""
    scapy_or_skip()
    from scapy.layers.l2 import Ether
    from scapy.layers.inet import IP, UDP

    a = switch.vm("a", vlan=10, ipv6=False)
    b = switch.vm("b", vlan=10, ipv6=False)
    c = switch.vm("c", vlan=20, ipv6=False)
    up = switch.uplink("up", ipv6=False, opts=["vlan=10"])
    src = a.mac
    unknown = "02:99:99:99:99:01"
    ip = IP(src=a.ip4, dst="10.77.0.250") / UDP()
    frames = [Ether(src=src, dst="ff:ff:ff:ff:ff:ff") / ip / b"bcast",
              Ether(src=src, dst=unknown) / ip / b"unknown-uc",
              Ether(src=src, dst="01:00:5e:01:02:03") / ip / b"mcast"]
    sniffers = {h.port: h.sniff(src=[src]) for h in (a, b, c, up)}
    before = switch.stats()
    a.send(frames)
    got = {p: s.stop() for p, s in sniffers.items()}
    after = switch.stats()
    for p in ("b", "up"):
        payloads = sorted(bytes(Ether(f)[UDP].payload) for f in got[p])
        assert payloads == sorted([b"bcast", b"unknown-uc", b"mcast"]), (p, got[p])
    assert got["c"] == [], "frames leaked into VLAN 20"
    assert got["a"] == [], "frames came back to their ingress port"
    assert after["a"]["flooded"] - before["a"]["flooded"] == 3
    assert after["c"]["tx_packets"] == before["c"]["tx_packets"]
    # flooding learned the source
    e = wait_for(lambda: switch.fdb_entry(src), 2, what="source learned")
    assert (e["port"], e["vlan"]) == ("a", 10)


def test_unicast_to_a_mac_on_its_own_port_is_dropped_as_same_port(switch):
    """A frame from a to a MAC learned on a (a host behind a's port) is
    neither sent back out of a nor flooded: dropped and counted same_port."""
    scapy_or_skip()
    from scapy.layers.l2 import Ether

    a, b = switch.vm("a", ipv6=False), switch.vm("b", ipv6=False)
    up = switch.uplink("up", ipv6=False)
    x = "02:99:99:99:99:03"   # a host behind port a
    a.send([Ether(src=x, dst="ff:ff:ff:ff:ff:ff", type=0x88b5) / (b"learn me" * 6)])
    e = wait_for(lambda: switch.fdb_entry(x), 3, what="x learned")
    assert e["port"] == "a", e
    sniffers = {h.port: h.sniff(dst=[x]) for h in (a, b, up)}
    before = switch.stats()
    a.send([Ether(src=a.mac, dst=x, type=0x88b5) / (b"to x" * 12)] * 5)
    wait_for(lambda: switch.stats("a")["rx_packets"] - before["a"]["rx_packets"] >= 5, 3,
             what="frames received")
    got = {p: s.stop() for p, s in sniffers.items()}
    after = switch.stats()
    assert got == {"a": [], "b": [], "up": []}, got
    d = {k: after["a"][k] - before["a"][k] for k in ("rx_packets", "forwarded", "flooded")}
    assert d == {"rx_packets": 5, "forwarded": 0, "flooded": 0}, d
    assert after["a"]["drops"]["same_port"] - before["a"]["drops"]["same_port"] == 5
    for p in ("a", "b", "up"):
        assert after[p]["tx_packets"] == before[p]["tx_packets"], (p, after[p])


def test_unknown_unicast_with_no_other_port_is_no_dest(switch):
    scapy_or_skip()
    from scapy.layers.l2 import Ether

    a = switch.vm("a", vlan=42, ipv6=False)
    switch.vm("b", vlan=43, ipv6=False)
    before = switch.stats("a")
    a.send([Ether(src=a.mac, dst="02:99:99:99:99:02", type=0x88b5) / (b"x" * 50)] * 4)
    wait_for(lambda: switch.stats("a")["rx_packets"] - before["rx_packets"] >= 4, 3,
             what="frames received")
    after = switch.stats("a")
    assert after["drops"]["no_dest"] - before["drops"]["no_dest"] == 4
    assert after["flooded"] == before["flooded"] and after["forwarded"] == before["forwarded"]


def test_counter_conservation_mixed_traffic(switch):
    """rx_packets == forwarded + flooded + ingress drops on every port, after
    unicast, broadcast, unknown unicast, VLAN drops and parse drops from
    several ports at once (the fixture checks it again at teardown)."""
    scapy_or_skip()
    from scapy.layers.l2 import Dot1Q, Ether

    a, b = switch.vm("a", ipv6=False), switch.vm("b", ipv6=False)
    c = switch.vm("c", vlan=5, ipv6=False)
    up = switch.uplink("up", ipv6=False, opts=["vlan-mode=trunk", "trunks=1,5"])
    pings = [switch.spawn(a.ns, ["ping", "-q", "-c", "50", "-i", "0.01", b.ip4]),
             switch.spawn(b.ns, ["ping", "-q", "-c", "50", "-i", "0.01", a.ip4])]
    junk = [Ether(src="01:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff", type=0x88b5) / (b"j" * 46),
            Ether(src=a.mac, dst=b.mac) / Dot1Q(vlan=5, type=0x88b5) / (b"j" * 46),
            Ether(src=a.mac, dst="02:99:00:00:00:01", type=0x88b5) / (b"j" * 46)]
    for h in (a, b, c):
        h.send(junk * 5)
    up.send([Ether(src=up.mac, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=v, type=0x88b5) /
             (b"u" * 46) for v in (1, 5, 7, 4095)] * 5 +
            [Ether(src=up.mac, dst=c.mac, type=0x88b5) / (b"untagged" * 6)] * 5)
    for p in pings:
        p.wait(20)
    switch.assert_conservation()
    st = switch.stats()
    assert st["up"]["drops"]["vlan_not_allowed"] == 5 and st["up"]["drops"]["bad_vid"] == 5
    assert st["up"]["drops"]["vlan_untagged"] == 5
    assert all(st[p]["drops"]["bad_src_mac"] == 5 for p in "abc"), st


@pytest.mark.serial
def test_idle_tap_is_not_read_while_others_are_busy(switch):
    """A tap is read when epoll reports it, not at every turn of its worker: while
    a and b exchange ~1000 frames/s for 2 s, the idle c costs at most a sweep read
    every 10 ms. (Read at every turn, it took tens of thousands of empty reads.)"""
    a, b, c = (switch.vm(n, ipv6=False) for n in "abc")
    a.ping(b, count=2)
    time.sleep(0.5)
    s0 = switch.stats()
    a.run(["ping", "-q", "-c", "2000", "-i", "0.001", "-W", "1", b.ip4], check=False,
          timeout=30)
    s1 = switch.stats()
    busy = s1["a"]["rx_packets"] - s0["a"]["rx_packets"]
    assert busy >= 1000, s1["a"]
    assert s1["c"]["rx_packets"] == s0["c"]["rx_packets"], "c was not idle"
    reads_a = s1["a"]["dev_rx_reads"] - s0["a"]["dev_rx_reads"]
    empty_c = s1["c"]["dev_rx_reads_empty"] - s0["c"]["dev_rx_reads_empty"]
    # every frame of a took a read; c was read only by sweeps (one per 10 ms at
    # most, ~2-4 s of ping) and after wake-ups that came from timeouts
    assert reads_a >= busy, (reads_a, busy)
    assert empty_c <= 600, f"idle tap c: {empty_c} empty reads while a sent {busy} frames"
