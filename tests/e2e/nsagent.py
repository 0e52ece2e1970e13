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
      into the frame (scapy reads PACKET_AUXDATA), so the output is what was
      on the wire.
"""
import argparse
import json
import select
import socket
import sys
import time


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


def cmd_sniff(args):
    from scapy.arch.linux import L2Socket  # imported late: only the sniffer needs it

    src = {m.lower() for m in args.src}
    dst = {m.lower() for m in args.dst}
    # L2Socket (unlike L2ListenSocket) skips PACKET_OUTGOING frames.
    sock = L2Socket(iface=args.iface, promisc=False)
    print("READY", flush=True)
    out = []
    deadline = time.monotonic() + args.seconds
    stdin_open = True
    while len(out) < args.count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        rl = [sock.ins] + ([sys.stdin] if stdin_open else [])
        r, _, _ = select.select(rl, [], [], left)
        if sys.stdin in r:
            line = sys.stdin.readline()
            if line == "" or line.strip() == "stop":
                # drain what is already queued, then stop
                while select.select([sock.ins], [], [], 0.05)[0]:
                    _, raw, _ = sock.recv_raw(65535)
                    if raw is not None and _match(raw, src, dst):
                        out.append(raw.hex())
                break
        if sock.ins in r:
            _, raw, _ = sock.recv_raw(65535)
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
