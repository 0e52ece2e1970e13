# SPDX-License-Identifier: BSD-3-Clause
"""Offload requests from a tap (TSO, partial checksums) resolved for a port
without offloads, and offload requests that lie about the frame.

    ns xe<sfx>a                                   ns xe<sfx>up (or xe<sfx>b, a tap)
    [xe<sfx>a] 10.77.0.1 fd77::1                  [xe<sfx>up] 10.77.0.2 fd77::2
        | tap (TSO4/TSO6, csum)                       | veth (tx csum off)
  +-----+---------------------------------------------+-----+
  |   port a          xvsd (ns xe<sfx>sw)        port up    |
  |                   segments + checksums     afpacket     |
  +---------------------------------------------------------+

The VM sends with iperf3 at a small MSS (-M): its kernel hands xvs 64 KB TCP
frames that have to be cut into many segments for the uplink (MSS 536: ~120
per frame, more than rte_gso's fixed 64 allowed). Lying frames come from a
packet socket with PACKET_VNET_HDR in the VM's namespace: the kernel passes
the caller's checksum request (csum_start/csum_offset) through the tap to
xvs unchanged and never parses the IP header, so an IP or TCP length field
can say anything.
"""
import json
import struct
import textwrap
import time

import pytest

from conftest import need_tool, nsrun, scapy_or_skip, wait_for


def _iperf_mss(switch, client, server, mss, v6=False, seconds=3):
    need_tool("iperf3")
    dst = server.ip6 if v6 else server.ip4
    log = switch.tmp / f"iperf3-server-{mss}.txt"
    srv = switch.spawn(server.ns, ["iperf3", "-s", "-1", "-B", dst, "--logfile", log])
    time.sleep(0.3)
    r = None
    for _ in range(20):  # the server may not listen yet
        r = client.run(["iperf3", "-c", dst, "-t", str(seconds), "-M", str(mss), "-J"],
                       check=False, timeout=seconds + 20)
        if r.returncode == 0:
            break
        time.sleep(0.2)
    assert r.returncode == 0, f"iperf3 failed: {r.stdout[-2000:]} {r.stderr}"
    try:
        srv.wait(10)
    except Exception:
        raise AssertionError(f"iperf3 server still running: {log.read_text()[-3000:]}\n"
                             f"client: {r.stdout[-3000:]}")
    return json.loads(r.stdout)["end"]


@pytest.mark.parametrize("mss,v6", [(536, False), (1000, False), (1400, False), (88, False),
                                    (1220, True)],
                         ids=["v4-536", "v4-1000", "v4-1400", "v4-88", "v6-1220"])
@pytest.mark.serial  # a rate floor
def test_small_mss_tcp_tap_to_afpacket(switch, mss, v6):
    """Every MSS down to the protocol minimum crosses at the rate its segment
    count allows: no offload_failed drops, hardly any retransmits, and the
    VM's TSO frames (bigger than the MTU, for IPv6 too) were segmented by xvs."""
    a = switch.vm("a", ipv6=v6)
    up = switch.uplink("up", ipv6=v6)
    end = _iperf_mss(switch, a, up, mss, v6=v6)
    got, sent = end["sum_received"], end["sum_sent"]
    st = switch.stats()
    assert st["up"]["drops"]["offload_failed"] == 0, st["up"]
    assert st["a"]["drops"].get("bad_offload", 0) == 0, st["a"]
    assert st["a"]["drops"].get("bad_l3_len", 0) == 0, st["a"]
    # A loose floor, not a timing claim: the broken path gave ~26 Mbit/s at
    # MSS 536. MSS 88 costs ~6x the segments of 536.
    floor = 20e6 if mss < 500 else 100e6
    assert got["bits_per_second"] > floor, end
    segments = got["bytes"] / mss
    assert sent.get("retransmits", 0) <= max(50, segments / 100), end
    # The VM sent TSO frames (each more than one MTU) and xvs cut them up.
    assert st["a"]["forwarded"] * 1500 < got["bytes"], st["a"]
    assert st["up"]["tx_packets"] >= segments * 0.9, (st["up"], segments)


@pytest.mark.serial  # a rate floor
def test_ipv6_tso_vm_to_vm_crosses_whole(switch):
    """Taps take IPv6 TSO (TUN_F_TSO6) and hand it on as metadata: 64 KB frames
    cross from tap to tap without being cut, at a small MSS too."""
    a, b = switch.vm("a"), switch.vm("b")
    end = _iperf_mss(switch, a, b, 536, v6=True)
    got = end["sum_received"]
    st = switch.stats()
    assert got["bits_per_second"] > 100e6, end
    assert st["a"]["forwarded"] * 4000 < got["bytes"], st["a"]
    assert st["b"]["drops"]["tx_error"] == 0 and st["b"]["dev_tx_errors"] == 0, st["b"]


# ------------------------------------------------ frames that lie, end to end

# Sends each (vnet_hdr_hex, frame_hex) on iface through a packet socket that
# takes a virtio-net header in front of every frame.
_VNET_SENDER = textwrap.dedent("""
    import json, socket, sys
    PACKET_VNET_HDR = 15
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.setsockopt(263, PACKET_VNET_HDR, 1)  # SOL_PACKET
    s.bind((sys.argv[1], 0))
    errors = []
    for vh, fr in json.load(sys.stdin):
        try:
            s.send(bytes.fromhex(vh) + bytes.fromhex(fr))
        except OSError as e:
            errors.append(str(e))
    print(json.dumps({"errors": errors}))
""")

VIRTIO_NET_HDR_F_NEEDS_CSUM = 1


def _vnet_csum(csum_start, csum_offset):
    # struct virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset
    return struct.pack("<BBHHHH", VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, csum_start, csum_offset)


def _send_vnet(host, pairs):
    p = nsrun(host.ns, ["python3", "-c", _VNET_SENDER, host.ifname],
              input=json.dumps([(v.hex(), bytes(f).hex()) for v, f in pairs]))
    rep = json.loads(p.stdout)
    assert not rep["errors"], rep


def _drops_delta(after, before, port):
    return {k: after[port]["drops"][k] - before[port]["drops"][k] for k in after[port]["drops"]}


def test_partial_checksum_frames_lying_about_lengths_are_dropped(switch):
    """A frame asking for a TCP/UDP checksum whose IP total length, IHL or TCP
    data offset reaches past the frame is dropped as bad_l3_len on the tap
    (before: the checksum was computed over whatever lay beyond the frame);
    a header whose csum_start disagrees with the IP header is bad_offload; an
    honest one reaches the uplink with its checksum filled in."""
    scapy_or_skip()
    from scapy.all import IP, TCP, UDP, Ether, Raw  # noqa: E402

    a = switch.vm("a", ipv6=False)
    up = switch.uplink("up", ipv6=False)
    eth = Ether(src=a.mac, dst=up.mac)

    def tcp(payload=100):
        f = eth / IP(src=a.ip4, dst=up.ip4) / TCP(sport=1234, dport=80, chksum=0) / \
            Raw(b"x" * payload)
        return bytearray(bytes(f))

    good = tcp()
    good_udp = bytearray(bytes(eth / IP(src=a.ip4, dst=up.ip4) / UDP(sport=5, dport=6, chksum=0) /
                               Raw(b"y" * 50)))
    long_ip = tcp()
    struct.pack_into("!H", long_ip, 14 + 2, 60000)       # IP total length 60000
    short_ip = tcp()
    struct.pack_into("!H", short_ip, 14 + 2, 30)         # shorter than IP + TCP headers
    bad_doff = tcp(payload=10)
    bad_doff[14 + 20 + 12] = 0xf0                        # TCP header of 60 bytes in 30
    bad_doff_small = tcp()
    struct.pack_into("!H", bad_doff_small, 14 + 2, 20 + 20 + 30)
    bad_doff_small[14 + 20 + 12] = 0xf0                  # 60-byte TCP header, 50-byte IP payload
    ihl_big = tcp()
    ihl_big[14] = 0x4f                                   # IHL 60, csum_start says 20
    csum = _vnet_csum(14 + 20, 16)

    lies = [("IP total length past the frame", csum, long_ip, "bad_l3_len"),
            ("IP total length shorter than IP + TCP headers", csum, short_ip, "bad_l3_len"),
            ("TCP data offset past the frame", csum, bad_doff, "bad_l3_len"),
            ("TCP data offset past the IP packet", csum, bad_doff_small, "bad_l3_len"),
            ("IHL disagrees with csum_start", csum, ihl_big, "bad_offload"),
            ("UDP checksum offset on a TCP frame", _vnet_csum(14 + 20, 6), good, "bad_offload")]
    sent = lambda s: s["a"]["forwarded"] + s["a"]["flooded"]  # noqa: E731
    sn = up.sniff(src=[a.mac], seconds=120)  # stopped below; the lies take a while on a busy host
    for what, vh, frame, reason in lies:
        before = switch.stats()
        _send_vnet(a, [(vh, frame)])
        wait_for(lambda: switch.stats()["a"]["drops_total"] > before["a"]["drops_total"], 5,
                 what=f"{what}: a drop")
        after = switch.stats()
        d = {k: v for k, v in _drops_delta(after, before, "a").items() if v}
        assert d == {reason: 1}, (what, d)
        assert sent(after) == sent(before), (what, after["a"])
    before = switch.stats()
    _send_vnet(a, [(csum, good), (_vnet_csum(14 + 20, 6), good_udp)])
    wait_for(lambda: sent(switch.stats()) >= sent(before) + 2, 5, what="honest frames sent on")
    frames = sn.stop()
    # The honest frames left with valid checksums (scapy recomputes and compares).
    seen = [p for p in map(Ether, frames)
            if (TCP in p and p[TCP].sport == 1234) or (UDP in p and p[UDP].sport == 5)]
    assert len(seen) == 2, [f.hex() for f in frames]
    for p in seen:
        l4 = p[TCP] if TCP in p else p[UDP]
        want = l4.chksum
        del l4.chksum
        assert Ether(bytes(p))[type(l4)].chksum == want, p.show(dump=True)
    switch.assert_conservation()
