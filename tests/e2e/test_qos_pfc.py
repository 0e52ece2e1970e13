# SPDX-License-Identifier: BSD-3-Clause
"""Pause frames on a QoS uplink (doc/qos.md, "Pause frames"): 802.1Qbb PFC and
802.3x PAUSE received on the uplink are counted, consumed (never forwarded or
learned), and a paused priority's class is not scheduled until the pause ends
or a pause time of 0 resumes it. Checked with counters only (qos show: pfc_rx,
pause_rx, paused, the class's sent and queued frames): no rate, no timer
(the pause is 33.6 s at 1 Mbit/s; the test resumes it explicitly).

  ns a: [a] tap --- xvsd (1 worker) --- afpacket uplink u (qos=on link-rate=1M) --- [u]
"""
import struct

from conftest import scapy_or_skip, wait_for

PFC_SRC = "02:00:00:00:9f:01"   # never seen elsewhere: it must not be learned


def pfc(enable, quanta):
    """802.1Qbb PFC frame: opcode 0x0101, class-enable vector, 8 pause times."""
    from scapy.layers.l2 import Ether
    body = struct.pack("!HH8H", 0x0101, enable, *quanta)
    return Ether(dst="01:80:c2:00:00:01", src=PFC_SRC, type=0x8808) / (body + bytes(26))


def pause(quanta):
    """802.3x PAUSE frame: opcode 0x0001, one pause time."""
    from scapy.layers.l2 import Ether
    return Ether(dst="01:80:c2:00:00:01", src=PFC_SRC, type=0x8808) / (
        struct.pack("!HH", 0x0001, quanta) + bytes(42))


def test_qos_pfc_pauses_and_resumes_a_priority(switch):
    scapy_or_skip()
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    sw = switch
    a = sw.vm("a", ipv6=False)
    u = sw.uplink("u", ipv6=False)
    a.ping(u, count=1)
    sw.ctl("port", "set", u.port, "qos=on", "link-rate=1M")
    sw.ctl("qos", "class", "add", "voice", "match=udp dport 7777", "weight=1", "pcp=5")

    def port_qos():
        return sw.ctl("qos", "show", u.port)["ports"][0]

    def cls(name):
        return {c["name"]: c for c in port_qos()["classes"]}[name]

    sn = a.sniff(seconds=20, src=[PFC_SRC])
    # Pause priority 0 (the default flow: frames of classes without pcp=) for
    # 65535 quanta = 33.6 s at 1 Mbit/s (resumed explicitly below); priority 5
    # (voice) is not paused.
    q = [0] * 8
    q[0] = 0xFFFF
    u.send([pfc(0x01, q)])
    wait_for(lambda: port_qos()["pfc_rx"][0] == 1, timeout=5, what="pfc_rx[0] counted")
    p = port_qos()
    assert p["paused"] == [0], p
    assert p["pfc_rx"] == [1, 0, 0, 0, 0, 0, 0, 0], p

    d0, v0 = cls("default"), cls("voice")
    frames = [Ether(src=a.mac, dst=u.mac) / IP(src=a.ip4, dst=u.ip4) / UDP(sport=4000, dport=d)
              / (b"x" * 32) for d in [8888] * 10 + [7777] * 3]
    a.send(frames)
    # Voice (priority 5) goes; the default flow waits in its queue.
    wait_for(lambda: cls("voice")["sent_frames"] - v0["sent_frames"] == 3, timeout=5,
             what="the unpaused class sends")
    d1 = cls("default")
    assert d1["sent_frames"] == d0["sent_frames"], d1
    assert d1["queue_frames"] == 10, d1

    # The FIFOs hold at most a quarter of a pool's mbufs (the tap's frames come
    # from its 64 KB pool, 1023 by default): the rest is tail-dropped, counted.
    a.send(frames[:1] * 400)
    wait_for(lambda: cls("default")["offered_frames"] - d0["offered_frames"] == 410,
             timeout=10, what="410 frames offered")
    d2, p = cls("default"), port_qos()
    assert p["pool_limited"] > 0 and d2["dropped_frames"] - d0["dropped_frames"] == \
        p["pool_limited"], (d2, p)
    assert d2["queue_frames"] + p["pool_limited"] == 410 and d2["queue_frames"] < 400, d2
    queued = d2["queue_frames"]

    # A pause time of 0 for priority 0 resumes it at once.
    u.send([pfc(0x01, [0] * 8)])
    wait_for(lambda: cls("default")["sent_frames"] - d0["sent_frames"] == queued, timeout=10,
             what="the default flow resumes")
    p = port_qos()
    assert p["pfc_rx"][0] == 2 and p["paused"] == [], p

    # Classic 802.3x PAUSE: counted (time 0: nothing held).
    u.send([pause(0)])
    wait_for(lambda: port_qos()["pause_rx"] == 1, timeout=5, what="pause_rx counted")

    # Consumed: dropped as mac_control on the uplink, never flooded to a, never learned.
    st = sw.stats(u.port)
    assert st["drops"]["mac_control"] == 3, st["drops"]
    assert not [f for f in sn.stop() if f[12:14] == b"\x88\x08"]
    assert sw.fdb_entry(PFC_SRC) is None


def test_qos_pool_share_holds_for_all_owners(switch_unstarted):
    """The pool share bounds the FIFOs of every owner together: two workers,
    two paused QoS taps b and c (one owner each), 400 frames from a to each,
    all from a's tap pool (1023 mbufs): together they queue at most a
    quarter of it (each owner a half of the quarter, a single class: no fair
    part beyond it). Without the split each owner queued its own quarter."""
    scapy_or_skip()
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    from test_qos_ctl import start_two_owners

    sw = switch_unstarted
    a, b, c = start_two_owners(sw, "1M")

    def ports():
        return {p["port"]: p for p in sw.ctl("qos", "show")["ports"] if p.get("scheduled")}

    q = [0] * 8
    q[0] = 0xFFFF  # 33.6 s at 1 Mbit/s: resumed below
    for v in (b, c):
        v.send([pfc(0x01, q)])
    wait_for(lambda: all(p["paused"] == [0] for p in ports().values()), timeout=5,
             what="both ports paused")

    def offered():
        return sum(k["offered_frames"] for p in ports().values() for k in p["classes"])

    o0 = offered()
    a.send([Ether(src=a.mac, dst=v.mac) / IP(src=a.ip4, dst=v.ip4) / UDP(sport=4000, dport=9)
            / (b"x" * 32) for v in (b, c)] * 400)
    wait_for(lambda: offered() - o0 == 800, timeout=10, what="800 frames offered")
    p = ports()
    queued = sum(k["queue_frames"] for x in p.values() for k in x["classes"])
    assert all(x["pool_limited"] > 0 for x in p.values()), p
    assert queued <= 1023 // 4, (queued, p)
    for v in (b, c):
        v.send([pfc(0x01, [0] * 8)])
    wait_for(lambda: sum(k["queue_frames"] for x in ports().values() for k in x["classes"]) == 0,
             timeout=10, what="the queues drain")
