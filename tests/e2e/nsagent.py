#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Frame sender and sniffer that the e2e tests run inside a network namespace
(`ip netns exec NS python3 nsagent.py ...`): a socket opened here belongs to
NS, and the test process itself never leaves the root namespace.

  nsagent.py send IFACE          stdin: JSON list of hex frames
      Sends each frame as is on a raw AF_PACKET socket (no padding, no
      checksum fix-up). Prints {"sent": N, "errors": [[index, "message"], ...]}.
      A frame the kernel refuses (e.g. shorter than the Ethernet header) is
      reported in "errors", not padded: the tests need to know.

  nsagent.py storm IFACE --seconds S   stdin: one hex frame
      Sends that frame as fast as one process can for S seconds (a VM's
      broadcast storm); a full device queue (ENOBUFS) is retried, not fatal.
      Prints {"sent": N, "nobufs": N}.

  nsagent.py sniff IFACE [--seconds S] [--count N] [--src MAC ...] [--dst MAC ...]
      Prints "READY" once the socket is bound, then collects incoming frames
      (not the ones this host sends) until S seconds pass, N matching frames
      arrived, or a line "stop" / EOF arrives on stdin. Prints a JSON list of
      hex frames. VLAN tags the kernel moved into packet metadata are put back
      into the frame (from PACKET_AUXDATA), so the output is what was
      on the wire.
"""
import argparse
import json
import select
import socket
import struct
import sys
import time

# <linux/if_packet.h>: the kernel takes a received frame's VLAN tag out into
# struct tpacket_auxdata; the sniffer puts it back. Done here rather than with
# scapy's L2Socket (which does the same): importing scapy cost every sniffer
# about 0.5 s of CPU, and the suite starts a few hundred of them.
SOL_PACKET, PACKET_AUXDATA = 263, 8
ETH_P_ALL, ETH_P_8021Q = 0x0003, 0x8100
TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID = 1 << 4, 1 << 6
# tp_status, tp_len, tp_snaplen, tp_mac, tp_net, tp_vlan_tci, tp_vlan_tpid
AUXDATA = struct.Struct("=IIIHHHH")


def cmd_send(args):
    frames = json.load(sys.stdin)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind((args.iface, 0))
    sent, errors = 0, []
    for i, h in enumerate(frames):
        try:
            s.send(bytes.fromhex(h))
            sent += 1
        except OSError as e:
            errors.append([i, f"{type(e).__name__}: errno {e.errno} {e.strerror}"])
        if args.gap:
            time.sleep(args.gap)
    s.close()
    print(json.dumps({"sent": sent, "errors": errors}), flush=True)


def cmd_storm(args):
    frame = bytes.fromhex(sys.stdin.read().strip())
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind((args.iface, 0))
    sent = nobufs = 0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        for _ in range(256):
            try:
                s.send(frame)
                sent += 1
            except OSError:
                nobufs += 1
    s.close()
    print(json.dumps({"sent": sent, "nobufs": nobufs}), flush=True)


def _sniff_socket(iface):
    """A packet socket on iface, as scapy's L2Socket(promisc=False) opens it."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 0)
    s.bind((iface, ETH_P_ALL))
    while select.select([s], [], [], 0)[0]:  # frames of other interfaces, before the bind
        s.recv(65535)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    return s


def _recv_frame(s):
    """The next frame as it was on the wire (VLAN tag put back), or None for a
    frame this host sent (PACKET_OUTGOING)."""
    raw, anc, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(64))
    if addr[2] == socket.PACKET_OUTGOING:
        return None
    for level, kind, data in anc:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= AUXDATA.size:
            status, _, _, _, _, tci, tpid = AUXDATA.unpack_from(data)
            if tci != 0 or status & TP_STATUS_VLAN_VALID:
                if not status & TP_STATUS_VLAN_TPID_VALID:
                    tpid = ETH_P_8021Q
                raw = raw[:12] + struct.pack("!HH", tpid, tci) + raw[12:]
    return raw


def cmd_sniff(args):
    src = {m.lower() for m in args.src}
    dst = {m.lower() for m in args.dst}
    sock = _sniff_socket(args.iface)
    print("READY", flush=True)
    out = []
    deadline = time.monotonic() + args.seconds
    stdin_open = True
    while len(out) < args.count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        rl = [sock] + ([sys.stdin] if stdin_open else [])
        r, _, _ = select.select(rl, [], [], left)
        if sys.stdin in r:
            line = sys.stdin.readline()
            if line == "" or line.strip() == "stop":
                # drain what is already queued, then stop
                while select.select([sock], [], [], 0.05)[0]:
                    raw = _recv_frame(sock)
                    if raw is not None and _match(raw, src, dst):
                        out.append(raw.hex())
                break
        if sock in r:
            raw = _recv_frame(sock)
            if raw is None:
                continue
            if _match(raw, src, dst):
                out.append(raw.hex())
    sock.close()
    print(json.dumps(out), flush=True)


def _mac(b):
    return ":".join(f"{x:02x}" for x in b)


def _match(raw, src, dst):
    if len(raw) < 12:
        return not src and not dst
    if src and _mac(raw[6:12]) not in src:
        return False
    if dst and _mac(raw[0:6]) not in dst:
        return False
    return True


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("iface")
    s.add_argument("--gap", type=float, default=0.0, help="seconds between frames")
    s.set_defaults(fn=cmd_send)
    t = sub.add_parser("storm")
    t.add_argument("iface")
    t.add_argument("--seconds", type=float, default=2.0)
    t.set_defaults(fn=cmd_storm)
    n = sub.add_parser("sniff")
    n.add_argument("iface")
    n.add_argument("--seconds", type=float, default=5.0)
    n.add_argument("--count", type=int, default=1 << 30)
    n.add_argument("--src", action="append", default=[])
    n.add_argument("--dst", action="append", default=[])
    n.set_defaults(fn=cmd_sniff)
    args = ap.parse_args()
    args.fn(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
