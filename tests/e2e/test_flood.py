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
once and emptied it: the other VMs' own broadcasts (ARP, DHCP) then found no mbuf
for their copies (copy_failed), and their reads fell back to 2 KB chains. The
pool is kept small here so that what a storm does to the default one happens
within a few seconds of one Python sender.
"""
import json
import re
import subprocess

from conftest import AGENT, PYTHON


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
    # c's own broadcasts during the storm: each must reach every other VM
    bcast = [bytes.fromhex("ffffffffffff" + c.mac.replace(":", "") + "88b6") +
             f"c-{i:03d}".encode().ljust(60, b".") for i in range(100)]
    sniffers = {h.port: h.sniff(src=[c.mac], seconds=15) for h in (b, d, e, f)}
    pinger = sw.spawn(b.ns, ["ping", "-q", "-n", "-c", "100", "-i", "0.02", "-W", "1", c.ip4],
                      stdout=subprocess.PIPE, text=True)
    c.send(bcast, gap=0.02)
    ping_out, _ = pinger.communicate(timeout=30)
    rep = json.loads(storm.stdout.read())
    storm.wait(15)
    got = {p: [x for x in s.stop(grace=0.3) if x[12:14] == b"\x88\xb6"]
           for p, s in sniffers.items()}
    after = sw.stats()
    assert rep["sent"] > 10000, rep
    assert after["a"]["flooded"] - before["a"]["flooded"] > 10000, after["a"]
    lost = {p: 100 - len(g) for p, g in got.items() if len(g) != 100}
    assert not lost, f"c's broadcasts lost during a's storm: {lost}; " \
        f"copy_failed: { {n: after[n]['drops']['copy_failed'] for n in others} }"
    for n in others:
        for k in ("dev_rx_reads_chained", "dev_rx_missed"):
            assert after[n][k] == before[n][k], \
                f"{n}: {k} {before[n][k]} -> {after[n][k]} during a's storm ({rep})"
        assert after[n]["drops"]["copy_failed"] == 0, (n, after[n]["drops"])
    m = re.search(r"(\d+) packets transmitted, (\d+) received", ping_out)
    assert m and m.group(1) == m.group(2), f"b -> c lost pings during a's storm: {ping_out}"
