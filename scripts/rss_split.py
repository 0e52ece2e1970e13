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
published vectors); `--selftest` checks it against two of those vectors.

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


def selftest():
    v4 = ipaddress.IPv4Address("66.9.149.187").packed + ipaddress.IPv4Address("161.142.100.80").packed
    assert toeplitz(DEFAULT_KEY, v4) == 0x323e8fc2
    assert toeplitz(DEFAULT_KEY, v4 + struct.pack("!HH", 2794, 1766)) == 0x51ccc178
    print("rss_split selftest: ok")


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
        return selftest()
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
