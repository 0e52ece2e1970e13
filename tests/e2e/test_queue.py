# SPDX-License-Identifier: BSD-3-Clause
"""Rx queues as objects: queue.show / `xvsctl queue show`, per-queue counters and
busy cycles, the queue -> worker placement, and per-queue busy in `xvsctl top`.

   ns a [a] --tap-- +------------------+ --tap-- [b] ns b
                    |  xvsd (1 worker) | --tap-- [c] ns c
                    +------------------+
   a sends frames to b: only queue a/0 may count them and their busy cycles.

   ns m [m] --tap, queues=2-- +---------------------------+ --tap-- [n] ns n
                              | xvsd (2 workers, CPUs 0,1) |
                              +---------------------------+
   rss-profile=static: one queue per worker; rss queues=1 leaves m/1 idle.
"""
import os
import re
import subprocess

import pytest

from conftest import scapy_or_skip, wait_for

WORKERS = ["--workers", "2", "--cpus", "0,1"]
N = 300


def queues(sw, port=None):
    r = sw.ctl("queue", "show", *([port] if port else []))
    return {(q["port"], q["queue"]): q for q in r["queues"]}


def test_traffic_counts_on_its_queue_only(switch):
    scapy_or_skip()
    from scapy.layers.l2 import Ether

    a, b, c = (switch.vm(n, ipv6=False) for n in ("a", "b", "c"))
    a.ping(b, count=1)
    q0 = queues(switch)
    assert set(q0) == {("a", 0), ("b", 0), ("c", 0)}, q0
    for q in q0.values():
        assert q["state"] == "polled" and q["worker"] == 0, q
        for k in ("rx_packets", "rx_bytes", "polls", "empty_polls", "busy_cycles"):
            assert isinstance(q[k], int) and q[k] >= 0, (k, q)
    assert q0[("a", 0)]["rx_packets"] >= 1 and q0[("a", 0)]["busy_cycles"] > 0, q0

    a.send([Ether(src=a.mac, dst=b.mac, type=0x88b5) / (b"q" * 100)] * N)
    wait_for(lambda: queues(switch, "a")[("a", 0)]["rx_packets"] >=
             q0[("a", 0)]["rx_packets"] + N, 5, what="a's frames counted on a/0")
    q1 = queues(switch)
    qa0, qa1 = q0[("a", 0)], q1[("a", 0)]
    assert qa1["rx_packets"] - qa0["rx_packets"] == N, (qa0, qa1)
    assert qa1["rx_bytes"] - qa0["rx_bytes"] == N * 114, (qa0, qa1)
    assert qa1["busy_cycles"] > qa0["busy_cycles"], (qa0, qa1)
    assert qa1["polls"] - qa1["empty_polls"] > qa0["polls"] - qa0["empty_polls"], (qa0, qa1)
    # nobody else received, or spent busy cycles
    for k in (("b", 0), ("c", 0)):
        for f in ("rx_packets", "busy_cycles"):
            assert q1[k][f] == q0[k][f], (k, f, q0[k], q1[k])
    # the port's own counters agree with its queue's
    assert switch.stats("a")["rx_packets"] == qa1["rx_packets"]

    # the human table: one row per queue with its worker and state
    out = switch.xvsd.ctl_proc("queue", "show", json_out=False)[1].stdout
    lines = out.splitlines()
    assert lines[0].split() == ["PORT", "QUEUE", "WORKER", "RX_PACKETS", "PPS", "BUSY%",
                                "STATE"], out
    rows = {tuple(l.split()[:2]): l.split() for l in lines[1:]}
    assert rows[("a", "0")][2] == "0" and rows[("a", "0")][-1] == "polled", out
    assert int(rows[("a", "0")][3]) == qa1["rx_packets"], out
    # top: every queue with its busy share
    top = switch.xvsd.ctl_proc("top", "--once", json_out=False)[1].stdout
    assert re.search(r"\ba/0:\d+%", top), top


def test_unknown_port_is_an_error(switch):
    switch.vm("a", ipv6=False)
    r = switch.rpc({"method": "queue.show", "params": {"name": "nope"}})
    assert r["error"]["code"] == "ENOENT" and "nope" in r["error"]["message"], r
    argv, p = switch.xvsd.ctl_proc("queue", "show", "nope")
    assert p.returncode == 1 and "no port named" in p.stderr, (p.stdout, p.stderr)


@pytest.fixture
def sw2(switch_unstarted):
    if (os.cpu_count() or 1) < 2:
        pytest.skip("two CPUs are needed for two workers")
    switch_unstarted.xvsd.extra += WORKERS
    switch_unstarted.start()
    return switch_unstarted


def test_placement_view_follows_rss(sw2):
    m = sw2.vm("m", ipv6=False, opts=["queues=2", "rss-profile=static"])
    n = sw2.vm("n", ipv6=False)
    qs = queues(sw2, "m")
    assert sorted(qs) == [("m", 0), ("m", 1)], qs
    rss = sw2.ctl("rss", "show", "m")["ports"][0]
    placed = {q: w for q, w in rss["queue_workers"]}
    assert sorted(placed.values()) == [0, 1], rss
    wk = {w["worker"]: w for w in sw2.ctl("worker", "stats")["workers"]}
    for (_, q), v in qs.items():
        assert v["state"] == "polled" and v["worker"] == placed[q], (qs, rss)
        assert f"m/{q}" in wk[v["worker"]]["queues"], wk
        assert len(wk[v["worker"]]["queue_busy_pct"]) == len(wk[v["worker"]]["queues"])
    m.ping(n, count=2, interval=0.05)

    sw2.ctl("rss", "set", "m", "queues=1")
    qs = queues(sw2, "m")
    assert qs[("m", 0)]["state"] == "polled" and qs[("m", 0)]["worker"] is not None, qs
    assert qs[("m", 1)]["state"] == "idle" and qs[("m", 1)]["worker"] is None, qs
    m.ping(n, count=2, interval=0.05)


@pytest.mark.serial
def test_worker_busy_is_its_queues_plus_overhead(switch, tmp_path):
    """A pcap replayed forever keeps the one worker 100 % busy: the replaying
    queue's busy share is most of it, the null port's (nothing to receive) none,
    and the queues' sum never exceeds the worker's."""
    scapy_or_skip()
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    wrpcap(str(tmp_path / "r.pcap"),
           [Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02", type=0x88b5) / (b"r" * 46)])
    switch.ctl("port", "add", "sink", "null")
    switch.ctl("fdb", "add", "02:00:00:00:01:02", "vlan=1", "port=sink")
    switch.ctl("port", "add", "src", "pcap", f"path={tmp_path / 'r.pcap'}", "infinite=on")

    def settled():
        w = switch.ctl("worker", "stats")["workers"][0]
        q = queues(switch)
        # the first tick after the add may cover the replay's first moment only
        return (w, q) if w["busy_pct"] > 90 and q[("src", 0)]["busy_pct"] > 50 else None

    w, q = wait_for(settled, 10, interval=0.3, what="worker busy with the replay")
    src, sink = q[("src", 0)], q[("sink", 0)]
    assert src["pps"] > 0 and sink["busy_pct"] == 0.0 and sink["rx_packets"] == 0, q
    total = sum(v["busy_pct"] for v in q.values())
    # one tick's sample each; the worker's share is over its own cycles
    assert total <= w["busy_pct"] + 5.0, (w, q)
    assert 0.0 < dict(zip(w["queues"], w["queue_busy_pct"]))["src/0"] <= 101.0, w
    print(f"worker busy {w['busy_pct']:.1f} %, src/0 {src['busy_pct']:.1f} %, "
          f"{src['pps'] / 1e6:.2f} Mpps")
    switch.ctl("port", "del", "src")


def test_vhost_queue_polled_only_with_a_guest(switch):
    """A vhost-user queue without a guest can have no frames: its worker leaves it
    out of its poll list (a thousand of them cost every turn, bench/ports1000.py
    --mem), so its polls stay 0 while other ports carry frames and the worker
    sleeps and wakes. A guest attaching is announced to the workers
    (xvs_dp_rxq_changed) with no new snapshot, and its queue is polled from then
    on; once the guest is gone, no longer."""
    from test_vhost import _testpmd, _testpmd_stop

    a, b = switch.vm("a", ipv6=False), switch.vm("b", ipv6=False)
    vsock = switch.tmp / "vq.sock"
    switch.ctl("port", "add", "vq", "vhost", f"path={vsock}")
    a.ping(b, count=3, interval=0.1)
    q = queues(switch, "vq")[("vq", 0)]
    assert q["state"] == "polled" and q["polls"] == 0, q
    tp, _ = _testpmd(switch, "g", [f"net_virtio_user0,path={vsock},queues=1"],
                     ["--forward-mode=rxonly", "--total-num-mbufs=4096"])
    try:
        wait_for(lambda: queues(switch, "vq")[("vq", 0)]["polls"] > 0, 10,
                 what="the guest's queue polled")
    finally:
        _testpmd_stop(tp)
    wait_for(lambda: switch.ports()["vq"]["link"] == "down", 10, what="guest gone")
    p0 = queues(switch, "vq")[("vq", 0)]["polls"]
    a.ping(b, count=2, interval=0.1)
    assert queues(switch, "vq")[("vq", 0)]["polls"] == p0
