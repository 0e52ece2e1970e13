#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""loadshift.py: the queue balancer under a load that moves (issue 14), as a timeline.

   ns lsA [A] --tap--+                              +--tap-- [B] ns lsB
                     |  xvsd: 2 workers (CPUs 0,1),  |
   ns lsC [C] --tap--+  balancer on                  +--tap-- [D] ns lsD

Phases (--phase seconds each): idle, A->B, C->D (the load moves), both, idle.
Load: iperf3 UDP at --rate per stream (loss and the receiver's count from its
report). Every 100 ms the script samples worker.stats (raw busy/idle/sleep TSC
cycles, so the busy % is over that 100 ms), queue.show (who owns which queue)
and balancer.show (moves), and prints one timeline row. At the end: per phase
the throughput and each worker's busy %, the time from a phase's start to the
balancer's last move in it (time to rebalance, in balancer intervals), and
xvsd's CPU-seconds over the whole run (/proc/PID/stat), the energy argument.

Not here yet: the same scenario on Open vSwitch with pmd-auto-lb beside it
(../shared/bench/anchors/run_ovs.sh starts OVS-DPDK; its PMDs poll at 100 %
of their cores, which on this shared 2-core host would also starve every
other job), so the OVS columns of the issue's table are missing.

usage: sudo bench/loadshift.py [--phase 3] [--rate 50M] [--interval-ms 200]
                               [--high 15] [--low 5] [--build build]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SFX = f"ls{os.getpid() % 10000}"
HOSTS = {"A": 1, "B": 2, "C": 3, "D": 4}


def sh(*argv, check=True, **kw):
    return subprocess.run([str(a) for a in argv], check=check, capture_output=True, text=True,
                          **kw)


def nsx(ns, *argv, **kw):
    return sh("ip", "netns", "exec", ns, *argv, **kw)


class Xvsd:
    def __init__(self, build, tmp):
        self.ns = f"{SFX}sw"
        self.sock = Path(tmp) / "x.sock"
        self.db = Path(tmp) / "x.db"
        self.log = open(Path(tmp) / "xvsd.log", "w")
        sh("ip", "netns", "add", self.ns)
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, str(Path(build) / "src/ctl/xvsd"), "--db",
             str(self.db), "--socket", str(self.sock), "--workers", "2", "--cpus", "0,1"],
            stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if self.sock.exists():
                try:
                    self.rpc("help")
                    break
                except OSError:
                    pass
            time.sleep(0.05)
        self.pid = self.proc.pid
        # the daemon's own pid (ip netns exec execs it: the same process)

    def rpc(self, method, **params):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(str(self.sock))
        s.sendall((json.dumps({"method": method, "params": params}) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            d = s.recv(1 << 20)
            if not d:
                break
            buf += d
        s.close()
        r = json.loads(buf)
        if "error" in r:
            raise RuntimeError(f"{method}: {r['error']['message']}")
        return r["result"]

    def cpu_s(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        sh("ip", "netns", "del", self.ns, check=False)


def add_vm(x, name):
    ns, idx = f"{SFX}{name}", HOSTS[name]
    sh("ip", "netns", "add", ns)
    x.rpc("port.add", name=name, kind="tap",
          options={"ifname": f"{SFX}{name}", "netns": ns, "mac": f"02:00:00:00:0{idx}:0{idx}",
                   "mac-spoof": "off"})
    nsx(ns, "ip", "link", "set", "lo", "up")
    nsx(ns, "ip", "link", "set", f"{SFX}{name}", "up")
    nsx(ns, "ip", "addr", "add", f"10.78.0.{idx}/24", "dev", f"{SFX}{name}")
    return ns


def sample(x, tsc_hz):
    ws = x.rpc("worker.stats")["workers"]
    qs = x.rpc("queue.show")["queues"]
    b = x.rpc("balancer.show")
    return {"t": time.monotonic(), "w": ws, "owners": {q["port"]: q["worker"] for q in qs},
            "moves": b["moves"], "sw": sum(w["switched_packets"] for w in ws)}


def busy(prev, cur, w):
    p, c = prev["w"][w], cur["w"][w]
    db = c["busy_cycles"] - p["busy_cycles"]
    tot = db + (c["idle_cycles"] - p["idle_cycles"]) + (c["sleep_cycles"] - p["sleep_cycles"])
    return 100.0 * db / tot if tot > 0 else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--phase", type=float, default=3.0)
    ap.add_argument("--rate", default="50M")
    ap.add_argument("--interval-ms", type=int, default=200)
    ap.add_argument("--high", type=int, default=15)
    ap.add_argument("--low", type=int, default=5)
    ap.add_argument("--build", default=str(REPO / "build"))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="loadshift")
    x = Xvsd(a.build, tmp)
    nss = []
    procs = []
    try:
        nss = [add_vm(x, n) for n in "BADC"]  # slots: B, D on worker 0; A, C on 1
        x.rpc("balancer.set", options={"enabled": "on", "interval-ms": a.interval_ms,
                                       "high": a.high, "low": a.low, "hysteresis": 2,
                                       "hold-intervals": 2})
        tsc_hz = x.rpc("queue.show")["tsc_hz"]
        for s in ("B", "D"):
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", f"{SFX}{s}", "iperf3", "-s", "-B",
                 f"10.78.0.{HOSTS[s]}", "-J"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True))
        time.sleep(0.5)
        secs = max(1, int(round(a.phase)))
        phases = [("idle", []), ("A->B", ["A"]), ("C->D", ["C"]), ("both", ["A", "C"]),
                  ("idle", []), ("idle", [])]
        dst = {"A": "B", "C": "D"}
        cpu0 = x.cpu_s()
        t_start = time.monotonic()
        prev = sample(x, tsc_hz)
        rows, summary = [], []
        print(f"{'t(s)':>6} {'phase':6} {'w0 busy%':>8} {'w1 busy%':>8} {'w0':>6} {'w1':>6} "
              f"{'kpps':>8} {'moves':>5}  owners")
        for name, senders in phases:
            clients = [subprocess.Popen(
                ["ip", "netns", "exec", f"{SFX}{s}", "iperf3", "-u", "-c",
                 f"10.78.0.{HOSTS[dst[s]]}", "-b", a.rate, "-t", str(secs), "-l", "1200",
                 "-J"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                for s in senders]
            t_phase, moves0, last_move, pk0 = time.monotonic(), prev["moves"], None, prev["sw"]
            cpu_p = x.cpu_s()
            b_sum = [0.0, 0.0]
            n = 0
            while time.monotonic() - t_phase < a.phase:
                time.sleep(0.1)
                cur = sample(x, tsc_hz)
                dt = cur["t"] - prev["t"]
                bz = [busy(prev, cur, w) for w in (0, 1)]
                st = ["parked" if cur["w"][w]["parked"] else "active" for w in (0, 1)]
                kpps = (cur["sw"] - prev["sw"]) / dt / 1e3
                if cur["moves"] != prev["moves"]:
                    last_move = cur["t"] - t_phase
                own = " ".join(f"{p}:{w}" for p, w in sorted(cur["owners"].items()))
                print(f"{cur['t'] - t_start:6.1f} {name:6} {bz[0]:8.1f} {bz[1]:8.1f} "
                      f"{st[0]:>6} {st[1]:>6} {kpps:8.1f} {cur['moves']:5d}  {own}")
                b_sum = [b_sum[i] + bz[i] for i in (0, 1)]
                n += 1
                prev = cur
            loss = []
            for c in clients:
                out, _ = c.communicate(timeout=secs + 30)
                try:
                    e = json.loads(out)["end"]["sum"]
                    loss.append(f"{e.get('lost_percent', 0):.2f}%")
                except (ValueError, KeyError):
                    loss.append("?")
            el = time.monotonic() - t_phase
            summary.append((name, (prev["sw"] - pk0) / el / 1e3, b_sum[0] / max(n, 1),
                            b_sum[1] / max(n, 1), prev["moves"] - moves0, last_move,
                            ",".join(loss) or "-", 100 * (x.cpu_s() - cpu_p) / el))
        cpu = x.cpu_s() - cpu0
        wall = time.monotonic() - t_start
        print()
        print(f"{'phase':6} {'kpps':>8} {'w0 busy%':>8} {'w1 busy%':>8} {'moves':>5} "
              f"{'last move (s)':>13} {'intervals':>9} {'xvsd cpu%':>9}  iperf3 loss")
        for name, kpps, b0, b1, mv, lm, loss, cpu_pct in summary:
            lms = f"{lm:.1f}" if lm is not None else "-"
            its = f"{lm / (a.interval_ms / 1000):.1f}" if lm is not None else "-"
            print(f"{name:6} {kpps:8.1f} {b0:8.1f} {b1:8.1f} {mv:5d} {lms:>13} {its:>9} "
                  f"{cpu_pct:9.1f}  {loss}")
        print(f"\nxvsd CPU-seconds over the run: {cpu:.2f} in {wall:.1f} s wall "
              f"({100 * cpu / wall:.1f}% of one core); balancer interval {a.interval_ms} ms, "
              f"high {a.high}%, low {a.low}%")
        # where iperf3's loss happened: in xvs (its drop counters) or before it, in the
        # kernel's tap queue that xvs did not read in time (the VM side's tx_dropped)
        st = x.rpc("port.stats")["ports"]
        kdrop = {}
        for v in "AC":
            link = json.loads(nsx(f"{SFX}{v}", "ip", "-s", "-j", "link", "show",
                                  f"{SFX}{v}").stdout)[0]
            kdrop[v] = link["stats64"]["tx"]["dropped"]
        rcvbuf = {}
        for v in "BD":
            lines = [ln.split() for ln in nsx(f"{SFX}{v}", "cat", "/proc/net/snmp").stdout
                     .splitlines() if ln.startswith("Udp:")]
            rcvbuf[v] = dict(zip(lines[0], lines[1])).get("RcvbufErrors", "?")
        print("xvs drops: " + ", ".join(
            f"{p['name']} {p['drops_total']}" +
            "".join(f" {k}={n}" for k, n in p["drops"].items() if n) for p in st) +
            "; kernel tap tx_dropped (not read by xvs in time): " +
            ", ".join(f"{v} {n}" for v, n in kdrop.items()) +
            "; receivers' UDP RcvbufErrors (iperf3 server too slow): " +
            ", ".join(f"{v} {n}" for v, n in rcvbuf.items()))
        print("Open vSwitch with pmd-auto-lb: not measured (see the header of this script)")
    finally:
        for p in procs:
            p.terminate()
        x.stop()
        for ns in nss:
            sh("ip", "netns", "del", ns, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
