#!/usr/bin/python3
"""rss_split.py — split a capture into per-queue captures the way a NIC's RSS would.

Each frame is hashed with the Toeplitz function of the Microsoft RSS
specification (default: the well-known 40-byte verification key, xvs's
default; IPv4/IPv6 addresses plus TCP/UDP ports, addresses only for fragments
and other protocols; non-IP frames hash to 0) and sent to queue
reta[hash % reta_size] with reta[i] = i mod queues, the Linux default table.
The result feeds a pcap port with queues=N and path=OUT containing "{q}",
standing in for a multi-queue NIC that spreads the same traffic in hardware.

This is the bit-serial definition written out in Python (xvs's own C
implementations are in src/core/rss.c and are unit-tested against the
published vectors); `--selftest` checks it against the whole verification suite (IPv4 and
IPv6, with and without ports).

usage: rss_split.py IN.pcap OUT_{q}.pcap --queues N [--reta-size 128] [--key HEX]
       rss_split.py --selftest
"""
import argparse, ipaddress, struct, sys

DEFAULT_KEY = bytes.fromhex(
    "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa")


def toeplitz(key, data):
    k = int.from_bytes(key, "big")
    kbits = len(key) * 8
    result = 0
    for i, byte in enumerate(data):
        for b in range(8):
            if byte & (0x80 >> b):
                shift = kbits - 32 - (i * 8 + b)
                result ^= (k >> shift) & 0xffffffff
    return result


def hash_input(frame):
    """the bytes RSS hashes for an Ethernet frame (b'' when not hashed)"""
    off, etype = 12, struct.unpack_from("!H", frame, 12)[0] if len(frame) >= 14 else 0
    if etype == 0x8100 and len(frame) >= 18:
        etype = struct.unpack_from("!H", frame, 16)[0]
        off = 16
    l3 = off + 2
    if etype == 0x0800 and len(frame) >= l3 + 20:
        ihl = (frame[l3] & 0x0f) * 4
        proto, frag = frame[l3 + 9], struct.unpack_from("!H", frame, l3 + 6)[0]
        addrs = frame[l3 + 12:l3 + 20]
        l4 = l3 + ihl
        if proto in (6, 17) and not (frag & 0x3fff) and len(frame) >= l4 + 4:
            return addrs + frame[l4:l4 + 4]
        return addrs
    if etype == 0x86dd and len(frame) >= l3 + 40:
        nh, addrs, l4 = frame[l3 + 6], frame[l3 + 8:l3 + 40], l3 + 40
        if nh in (6, 17) and len(frame) >= l4 + 4:
            return addrs + frame[l4:l4 + 4]
        return addrs
    return b""


# The Microsoft RSS verification suite ("Verifying the RSS Hash Calculation"),
# default key: source, destination, source port, destination port, hash of
# the addresses only, hash of addresses and ports. Same table as
# tests/unit/test_rss.c.
MS_VECTORS = [
    ("66.9.149.187", "161.142.100.80", 2794, 1766, 0x323e8fc2, 0x51ccc178),
    ("199.92.111.2", "65.69.140.83", 14230, 4739, 0xd718262a, 0xc626b0ea),
    ("24.19.198.95", "12.22.207.184", 12898, 38024, 0xd2d0a5de, 0x5c2b394a),
    ("38.27.205.30", "209.142.163.6", 48228, 2217, 0x82989176, 0xafc7327f),
    ("153.39.163.191", "202.188.127.2", 44251, 1303, 0x5d1809c5, 0x10e828a2),
    ("3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766, 0x2cc18cd5, 0x40207d3d),
    ("3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 14230, 4739, 0x0f0c461c, 0xdde51bbf),
    ("3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf", 44251, 38024,
     0x4b61e985, 0x02d1feef),
]


def selftest(verbose=False):
    """toeplitz() against every vector of the verification suite (IPv4 and
    IPv6, with and without ports); raises AssertionError on a mismatch."""
    for src, dst, sport, dport, l3, l4 in MS_VECTORS:
        addrs = ipaddress.ip_address(src).packed + ipaddress.ip_address(dst).packed
        for data, want in ((addrs, l3), (addrs + struct.pack("!HH", sport, dport), l4)):
            got = toeplitz(DEFAULT_KEY, data)
            assert got == want, f"toeplitz({src} -> {dst}, {len(data)} bytes) = " \
                                f"{got:#010x}, the suite says {want:#010x}"
    if verbose:
        print(f"rss_split selftest: {2 * len(MS_VECTORS)} verification-suite vectors ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("inp", nargs="?")
    ap.add_argument("out", nargs="?", help="output path with {q} for the queue number")
    ap.add_argument("--queues", type=int, default=2)
    ap.add_argument("--reta-size", type=int, default=128)
    ap.add_argument("--key", default=DEFAULT_KEY.hex())
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args()
    if a.selftest:
        return selftest(verbose=True)
    if not a.inp or not a.out or "{q}" not in a.out:
        ap.error("IN and OUT (containing {q}) are needed")
    from scapy.utils import RawPcapReader, RawPcapWriter
    key = bytes.fromhex(a.key.replace(":", ""))
    reta = [i % a.queues for i in range(a.reta_size)]
    outs = [RawPcapWriter(a.out.replace("{q}", str(q)), linktype=1, sync=False)
            for q in range(a.queues)]
    counts = [0] * a.queues
    cache = {}
    for frame, _meta in RawPcapReader(a.inp):
        inp = hash_input(frame)
        h = cache.get(inp)
        if h is None:
            h = cache[inp] = toeplitz(key, inp)
        q = reta[h & (a.reta_size - 1)]
        outs[q].write(frame)
        counts[q] += 1
    for o in outs:
        o.close()
    total = sum(counts) or 1
    print("rss_split: %d frames, %d flows -> %s" % (
        sum(counts), len(cache), ", ".join("q%d %d (%.1f%%)" % (q, c, 100.0 * c / total)
                                            for q, c in enumerate(counts))))


if __name__ == "__main__":
    sys.exit(main())
