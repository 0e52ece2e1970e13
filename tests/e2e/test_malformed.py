# SPDX-License-Identifier: BSD-3-Clause
"""Malformed frames: each is counted under its drop reason on the ingress
port and nothing is forwarded or flooded.

   ns a (scapy sends)           ns b (scapy sniffs: must see nothing)
   [a] mtu of port a = 1000     [b]
    | tap                        | tap
  +-+----------------------------+-+       +-------------------+
  | a           xvsd             b |-------| pcap port "p"     |  (runt test: the
  |     (ns xe<sfx>sw, VLAN 1)     |       | replays a file)   |   kernel refuses
  +--------------------------------+       +-------------------+   < 14-byte frames)
"""
import struct

from conftest import INGRESS_DROPS, scapy_or_skip, wait_for


def _delta(after, before):
    d = {k: after["drops"][k] - before["drops"][k] for k in after["drops"]}
    for k in ("rx_packets", "forwarded", "flooded", "tx_packets"):
        d[k] = after[k] - before[k]
    return d


def _eth(dst, src, etype):
    def mac(m):
        return bytes(int(x, 16) for x in m.split(":"))
    return mac(dst) + mac(src) + struct.pack("!H", etype)


def _vm_mtu1000(switch):
    """VM a whose switch port has mtu 1000. Set at add time: `port set mtu` fails on
    a tap in another namespace (test_ports.py::test_port_set_mtu_on_tap_in_netns).
    The kernel side gets mtu 1000 too; put it back to 1500 so it can send the
    oversize frames the switch has to refuse."""
    a = switch.vm("a", ipv6=False, opts=["mtu=1000"])
    assert switch.ports()["a"]["options"]["mtu"] == "1000"
    a.run(["ip", "link", "set", "dev", a.ifname, "mtu", "1500"])
    return a


def test_malformed_frames_are_counted_and_dropped(switch):
    scapy_or_skip()
    from scapy.layers.l2 import Dot1Q, Ether

    a = _vm_mtu1000(switch)
    b = switch.vm("b", ipv6=False)
    src = "02:ba:d0:00:00:01"
    bc = "ff:ff:ff:ff:ff:ff"
    pad = b"." * 46
    cases = [
        # (drop reason, frames)
        ("truncated_vlan", [_eth(bc, src, 0x8100) + b"\x00", _eth(bc, src, 0x8100) + b"\x00\x01",
                            _eth(bc, src, 0x8100) + b"\x00\x01\x08"]),
        ("stacked_vlan", [  # 802.1Q in 802.1Q, 802.1ad outer, 802.1ad inner
            Ether(src=src, dst=bc) / Dot1Q(vlan=1) / Dot1Q(vlan=2, type=0x88b5) / pad,
            Ether(src=src, dst=bc, type=0x88a8) / Dot1Q(vlan=1, type=0x88b5) / pad,
            Ether(src=src, dst=bc) / Dot1Q(vlan=1, type=0x88a8) / Dot1Q(vlan=2) / pad]),
        ("bad_vid", [Ether(src=src, dst=bc) / Dot1Q(vlan=4095, type=0x88b5) / pad]),
        ("bad_src_mac", [Ether(src="01:00:5e:00:00:01", dst=bc, type=0x88b5) / pad,
                         Ether(src="ff:ff:ff:ff:ff:ff", dst=b.mac, type=0x88b5) / pad,
                         Ether(src="00:00:00:00:00:00", dst=bc, type=0x88b5) / pad]),
        # mtu 1000: 1014-byte frames pass (see the boundary test), 1015 do not
        ("oversize", [Ether(src=src, dst=bc, type=0x88b5) / (b"o" * 1001),
                      Ether(src=src, dst=b.mac, type=0x88b5) / (b"o" * 1400),
                      Ether(src=src, dst=bc) / Dot1Q(vlan=0, type=0x88b5) / (b"o" * 1001)]),
    ]
    sb = b.sniff()
    before_a, before_b = switch.stats("a"), switch.stats("b")
    total = 0
    for _, frames in cases:
        a.send(frames)
        total += len(frames)
    wait_for(lambda: switch.stats("a")["rx_packets"] - before_a["rx_packets"] >= total, 3,
             what=f"{total} frames received on a")
    got_b = sb.stop()
    after_a, after_b = switch.stats("a"), switch.stats("b")
    d = _delta(after_a, before_a)
    problems = []
    for reason, frames in cases:
        if d[reason] != len(frames):
            problems.append(f"drops.{reason}: {d[reason]}, expected {len(frames)}")
    others = {k: d[k] for k in INGRESS_DROPS if k not in dict(cases) and d[k]}
    if others:
        problems.append(f"unexpected drop reasons: {others}")
    if d["rx_packets"] != total:
        problems.append(f"rx_packets +{d['rx_packets']}, expected {total}")
    if d["forwarded"] or d["flooded"]:
        problems.append(f"forwarded +{d['forwarded']} flooded +{d['flooded']}, expected 0")
    if got_b:
        problems.append(f"b received {len(got_b)} frames: {[f.hex()[:40] for f in got_b]}")
    if after_b["tx_packets"] != before_b["tx_packets"]:
        problems.append("b's tx_packets moved")
    assert not problems, "\n".join(problems)
    assert switch.fdb_entry(src) is None, "a malformed frame's source was learned"


def test_mtu_boundary(switch):
    """Largest accepted frame is mtu + 14 (+ 4 with a tag); one byte more is oversize."""
    scapy_or_skip()
    from scapy.layers.l2 import Ether

    a = _vm_mtu1000(switch)
    b = switch.vm("b", ipv6=False)
    src = "02:ba:d0:00:00:02"
    ok = Ether(src=src, dst=b.mac, type=0x88b5) / (b"k" * 1000)
    big = Ether(src=src, dst=b.mac, type=0x88b5) / (b"k" * 1001)
    assert len(ok) == 1014 and len(big) == 1015
    sb = b.sniff(src=[src])
    before = switch.stats("a")
    a.send([ok, big])
    got = sb.stop()
    d = _delta(switch.stats("a"), before)
    assert d["oversize"] == 1 and d["rx_packets"] == 2, d
    assert [len(f) for f in got] == [1014]


def test_runt_frames(switch, tmp_path):
    """Frames shorter than an Ethernet header: a tap's kernel side refuses to send
    them (checked), so they are replayed from a pcap port."""
    scapy_or_skip()
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    a = switch.vm("a", ipv6=False)
    b = switch.vm("b", ipv6=False)
    before = switch.stats("a")
    rep = a.send([b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01", b"\xff" * 13], allow_errors=True)
    print("tap runt send report:", rep)
    if rep["sent"]:
        # the kernel let them through: then xvsd must count them as runts
        wait_for(lambda: switch.stats("a")["drops"]["runt"] - before["drops"]["runt"]
                 == rep["sent"], 3, what="runts counted on the tap port")
    else:
        assert len(rep["errors"]) == 2  # EINVAL from the kernel: nothing reached the switch
        assert switch.stats("a")["rx_packets"] == before["rx_packets"]

    pcap = tmp_path / "runts.pcap"
    good = Ether(src="02:ba:d0:00:00:03", dst=b.mac, type=0x88b5) / (b"g" * 46)
    # 1, 6, 12 and 13 bytes: runts; 14 bytes (header only) and a normal frame: accepted
    frames = [b"\x01", b"\xff" * 6, b"\xff" * 12, bytes(good)[:13], bytes(good)[:14], good]
    wrpcap(str(pcap), frames)
    sb = b.sniff(src=["02:ba:d0:00:00:03"])
    switch.ctl("port", "add", "p", "pcap", f"path={pcap}")
    wait_for(lambda: switch.stats("p")["rx_packets"] >= 6, 5, what="pcap replayed")
    got = sb.stop()
    st = switch.stats("p")
    assert st["rx_packets"] == 6 and st["drops"]["runt"] == 4, st
    assert st["forwarded"] + st["flooded"] == 2, st
    assert sorted(len(f) for f in got) == [14, 60], [f.hex() for f in got]
