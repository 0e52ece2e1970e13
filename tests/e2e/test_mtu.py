# SPDX-License-Identifier: BSD-3-Clause
"""MTU at ingress and egress, jumbo frames end to end on every port kind that carries them.

   ns j1 (mtu 9000)     ns j2 (mtu 9000)     ns s (mtu 1500)      ns up (mtu 9000)
   [j1] 10.77.0.1       [j2] 10.77.0.2       [s] 10.77.0.3        [xe<sfx>up] 10.77.0.4
    | tap mtu=9000       | tap mtu=9000       | tap (1500)          | veth mtu 9000
  +-+--------------------+--------------------+-------------+       |
  | j1                   j2                   s       up    +-------+  xe<sfx>ups in the
  |                    xvsd (ns xe<sfx>sw)    (afpacket mtu=9000)   |  switch namespace
  +-----------------------------------------------------------------+

ping -s 8000 -M do (no fragmentation) must cross between jumbo ports; a 9000-byte
frame towards the 1500-byte port s is dropped on s's egress (tx_oversize), for
unicast and for floods, while small frames still reach it.
"""
import json
import re
import time

import pytest

from conftest import need_tool, nsrun, scapy_or_skip, wait_for

JUMBO = "mtu=9000"


def _jumbo_ping(src, dst, size=8000, count=3, interval=0.2):
    r = src.run(["ping", "-q", "-n", "-M", "do", "-s", str(size), "-c", str(count), "-i",
                 str(interval), "-W", "2", dst.ip4], check=False, timeout=30)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    assert m and m.group(2) == str(count), f"jumbo ping {src.port} -> {dst.port}:\n{r.stdout}{r.stderr}"


def _set_host_mtu(h, mtu):
    h.run(["ip", "link", "set", "dev", h.ifname, "mtu", str(mtu)])


def test_jumbo_ping_between_taps(switch):
    j1 = switch.vm("j1", ipv6=False, opts=[JUMBO])
    j2 = switch.vm("j2", ipv6=False, opts=[JUMBO])
    assert switch.ports()["j1"]["options"]["mtu"] == "9000"
    _jumbo_ping(j1, j2)
    _jumbo_ping(j2, j1)
    assert switch.stats("j1")["drops"]["oversize"] == 0


def test_jumbo_ping_tap_to_afpacket_uplink(switch):
    j1 = switch.vm("j1", ipv6=False, opts=[JUMBO])
    up = switch.uplink("up", ipv6=False, add_port=False)
    _set_host_mtu(up, 9000)
    nsrun(switch.ns, ["ip", "link", "set", "dev", up.sw_ifname, "mtu", "9000"])
    r = switch.ctl("port", "add", "up", "afpacket", f"ifname={up.sw_ifname}", JUMBO)
    assert r["state"] == "up" and r["options"]["mtu"] == "9000"
    # more frames than one block of the AF_PACKET ring holds, in both directions
    _jumbo_ping(j1, up, count=20, interval=0.02)
    _jumbo_ping(up, j1, count=20, interval=0.02)
    d = switch.stats("up")["drops"]
    assert d["oversize"] == 0 and d["tx_oversize"] == 0, d


def test_jumbo_chain_from_tap_crosses_to_afpacket_uplink(switch_unstarted):
    """--tap-mbufs 0: a tap reads a jumbo frame into a chain of 2 KB mbufs. The
    af_packet port sends single segments, so the chain is copied into one jumbo
    mbuf at egress, not dropped as offload_failed."""
    switch_unstarted.xvsd.extra += ["--tap-mbufs", "0"]
    switch_unstarted.start()
    sw = switch_unstarted
    j1 = sw.vm("j1", ipv6=False, opts=[JUMBO])
    up = sw.uplink("up", ipv6=False, add_port=False)
    _set_host_mtu(up, 9000)
    nsrun(sw.ns, ["ip", "link", "set", "dev", up.sw_ifname, "mtu", "9000"])
    sw.ctl("port", "add", "up", "afpacket", f"ifname={up.sw_ifname}", JUMBO)
    _jumbo_ping(j1, up, count=20, interval=0.02)
    assert sw.stats("j1")["dev_rx_reads_chained"] > 0, sw.stats("j1")
    d = sw.stats("up")["drops"]
    assert d["offload_failed"] == 0 and d["tx_oversize"] == 0, d



def test_jumbo_frames_cross_a_pcap_port(switch, tmp_path):
    """pcap is a kind that carries mtu=9000 too (port_mtu.c): 8000-byte frames it
    replays reach a jumbo tap whole, and jumbo frames the tap sends to it are
    written whole to its tx file; none counted oversize on either side."""
    scapy_or_skip()
    from scapy.layers.l2 import Ether
    from scapy.utils import rdpcap, wrpcap

    j1 = switch.vm("j1", ipv6=False, opts=[JUMBO])
    src = "02:5a:00:00:90:01"   # the host the pcap's frames come from
    inp, out = tmp_path / "jin.pcap", tmp_path / "jout.pcap"
    wrpcap(str(inp), [Ether(src=src, dst="ff:ff:ff:ff:ff:ff", type=0x88b5) /
                      (bytes([i]) * 8000) for i in range(5)])
    sn = j1.sniff(src=[src])
    switch.ctl("port", "add", "p", "pcap", f"path={inp}", f"tx-path={out}", JUMBO)
    wait_for(lambda: switch.stats("p")["rx_packets"] >= 5, 5, what="pcap replayed")
    got = sn.stop()
    assert sorted(len(f) for f in got) == [8014] * 5, [len(f) for f in got]
    # src was learned on p: these go to p alone, unicast
    wait_for(lambda: (switch.fdb_entry(src) or {}).get("port") == "p", 3, what="src on p")
    j1.send([Ether(src=j1.mac, dst=src, type=0x88b5) / (bytes([0x40 + i]) * 8000)
             for i in range(3)])
    wait_for(lambda: switch.stats("p")["tx_packets"] >= 3, 5, what="frames sent to p")
    switch.ctl("port", "del", "p")   # the tx file is complete once the port is gone
    sent = [bytes(f) for f in rdpcap(str(out)) if bytes(f)[6:12] == bytes.fromhex(
        j1.mac.replace(":", ""))]
    assert [len(f) for f in sent] == [8014] * 3, [len(f) for f in sent]
    d = switch.stats("j1")["drops"]
    assert d["oversize"] == 0 and d["tx_oversize"] == 0, d

def test_afpacket_mtu_sets_the_netdev_and_fits_its_frames(switch):
    """An afpacket port opened with mtu=9000 gives the netdev that MTU (as the PMD does
    for smaller ones); frames of every size up to it arrive whole, none truncated to
    the AF_PACKET ring's old 2 KB slots."""
    j1 = switch.vm("j1", ipv6=False, opts=[JUMBO])
    up = switch.uplink("up", ipv6=False, add_port=False)
    _set_host_mtu(up, 9000)
    switch.ctl("port", "add", "up", "afpacket", f"ifname={up.sw_ifname}", JUMBO)
    out = nsrun(switch.ns, ["ip", "-o", "link", "show", "dev", up.sw_ifname]).stdout
    assert " mtu 9000 " in out, out
    for size in (1472, 2000, 4000, 8972):
        r = up.run(["ping", "-q", "-n", "-M", "do", "-s", str(size), "-c", "1", "-W", "2",
                    j1.ip4], check=False, timeout=15)
        assert " 1 received" in r.stdout, f"size {size}: {r.stdout}"


def test_afxdp_refuses_an_mtu_it_cannot_carry(switch):
    """AF_XDP receives into one umem frame per packet: an MTU beyond it is refused with
    the port, the kind and the limit, and nothing is created."""
    up = switch.uplink("up", ipv6=False, add_port=False)
    nsrun(switch.ns, ["ip", "link", "set", "dev", up.sw_ifname, "mtu", "9000"])
    argv, p = switch.xvsd.ctl_proc("port", "add", "x", "afxdp", f"ifname={up.sw_ifname}", JUMBO)
    if p.returncode == 0:
        switch.ctl("port", "del", "x")
        pytest.fail("afxdp port with mtu=9000 was accepted")
    msg = p.stdout + p.stderr
    if "cannot create afxdp device" in msg:
        pytest.skip(f"AF_XDP is not available here: {msg.strip()[:300]}")
    assert "port x" in msg and "afxdp" in msg and "at most" in msg, msg
    assert "x" not in switch.ports()
    switch.expect_log(r"port x")


def test_afxdp_carries_its_largest_mtu(switch):
    """AF_XDP cannot carry jumbo frames here (one 2 KB umem chunk per frame), so this is
    its jumbo test: frames of its largest MTU, 1774, cross whole both ways."""
    j1 = switch.vm("j1", ipv6=False, opts=["mtu=1774"])
    up = switch.uplink("up", ipv6=False, add_port=False)
    _set_host_mtu(up, 1774)
    nsrun(switch.ns, ["ip", "link", "set", "dev", up.sw_ifname, "mtu", "1774"])
    argv, p = switch.xvsd.ctl_proc("port", "add", "up", "afxdp", f"ifname={up.sw_ifname}",
                                   "mtu=1774")
    if p.returncode != 0:
        switch.expect_log(r"port up")
        pytest.skip(f"AF_XDP is not available here: {p.stdout.strip()[:300]}")
    _jumbo_ping(up, j1, size=1746, count=10, interval=0.02)
    _jumbo_ping(j1, up, size=1746, count=10, interval=0.02)
    argv, p = switch.xvsd.ctl_proc("port", "set", "up", "mtu=1775")
    assert p.returncode != 0 and "at most 1774" in p.stdout, p.stdout


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


def test_afpacket_live_mtu_change_within_its_ring(switch):
    """An afpacket port's ring is sized when it is added: a live change within it sets the
    netdev's MTU, one beyond it is refused (and changes nothing)."""
    up = switch.uplink("up", ipv6=False)
    r = switch.ctl("port", "set", "up", "mtu=1900")
    assert r["options"]["mtu"] == "1900"
    out = nsrun(switch.ns, ["ip", "-o", "link", "show", "dev", up.sw_ifname]).stdout
    assert " mtu 1900 " in out, out
    argv, p = switch.xvsd.ctl_proc("port", "set", "up", "mtu=9000")
    assert p.returncode != 0
    assert "port up" in p.stdout and "delete and add the port again" in p.stdout, p.stdout
    assert switch.ports()["up"]["options"]["mtu"] == "1900"


def test_egress_mtu_counts_the_untagged_length(switch):
    """A tagged frame from a jumbo trunk to a 1500-byte access port loses its tag on
    the way out: 1514 bytes untagged (1518 tagged) fits, one byte more does not."""
    scapy_or_skip()
    from scapy.layers.l2 import Dot1Q, Ether

    t = switch.vm("t", ipv6=False, opts=[JUMBO, "vlan-mode=trunk", "trunks=5", "native=none"])
    s = switch.vm("s", ipv6=False, opts=["vlan=5"])
    before = switch.stats("s")["drops"]["tx_oversize"]
    fits = Ether(src=t.mac, dst=s.mac) / Dot1Q(vlan=5, type=0x88b5) / (b"f" * 1500)
    big = Ether(src=t.mac, dst=s.mac) / Dot1Q(vlan=5, type=0x88b5) / (b"g" * 1501)
    assert (len(fits), len(big)) == (1518, 1519)
    sn = s.sniff(src=[t.mac], seconds=10)
    t.send([fits, big])
    got = sn.stop(grace=0.5)
    assert [len(f) for f in got] == [1514], [len(f) for f in got]
    wait_for(lambda: switch.stats("s")["drops"]["tx_oversize"] == before + 1, 2,
             what="one tx_oversize on s")


def test_tcp_between_jumbo_and_1500_ports_is_judged_by_segment_size(switch):
    """TCP from a 9000-byte VM to a 1500-byte one: the MSS both ends agree on keeps every
    segment within 1500, and the 64 KB TSO frames that carry them are judged by their
    segment size at egress (not their length), so the stream crosses without a drop."""
    need_tool("iperf3")
    j1 = switch.vm("j1", ipv6=False, opts=[JUMBO])
    s = switch.vm("s", ipv6=False)
    srv = switch.spawn(s.ns, ["iperf3", "-s", "-1"])
    time.sleep(0.5)
    r = j1.run(["iperf3", "-c", s.ip4, "-t", "2", "-J"], check=False, timeout=30)
    srv.wait(10)
    assert r.returncode == 0, r.stdout[-1500:] + r.stderr
    got = json.loads(r.stdout)["end"]["sum_received"]["bytes"]
    st = switch.stats()
    assert got > 1024 * 1024, got
    # TSO frames did cross: far fewer frames than 1448-byte segments
    assert st["j1"]["forwarded"] * 4096 < got, st["j1"]
    assert st["s"]["drops"]["tx_oversize"] == 0, st["s"]["drops"]
