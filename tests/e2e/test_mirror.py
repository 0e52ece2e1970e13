# SPDX-License-Identifier: BSD-3-Clause
"""Port mirroring: a session copies a source port's frames to a destination port.

  ns a: ping b        ns b          ns m: mirror destination   ns c: bystander
   [a] 10.77.0.1       [b] .2        [m] .3 (sniffs)            [c] .4 (sniffs)
    | tap               | tap         | tap                      | tap
  +-+-------------------+-------------+--------------------------+---+
  |                   xvsd (ns xe<sfx>sw)                            |
  +------------------------------------------------------------------+

dir=in copies what a sends into the switch (its echo requests), dir=out what
the switch delivers to a (b's echo replies), dir=both both. The copies reach
m only: b gets each request once, c sees none of the unicast exchange, and
the FDB still has a's MAC on a's port.
"""
import json
import time

import pytest

from conftest import CtlError, need_tool, scapy_or_skip

PINGS = 5


def icmp_between(frames, src, dst, icmp_type):
    """Echo requests (8) or replies (0) from host src to host dst among frames."""
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.l2 import Ether

    n = 0
    for f in frames:
        p = Ether(f)
        if (IP in p and ICMP in p and p[IP].src == src.ip4 and p[IP].dst == dst.ip4
                and p[ICMP].type == icmp_type):
            n += 1
    return n


def topo(sw):
    a, b, m, c = (sw.vm(r, ipv6=False) for r in "abmc")
    a.ping(b, count=1)  # ARP and learning done before anything is counted
    return a, b, m, c


def exchange(sw, a, b, m, c):
    """a pings b PINGS times while b, m and c sniff; returns their frames."""
    sniffers = {h: h.sniff(seconds=20) for h in (b, m, c)}
    a.ping(b, count=PINGS, interval=0.1)
    return {h: s.stop() for h, s in sniffers.items()}


@pytest.mark.parametrize("direction,requests,replies", [
    ("in", PINGS, 0), ("out", 0, PINGS), ("both", PINGS, PINGS)])
def test_mirror_copies_to_destination_only(switch, direction, requests, replies):
    scapy_or_skip()
    a, b, m, c = topo(switch)
    r = switch.ctl("mirror", "add", "s1", f"src={a.port}", f"dst={m.port}", f"dir={direction}")
    assert r["active"] and r["dir"] == direction, r
    before = switch.stats()
    got = exchange(switch, a, b, m, c)
    after = switch.stats()
    # m sees exactly the copies of its direction
    assert icmp_between(got[m], a, b, 8) == requests, got[m]
    assert icmp_between(got[m], b, a, 0) == replies, got[m]
    # b gets each request once: the copy went to m only
    assert icmp_between(got[b], a, b, 8) == PINGS
    # nobody else sees the unicast exchange, copies included (never flooded)
    assert icmp_between(got[c], a, b, 8) == 0 and icmp_between(got[c], b, a, 0) == 0
    # counted as mirrored on m, on the session, not as forwarded by m
    s = switch.ctl("mirror", "show", "s1")["mirrors"][0]
    assert s["mirrored_packets"] >= requests + replies, s
    assert s["drops"] == 0, s
    assert after[m.port]["mirrored"] - before[m.port]["mirrored"] >= requests + replies
    assert after[m.port]["forwarded"] == before[m.port]["forwarded"]
    # never learned: a's MAC stays on a's port
    assert switch.fdb_entry(a.mac)["port"] == a.port
    switch.ctl("mirror", "del", "s1")
    got = exchange(switch, a, b, m, c)
    assert icmp_between(got[m], a, b, 8) == 0 and icmp_between(got[m], b, a, 0) == 0


def test_mirror_refuses_bad_sessions(switch):
    a, b, m = (switch.vm(r, ipv6=False) for r in "abm")
    switch.ctl("mirror", "add", "s1", f"src={a.port}", f"dst={m.port}")
    before = switch.ctl("mirror", "show")
    bad = [
        (("s2", f"src={a.port}", f"dst={a.port}"), "cannot mirror to itself"),
        (("s2", "src=nosuch", f"dst={m.port}"), 'no port named "nosuch"'),
        (("s2", f"src={b.port}", "dst=nosuch"), 'no port named "nosuch"'),
        (("s2", f"src={m.port}", f"dst={b.port}"), "is the destination of mirror s1"),
        (("s2", f"src={b.port}", f"dst={a.port}"), "is the source of mirror s1"),
        (("s2", f"src={b.port}", f"dst={m.port}", "dir=sideways"), "must be in, out or both"),
        (("s2", f"src={b.port}"), "src=PORT and dst=PORT are required"),
        (("s2", f"src={b.port}", f"dst={m.port}", "colour=red"), 'unknown option "colour"'),
        (("s1", f"src={b.port}", f"dst={m.port}"), "already exists"),
    ]
    for args, msg in bad:
        with pytest.raises(CtlError) as e:
            switch.ctl("mirror", "add", *args)
        assert msg in str(e.value), (args, str(e.value))
    with pytest.raises(CtlError) as e:
        switch.ctl("mirror", "del", "nosuch")
    assert 'no mirror named "nosuch"' in str(e.value)
    assert switch.ctl("mirror", "show") == before
    # two sources into one destination are fine
    switch.ctl("mirror", "add", "s2", f"src={b.port}", f"dst={m.port}", "dir=out")
    # at most 8 destinations per source and direction
    for k in range(8):
        switch.ctl("port", "add", f"d{k}", "null")
    for k in range(7):
        switch.ctl("mirror", "add", f"t{k}", f"src={b.port}", f"dst=d{k}", "dir=out")
    with pytest.raises(CtlError) as e:
        switch.ctl("mirror", "add", "t7", f"src={b.port}", "dst=d7")
    assert "already has 8 mirror destinations for dir out" in str(e.value)
    switch.ctl("mirror", "add", "t7", f"src={b.port}", "dst=d7", "dir=in")


def test_mirror_survives_restart_and_port_readd(switch):
    scapy_or_skip()
    a, b, m, c = topo(switch)
    switch.ctl("mirror", "add", "s1", f"src={a.port}", f"dst={m.port}", "dir=in")
    switch.restart()
    s = switch.ctl("mirror", "show")["mirrors"]
    assert [(x["name"], x["src"], x["dst"], x["dir"], x["active"]) for x in s] == \
        [("s1", a.port, m.port, "in", True)], s
    a.ping(b, count=1)
    got = exchange(switch, a, b, m, c)
    assert icmp_between(got[m], a, b, 8) == PINGS
    # a port goes: the session waits for it, and works again when it is back
    for h in (m, a):
        switch.ctl("port", "del", h.port)
        s = switch.ctl("mirror", "show", "s1")["mirrors"][0]
        assert not s["active"] and s["state"] == f"{'dst' if h is m else 'src'} port missing", s
        switch.ctl("port", "add", h.port, "tap", f"ifname={h.ifname}", f"netns={h.ns}",
                   f"mac={h.mac}")
        h.configure()
        assert switch.ctl("mirror", "show", "s1")["mirrors"][0]["active"]
        a.ping(b, count=1)
        got = exchange(switch, a, b, m, c)
        assert icmp_between(got[m], a, b, 8) == PINGS


def test_mirror_copies_tso_frames_of_a_tcp_stream(switch):
    """A VM's TCP stream reaches the switch from its tap as 64 KB TSO frames:
    the copies keep their offload requests, so none is lost for its size."""
    need_tool("iperf3")
    a, b, m = (switch.vm(r, ipv6=False) for r in "abm")
    a.ping(b, count=1)
    switch.ctl("mirror", "add", "s1", f"src={a.port}", f"dst={m.port}", "dir=in")
    before = switch.stats()
    srv = switch.spawn(b.ns, ["iperf3", "-s", "-1", "-B", b.ip4])
    r = None
    for _ in range(20):  # the server may not listen yet
        r = a.run(["iperf3", "-c", b.ip4, "-t", "2", "-J"], check=False, timeout=30)
        # iperf3 3.12 -J exits 0 when it could not connect: the JSON says so
        if r.returncode == 0 and "error" not in json.loads(r.stdout):
            break
        time.sleep(0.2)
    assert r.returncode == 0 and "error" not in json.loads(r.stdout), r.stdout[-500:]
    srv.wait(20)
    after = switch.stats()
    s = switch.ctl("mirror", "show", "s1")["mirrors"][0]
    sent = after[a.port]["rx_bytes"] - before[a.port]["rx_bytes"]
    assert sent > 10 * 1024 * 1024, sent
    assert s["drops"] == 0, s
    assert s["mirrored_bytes"] == sent, (s, sent)
    assert after[m.port]["tx_bytes"] - before[m.port]["tx_bytes"] >= sent


def test_mirror_change_that_cannot_be_published_changes_nothing(switch_unstarted):
    """A failed publish or commit leaves the sessions, stored and running, as they were."""
    sw = switch_unstarted
    sw.xvsd.extra = ["--test-faults"]
    sw.start()
    a, b, m = (sw.vm(r, ipv6=False) for r in "abm")
    sw.ctl("mirror", "add", "s1", f"src={a.port}", f"dst={m.port}", "dir=in")
    before = sw.ctl("mirror", "show")
    for point, msg in (("publish", "cannot publish"), ("commit", "commit failed")):
        r = sw.rpc({"method": "test.fault", "params": {"point": point, "count": 2}})
        assert "result" in r, r
        with pytest.raises(CtlError) as e:
            sw.ctl("mirror", "add", "s2", f"src={b.port}", f"dst={m.port}")
        assert msg in str(e.value)
        with pytest.raises(CtlError) as e:
            sw.ctl("mirror", "del", "s1")
        assert msg in str(e.value)
        r = sw.rpc({"method": "test.fault", "params": {"point": "none"}})["result"]
        assert r[point]["fired"] >= 2, r
        assert sw.ctl("mirror", "show") == before
    sw.restart()
    assert [s["name"] for s in sw.ctl("mirror", "show")["mirrors"]] == ["s1"]


def test_mirror_copies_what_a_guard_then_drops(switch):
    """Ingress copies are taken before the filters: a frame from a spoofed source
    that mac_spoof drops still reaches the mirror destination, and nobody else."""
    scapy_or_skip()
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    a = switch.vm("a", ipv6=False, mac_spoof=None)   # xvsd's default: on
    b, m = switch.vm("b", ipv6=False), switch.vm("m", ipv6=False)
    switch.ctl("mirror", "add", "s1", f"src={a.port}", f"dst={m.port}", "dir=in")
    spoof = "02:99:99:99:99:01"
    frames = [Ether(src=spoof, dst="ff:ff:ff:ff:ff:ff", type=0x88b5) / Raw(b"spoofed" * 8)
              for _ in range(3)]
    sm, sb = m.sniff(src=[spoof]), b.sniff(src=[spoof])
    a.send(frames)
    assert len(sm.stop()) == 3   # the copies; the frames themselves were dropped
    assert sb.stop() == []
    assert switch.stats(a.port)["drops"]["policy"] == 3
    assert switch.ctl("mirror", "show", "s1")["mirrors"][0]["mirrored_packets"] == 3
