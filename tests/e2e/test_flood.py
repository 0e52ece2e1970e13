# SPDX-License-Identifier: BSD-3-Clause
"""Flooding must not let one port's storm starve the others.

  ns a: broadcast storm   ns b: ping c   ns c: ping b, broadcasts   ns d, e, f: listen
   [a] 10.77.0.1           [b] .2         [c] .3                     [d] .4 [e] .5 [f] .6
    | tap                   | tap          | tap                      | tap    | tap    | tap
  +-+-----------------------+--------------+--------------------------+--------+--------+--+
  |                      xvsd (ns xe<sfx>sw), --tap-mbufs 64                               |
  +----------------------------------------------------------------------------------------+

Every tap reads a frame into one 64 KB mbuf of the tap read pool. A broadcast from
a goes to 5 ports: 4 copies and the original. When the copies came from the frame's
own pool (the tap read pool), a storm from one VM held copies of a whole burst at
once and emptied it: copies of a's frames and of the other VMs' own broadcasts
(ARP, DHCP) found no mbuf (copy_failed), and their reads could fall back to 2 KB
chains. The
pool is kept small here so that what a storm does to the default one happens
within a few seconds of one Python sender.
"""
import json
import re
import subprocess
import threading
import time

import pytest

from conftest import AGENT, PYTHON, need_tool


@pytest.mark.serial
def test_broadcast_storm_does_not_starve_other_ports(switch_unstarted):
    sw = switch_unstarted
    sw.xvsd.extra += ["--tap-mbufs", "64"]
    sw.start()
    a = sw.vm("a", ipv6=False)
    b, c = sw.vm("b", ipv6=False), sw.vm("c", ipv6=False)
    d, e, f = (sw.vm(r, ipv6=False) for r in "def")
    b.ping(c, count=2)
    others = ("b", "c", "d", "e", "f")
    before = sw.stats()
    frame = bytes.fromhex("ffffffffffff" + a.mac.replace(":", "") + "88b5") + b"s" * 1000
    storm = sw.spawn(a.ns, [PYTHON, AGENT, "storm", a.ifname, "--seconds", "4"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    storm.stdin.write(frame.hex())
    storm.stdin.close()
    # c's own broadcasts during the storm: copied for 4 ports each, like a's
    bcast = [bytes.fromhex("ffffffffffff" + c.mac.replace(":", "") + "88b6") +
             f"c-{i:03d}".encode().ljust(60, b".") for i in range(100)]
    pinger = sw.spawn(b.ns, ["ping", "-q", "-n", "-c", "100", "-i", "0.02", "-W", "1", c.ip4],
                      stdout=subprocess.PIPE, text=True)
    c.send(bcast, gap=0.02)
    ping_out, _ = pinger.communicate(timeout=30)
    rep = json.loads(storm.stdout.read())
    storm.wait(15)
    after = sw.stats()
    assert rep["sent"] > 10000, rep
    assert after["a"]["flooded"] - before["a"]["flooded"] > 10000, after["a"]
    assert after["c"]["flooded"] - before["c"]["flooded"] >= 100, after["c"]
    # What the switch lost for want of buffers, on every other port: nothing. (The
    # VMs' kernels may still drop some of the storm on their side: a tap write
    # lands in a per-CPU backlog of 1000 frames; that is not the switch's doing.)
    for n in others:
        for k in ("dev_rx_reads_chained", "dev_rx_missed"):
            assert after[n][k] == before[n][k], \
                f"{n}: {k} {before[n][k]} -> {after[n][k]} during a's storm ({rep})"
        d = {k: after[n]["drops"][k] - before[n]["drops"][k] for k in ("copy_failed", "tx_error")}
        assert d == {"copy_failed": 0, "tx_error": 0}, (n, d, rep)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", ping_out)
    assert m and int(m.group(2)) >= 90, f"b -> c lost pings during a's storm: {ping_out}"


def test_flooded_tso_frames_reach_a_port_without_offloads(switch):
    """A TCP stream from a tap VM to an uplink while its FDB entries keep being
    flushed: 64 KB TSO frames are flooded to the uplink and to a third VM, the
    copies (from the flood pools, in 9 KB pieces) are segmented in software for
    the AF_PACKET uplink, and nothing is lost for want of a buffer or a segmentation."""
    need_tool("iperf3")
    a = switch.vm("a", ipv6=False)
    switch.vm("c", ipv6=False)
    up = switch.uplink("up", ipv6=False)
    srv = switch.spawn(up.ns, ["iperf3", "-s", "-1"])
    time.sleep(0.5)
    stop = threading.Event()

    def flusher():
        while not stop.is_set():
            switch.ctl("fdb", "flush")
            time.sleep(0.05)

    t = threading.Thread(target=flusher)
    t.start()
    try:
        r = a.run(["iperf3", "-c", up.ip4, "-t", "3", "-J"], check=False, timeout=30)
    finally:
        stop.set()
        t.join()
    srv.wait(10)
    assert r.returncode == 0, r.stdout[-1500:] + r.stderr
    got = json.loads(r.stdout)["end"]["sum_received"]["bytes"]
    st = switch.stats()
    assert got > 1024 * 1024, got
    assert st["a"]["flooded"] > 10, st["a"]
    for n in ("up", "c"):
        assert st[n]["drops"]["copy_failed"] == 0 and st[n]["drops"]["offload_failed"] == 0, \
            (n, st[n]["drops"])
