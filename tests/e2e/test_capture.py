# SPDX-License-Identifier: BSD-3-Clause
"""xvsctl capture: a port's frames into a pcapng file that tshark and scapy read.

  ns a: ping b        ns b
   [a] 10.77.0.1       [b] .2
    | tap               | tap
  +-+-------------------+---+
  |   xvsd (ns xe<sfx>sw)   |      capture on port a -> tmp_path/*.pcapng
  +-------------------------+

dir=in holds what a sends into the switch (its echo requests, pcapng
direction "inbound"), dir=out what the switch sends to a (the replies,
"outbound"). A size limit or a packet count stops the capture by itself; a
stop in the middle of traffic leaves a whole file.
"""
import os
import subprocess
import time

import pytest

from conftest import CtlError, need_tool, scapy_or_skip, wait_for

PINGS = 5


def tshark_rows(path, *fields, display="icmp"):
    """tshark's fields of every frame matching display; fails on a damaged file."""
    tshark = need_tool("tshark")
    argv = [tshark, "-n", "-r", str(path), "-T", "fields"]
    for f in fields:
        argv += ["-e", f]
    if display:
        argv += ["-Y", display]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "cut short" not in p.stderr and "appears to be damaged" not in p.stderr, p.stderr
    return [line.split("\t") for line in p.stdout.splitlines() if line]


def scapy_frames(path):
    import scapy.layers.inet  # noqa: F401 - so that Ether dissects IP
    from scapy.utils import PcapNgReader

    with PcapNgReader(str(path)) as r:
        return list(r)


def icmp(frames, src, dst, icmp_type):
    from scapy.layers.inet import ICMP, IP

    return sum(1 for p in frames if IP in p and ICMP in p and p[IP].src == src.ip4
               and p[IP].dst == dst.ip4 and p[ICMP].type == icmp_type)


def pair(sw):
    """VMs a and b, past ARP and learning; skips without scapy or tshark."""
    scapy_or_skip()
    need_tool("tshark")
    a, b = sw.vm("a", ipv6=False), sw.vm("b", ipv6=False)
    a.ping(b, count=1)
    return a, b


def capture(sw, port, path, *opts):
    return sw.ctl("capture", "start", port, str(path), *opts)


def shown(sw, port):
    return next(c for c in sw.ctl("capture", "show")["captures"] if c["port"] == port)


@pytest.mark.parametrize("direction", ["both", "in", "out"])
def test_capture_ping_exchange(switch, tmp_path, direction):
    a, b = pair(switch)
    path = tmp_path / f"a-{direction}.pcapng"
    r = capture(switch, a.port, path, f"dir={direction}")
    assert r["state"] == "running" and r["dir"] == direction, r
    a.ping(b, count=PINGS, interval=0.1)
    r = switch.ctl("capture", "stop", a.port)
    assert r["state"] == "stopped" and r["reason"] == "stopped", r
    assert r["drops"] == 0 and r["bytes"] == os.path.getsize(path), r
    want_req = PINGS if direction in ("in", "both") else 0
    want_rep = PINGS if direction in ("out", "both") else 0
    # tshark: one interface, named after the port; requests inbound, replies outbound
    rows = tshark_rows(path, "frame.interface_name", "icmp.type",
                       "frame.packet_flags_direction", "ip.src")
    assert sorted(set(x[0] for x in rows)) == ([a.port] if rows else []), rows
    req = [x for x in rows if x[1] == "8" and x[3] == a.ip4]
    rep = [x for x in rows if x[1] == "0" and x[3] == b.ip4]
    assert len(req) == want_req and len(rep) == want_rep, rows
    assert all(int(x[2], 0) == 1 for x in req), req      # inbound
    assert all(int(x[2], 0) == 2 for x in rep), rep      # outbound
    # scapy reads the same frames
    frames = scapy_frames(path)
    assert icmp(frames, a, b, 8) == want_req and icmp(frames, b, a, 0) == want_rep
    assert len(frames) == r["packets"]
    # timestamps are wall-clock time
    assert all(abs(float(p.time) - time.time()) < 120 for p in frames), \
        [float(p.time) for p in frames]


def test_capture_limits_stop_cleanly(switch, tmp_path):
    a, b = pair(switch)
    size = tmp_path / "size.pcapng"
    capture(switch, a.port, size, "limit=2k")
    a.ping(b, count=30, interval=0.02)
    wait_for(lambda: shown(switch, a.port)["state"] == "stopped", 5, what="size limit")
    c = shown(switch, a.port)
    assert c["reason"] == "size limit reached", c
    assert os.path.getsize(size) == c["bytes"] <= 2048, c
    assert len(tshark_rows(size, "frame.number", display="")) == c["packets"] > 0
    assert len(scapy_frames(size)) == c["packets"]
    # a packet count, and a new capture on the same port replaces the finished one
    count = tmp_path / "count.pcapng"
    capture(switch, a.port, count, "count=3", "dir=in")
    a.ping(b, count=3, interval=0.05)   # no frame after the third: stops all the same
    wait_for(lambda: shown(switch, a.port)["state"] == "stopped", 5, what="count")
    c = shown(switch, a.port)
    assert c["reason"] == "count reached" and c["packets"] == 3, c
    assert len(tshark_rows(count, "frame.number", display="")) == 3
    with pytest.raises(CtlError) as e:
        switch.ctl("capture", "stop", a.port)
    assert "no capture running" in str(e.value)


def test_capture_stop_mid_traffic_leaves_valid_file(switch, tmp_path):
    a, b = pair(switch)
    path = tmp_path / "mid.pcapng"
    capture(switch, a.port, path)
    pinger = switch.spawn(a.ns, ["ping", "-q", "-n", "-c", "2000", "-i", "0.002", b.ip4])
    time.sleep(1.0)
    r = switch.ctl("capture", "stop", a.port)
    pinger.terminate()  # the rest of its 4 s would change nothing the test looks at
    pinger.wait(30)
    assert r["packets"] > 100, r
    assert r["packets"] + r["drops"] >= r["captured"], r
    assert os.path.getsize(path) == r["bytes"]
    assert len(tshark_rows(path, "frame.number", display="")) == r["packets"]
    assert len(scapy_frames(path)) == r["packets"]


def test_capture_refuses_bad_requests(switch, tmp_path):
    a = switch.vm("a", ipv6=False)
    bad = [
        (("nosuch", str(tmp_path / "x.pcapng")), 'no port named "nosuch"'),
        ((a.port, "relative.pcapng"), "give an absolute path"),
        ((a.port, "/nonexistent-xvs-dir/x.pcapng"), "does not exist"),
        ((a.port, str(tmp_path) + "/"), "names a directory"),
        ((a.port, str(tmp_path)), "not a regular file"),
        ((a.port, "/proc/xvs.pcapng"), "capture file /proc/xvs.pcapng"),
        ((a.port, str(tmp_path / "x.pcapng"), "dir=up"), "must be in, out or both"),
        ((a.port, str(tmp_path / "x.pcapng"), "limit=10"), "at least 1024 bytes"),
        ((a.port, str(tmp_path / "x.pcapng"), "count=0"), "at least 1"),
        ((a.port, str(tmp_path / "x.pcapng"), "snap=1"), 'unknown option "snap"'),
    ]
    for args, msg in bad:
        with pytest.raises(CtlError) as e:
            switch.ctl("capture", "start", *args)
        assert msg in str(e.value), (args, str(e.value))
    assert switch.ctl("capture", "show")["captures"] == []
    assert not (tmp_path / "x.pcapng").exists()
    with pytest.raises(CtlError) as e:
        switch.ctl("capture", "stop", a.port)
    assert "no capture running" in str(e.value)
    capture(switch, a.port, tmp_path / "one.pcapng")
    with pytest.raises(CtlError) as e:
        capture(switch, a.port, tmp_path / "two.pcapng")
    assert "already captured" in str(e.value)
    switch.ctl("capture", "stop", a.port)


def test_capture_ends_when_its_port_is_deleted(switch, tmp_path):
    a, b = pair(switch)
    path = tmp_path / "gone.pcapng"
    capture(switch, a.port, path)
    a.ping(b, count=2, interval=0.1)
    switch.ctl("port", "del", a.port)
    wait_for(lambda: shown(switch, a.port)["state"] == "stopped", 5, what="capture stop")
    c = shown(switch, a.port)
    assert c["reason"] == "port deleted" and c["packets"] >= 4, c
    assert len(tshark_rows(path, "frame.number", display="")) == c["packets"]
