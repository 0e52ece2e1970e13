# SPDX-License-Identifier: BSD-3-Clause
"""MTU at ingress and egress, jumbo frames end to end.

   ns j1 (mtu 9000)     ns j2 (mtu 9000)     ns s (mtu 1500)
   [j1] 10.77.0.1       [j2] 10.77.0.2       [s] 10.77.0.3
    | tap mtu=9000       | tap mtu=9000       | tap (1500)
  +-+--------------------+--------------------+-------------+
  | j1                   j2                   s             |
  |                    xvsd (ns xe<sfx>sw)                  |
  +---------------------------------------------------------+

ping -s 8000 -M do (no fragmentation) must cross between jumbo ports; a 9000-byte
frame towards the 1500-byte port s is dropped on s's egress (tx_oversize), for
unicast and for floods, while small frames still reach it.
"""
import re

from conftest import scapy_or_skip, wait_for

JUMBO = "mtu=9000"


def _jumbo_ping(src, dst, size=8000, count=3):
    r = src.run(["ping", "-q", "-n", "-M", "do", "-s", str(size), "-c", str(count), "-i", "0.2",
                 "-W", "2", dst.ip4], check=False, timeout=30)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    assert m and m.group(2) == str(count), f"jumbo ping {src.port} -> {dst.port}:\n{r.stdout}{r.stderr}"


def test_jumbo_ping_between_taps(switch):
    j1 = switch.vm("j1", ipv6=False, opts=[JUMBO])
    j2 = switch.vm("j2", ipv6=False, opts=[JUMBO])
    assert switch.ports()["j1"]["options"]["mtu"] == "9000"
    _jumbo_ping(j1, j2)
    _jumbo_ping(j2, j1)
    assert switch.stats("j1")["drops"]["oversize"] == 0


def test_jumbo_towards_1500_port_dropped_on_egress(switch):
    scapy_or_skip()
    from scapy.layers.l2 import Ether

    j1 = switch.vm("j1", ipv6=False, opts=[JUMBO])
    j2 = switch.vm("j2", ipv6=False, opts=[JUMBO])
    s = switch.vm("s", ipv6=False)
    j1.ping(s, count=1)
    j1.ping(j2, count=1)
    wait_for(lambda: switch.fdb_entry(s.mac) and switch.fdb_entry(j2.mac), 2,
             what="s and j2 learned")
    before = {n: switch.stats(n) for n in ("j1", "j2", "s")}
    big = 9000 + 14
    uni = Ether(src=j1.mac, dst=s.mac, type=0x88b5) / (b"u" * (big - 14))
    bc = Ether(src=j1.mac, dst="ff:ff:ff:ff:ff:ff", type=0x88b5) / (b"b" * (big - 14))
    small = Ether(src=j1.mac, dst=s.mac, type=0x88b5) / (b"k" * 1500)
    sn_s = s.sniff(src=[j1.mac], seconds=10)
    sn_j2 = j2.sniff(src=[j1.mac], seconds=10)
    j1.send([uni, bc, small])
    got_s = sn_s.stop(grace=0.5)
    got_j2 = sn_j2.stop(grace=0.1)
    assert sorted(len(f) for f in got_s) == [1514], [len(f) for f in got_s]
    assert [len(f) for f in got_j2] == [big], [len(f) for f in got_j2]

    def delta(n, k):
        return switch.stats(n)["drops"][k] - before[n]["drops"][k]

    wait_for(lambda: delta("s", "tx_oversize") == 2, 2, what="2 tx_oversize drops on s")
    assert delta("j1", "oversize") == 0 and delta("j2", "tx_oversize") == 0
    a = switch.stats("j1")
    assert a["forwarded"] - before["j1"]["forwarded"] == 2  # the big and the small unicast
    assert a["flooded"] - before["j1"]["flooded"] == 1


def test_jumbo_flood_with_only_small_ports_is_flooded_not_no_dest(switch):
    """A flood whose every candidate port has a smaller MTU counts as flooded on
    ingress and tx_oversize on each egress, so rx == forwarded + flooded + drops holds."""
    scapy_or_skip()
    from scapy.layers.l2 import Ether

    j1 = switch.vm("j1", ipv6=False, opts=[JUMBO])
    switch.vm("s", ipv6=False)
    before_j1, before_s = switch.stats("j1"), switch.stats("s")
    j1.send([Ether(src=j1.mac, dst="ff:ff:ff:ff:ff:ff", type=0x88b5) / (b"b" * 4000)])
    wait_for(lambda: switch.stats("s")["drops"]["tx_oversize"] ==
             before_s["drops"]["tx_oversize"] + 1, 2, what="tx_oversize on s")
    a = switch.stats("j1")
    assert a["drops"]["no_dest"] == before_j1["drops"]["no_dest"]
    assert a["flooded"] == before_j1["flooded"] + 1
