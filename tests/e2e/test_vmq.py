# SPDX-License-Identifier: BSD-3-Clause
"""VMQ: software receive queues on an uplink (doc/vmq.md, issue 14).

   ns up [up] --veth-- (afpacket "up", vmq-queues=N) +-------------------------+
                                                      | xvsd, 2 workers (0, 1)  |
   ns a  [a] --tap (mac, vmq-weight 100)------------- |  up's poller classifies |
   ns b  [b] --tap (mac, vmq-weight 100)------------- |  by dst MAC + VLAN and  |
   ns c  [c] --tap (mac, vmq-weight 0)--------------- |  hands a queue's frames |
                                                      |  to the queue's worker  |
                                                      +-------------------------+
VMMQ: a VM port with vmmq-queues=N asks for N queues; its flows spread over
them by Toeplitz hash, each flow in order on one.

The pool is first come, first served: with vmq-queues=1, a (added first) gets
queue 1 and b shares the default queue, reported as exhausted; deleting a
hands the queue to b. Frames to a VM with a queue are run by the queue's
worker (per-worker vmq counters, per-queue counters) and cross without loss
or reordering, also while the queue changes hands (sequence-numbered stream).
"""
import struct
import threading

import pytest

from conftest import CtlError, scapy_or_skip, wait_for
from test_queue import sw2  # noqa: F401  (fixture: two workers on CPUs 0 and 1)

# serial: loss-free sequence-numbered streams through taps; they run alone (scripts/test.sh)
pytestmark = pytest.mark.serial

MAGIC = b"XVSVMQ"
N = 300


def vmq(sw, uplink):
    return sw.ctl("vmq", "show", uplink)["uplinks"][0]


def owners(v):
    return {q["queue"]: q.get("owner") for q in v["queues"]}


def shared(v):
    return {d["port"]: d["reason"] for d in v["default_queue"]}


def workers(sw):
    return {w["worker"]: w for w in sw.ctl("worker", "stats")["workers"]}


def seq_frames(src, dst, n, start=0):
    from scapy.layers.l2 import Ether
    return [Ether(src=src, dst=dst, type=0x88b5) / (MAGIC + struct.pack("!I", i)) /
            (b"v" * 50) for i in range(start, start + n)]


def seqs(frames):
    out = []
    for f in frames:
        p = f[14:]
        if p.startswith(MAGIC):
            out.append(struct.unpack("!I", p[len(MAGIC):len(MAGIC) + 4])[0])
    return out


def learn(*vms):
    # each VM sends once, so that frames to it are unicast, not flooded
    from scapy.layers.l2 import Ether
    for v in vms:
        v.send([Ether(src=v.mac, dst="ff:ff:ff:ff:ff:ff", type=0x88b6) / (b"l" * 50)])


def test_vmq_first_come_default_queue_and_handover(sw2):
    scapy_or_skip()
    sw2.expect_log(r"vmq: up: no free queue for b ")
    up = sw2.uplink("up", ipv6=False, opts=["vmq-queues=1"])
    a = sw2.vm("a", ipv6=False)
    b = sw2.vm("b", ipv6=False)
    learn(a, b)
    v = vmq(sw2, "up")
    assert v["vmq_queues"] == 1, v
    assert owners(v) == {1: "a"}, v
    q = v["queues"][0]
    assert q["mac"] == a.mac and q["vlan"] == 1 and q["filter"] == "software", q
    assert q["filter_note"], q   # why no NIC filter: af_packet takes no rte_flow rule
    assert v["filter_fallbacks"] == 1, v
    assert shared(v) == {"b": "exhausted"} and v["exhausted"] == 1, v
    # the human table says the same
    argv, p = sw2.xvsd.ctl_proc("vmq", "show", "up", json_out=False)
    assert p.returncode == 0 and "default queue (exhausted)" in p.stdout, p.stdout
    assert a.mac in p.stdout and "software" in p.stdout, p.stdout

    # frames to a: run by the queue's worker, all of them, in order
    qw = q["worker"]
    poller = sw2.ctl("queue", "show", "up")["queues"][0]["worker"]
    w0 = workers(sw2)
    sn = a.sniff(src=[up.mac], seconds=30)
    up.send(seq_frames(up.mac, a.mac, N), gap=0.0005)
    got = seqs(sn.stop(grace=1.0))
    assert got == list(range(N)), (len(got), [x for i, x in enumerate(got) if x != i][:5],
                                   {k: (s["rx_packets"], s["tx_packets"],
                                        {d: c for d, c in s["drops"].items() if c},
                                        {d: c for d, c in s.items() if d.startswith("dev_")})
                                    for k, s in sw2.stats().items()}, workers(sw2))
    wait_for(lambda: owners(vmq(sw2, "up")) and
             vmq(sw2, "up")["queues"][0]["rx_packets"] >= N, 5, what="queue counters")
    q1 = vmq(sw2, "up")["queues"][0]
    assert q1["rx_packets"] == N and q1["rx_bytes"] == N * 74, q1
    w1 = workers(sw2)
    assert w1[qw]["vmq_in"] - w0[qw]["vmq_in"] == N, (qw, w0, w1)
    if qw != poller:
        assert w1[poller]["vmq_out"] - w0[poller]["vmq_out"] == N, (poller, w0, w1)
        assert q1["busy_cycles"] > 0, q1
    # frames to b (default queue) are not the queue's
    up.send(seq_frames(up.mac, b.mac, 20))
    wait_for(lambda: sw2.stats("b")["tx_packets"] >= 20, 5, what="b's frames")
    assert vmq(sw2, "up")["queues"][0]["rx_packets"] == N

    # a goes: its queue goes to b, which was waiting; b's stream crosses the
    # change of queue without loss or reordering
    pauses = vmq(sw2, "up")["pauses"]
    sn = b.sniff(src=[up.mac], seconds=60)
    frames = seq_frames(up.mac, b.mac, 2000, start=0)
    t = threading.Thread(target=lambda: up.send(frames, gap=0.0005))
    t.start()
    sw2.ctl("port", "del", "a")
    sw2.hosts.pop("a")
    t.join(60)
    got = seqs(sn.stop(grace=1.0))
    assert got == list(range(2000)), [x for i, x in enumerate(got) if x != i][:20]
    v = vmq(sw2, "up")
    assert owners(v) == {1: "b"} and shared(v) == {}, v
    assert v["queues"][0]["mac"] == b.mac, v
    # the change was fenced: up paused for one publication while the rings drained
    # (a reordering without it needs an unlucky race: this is what makes it certain)
    assert v["pauses"] == pauses + 1, v

    # the options survive a restart, and the pool is rebuilt from them
    sw2.restart()
    assert sw2.ports()["up"]["options"]["vmq-queues"] == "1"
    assert sw2.ports()["b"]["options"]["vmq-weight"] == "100"
    assert owners(vmq(sw2, "up")) == {1: "b"}


def test_vmq_weight_zero_never_gets_a_queue(sw2):
    scapy_or_skip()
    sw2.uplink("up", ipv6=False, opts=["vmq-queues=2"])
    c = sw2.vm("c", ipv6=False, opts=["vmq-weight=0"])
    v = vmq(sw2, "up")
    assert owners(v) == {1: None, 2: None}, v
    assert shared(v) == {"c": "weight-0"} and v["exhausted"] == 0, v
    # a VM without a MAC has nothing to filter on
    sw2.ctl("port", "add", "d", "tap", "ifname=" + sw2.names.dev("d"))
    assert shared(vmq(sw2, "up")) == {"c": "weight-0", "d": "no-mac"}
    # weight up: it asks, and gets one; weight back to 0: it gives it back
    sw2.ctl("port", "set", "c", "vmq-weight=50")
    v = vmq(sw2, "up")
    assert owners(v) == {1: "c", 2: None} and "c" not in shared(v), v
    sw2.ctl("port", "set", "c", "vmq-weight=0")
    v = vmq(sw2, "up")
    assert owners(v) == {1: None, 2: None} and shared(v)["c"] == "weight-0", v
    # more queues than VMs asking: the pool size follows vmq-queues
    sw2.ctl("port", "set", "up", "vmq-queues=0")
    v = vmq(sw2, "up")
    assert v["vmq_queues"] == 0 and v["queues"] == [], v


@pytest.mark.parametrize("port,opt", [
    ("c", "vmq-weight=101"), ("c", "vmq-weight=-1"), ("c", "vmq-weight=x"),
    ("c", "vmq-queues=1"), ("up", "vmq-queues=129"), ("up", "vmq-weight=5"),
    ("c", "vmmq-queues=0"), ("c", "vmmq-queues=17"), ("up", "vmmq-queues=2"),
])
def test_vmq_bad_values_refused(switch, port, opt):
    switch.uplink("up", ipv6=False, opts=["vmq-queues=1"])
    switch.vm("c", ipv6=False)
    before = switch.ports()[port]["options"]
    with pytest.raises(CtlError) as e:
        switch.ctl("port", "set", port, opt)
    assert opt.split("=")[0] in e.value.proc.stderr, e.value.proc.stderr
    assert switch.ports()[port]["options"] == before
    assert owners(vmq(switch, "up")) == {1: "c"}


def test_vmq_bad_requests_refused(switch):
    switch.uplink("up", ipv6=False, opts=["vmq-queues=1"])
    with pytest.raises(CtlError) as e:
        switch.ctl("port", "add", "c", "tap", "vmq-weight=101")
    assert "vmq-weight" in e.value.proc.stderr
    assert "c" not in switch.ports()
    switch.vm("c", ipv6=False)
    for name, msg in (("c", "not an uplink"), ("nope", "no port named")):
        with pytest.raises(CtlError) as e:
            switch.ctl("vmq", "show", name)
        assert msg in e.value.proc.stderr, e.value.proc.stderr
    assert owners(vmq(switch, "up")) == {1: "c"}


def test_vmmq_spreads_flows_over_its_queues(sw2):
    """vmmq-queues=2: a gets two queues of up's pool; its flows spread over them by
    Toeplitz hash, each flow in order on one queue."""
    scapy_or_skip()
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    up = sw2.uplink("up", ipv6=False, opts=["vmq-queues=3"])
    a = sw2.vm("a", ipv6=False, opts=["vmmq-queues=2"])
    learn(a)
    v = vmq(sw2, "up")
    assert owners(v) == {1: "a", 2: "a", 3: None}, v
    assert sorted(q["owner_queue"] for q in v["queues"][:2]) == [0, 1], v
    flows, per_flow = 16, 20
    frames = [Ether(src=up.mac, dst=a.mac) /
              IP(src=f"10.77.1.{f + 1}", dst=a.ip4) / UDP(sport=1000 + f, dport=9) /
              (MAGIC + struct.pack("!HH", f, s)) for s in range(per_flow) for f in range(flows)]
    sn = a.sniff(src=[up.mac], seconds=30)
    up.send(frames, gap=0.0005)
    got = {}
    for raw in sn.stop(grace=1.0):
        p = bytes(Ether(raw)[UDP].payload) if Ether(raw).haslayer(UDP) else b""
        if p.startswith(MAGIC):
            f, s = struct.unpack("!HH", p[len(MAGIC):len(MAGIC) + 4])
            got.setdefault(f, []).append(s)
    assert sorted(got) == list(range(flows)), got
    for f, s in got.items():
        assert s == list(range(per_flow)), (f, s)
    wait_for(lambda: sum(q.get("rx_packets", 0) for q in vmq(sw2, "up")["queues"]) >=
             flows * per_flow, 5, what="queue counters")
    qs = vmq(sw2, "up")["queues"]
    assert qs[0]["rx_packets"] + qs[1]["rx_packets"] == flows * per_flow, qs
    assert qs[0]["rx_packets"] > 0 and qs[1]["rx_packets"] > 0, qs
    # one queue asked for: the second goes back to the pool
    sw2.ctl("port", "set", "a", "vmmq-queues=1")
    v = vmq(sw2, "up")
    assert owners(v) == {1: "a", 2: None, 3: None}, v
