#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""loadshift.py: the queue balancer under a load that moves (issue 14), as a timeline,
beside Open vSwitch with pmd-auto-lb in the same run.

   ns lsA [A] --+                                  +-- [B] ns lsB
                |  the switch: 2 workers / PMDs     |
   ns lsC [C] --+  on CPUs 0,1                      +-- [D] ns lsD

xvs: the VMs are tap ports of xvsd (2 workers, balancer on). Open vSwitch
(Debian's ovs-vswitchd-dpdk 3.1, netdev datapath, DPDK in --no-huge mode as
../shared/bench/anchors/run_ovs.sh starts it): the same namespaces on veth pairs,
the switch ends as DPDK net_af_packet vdevs (type=dpdk, one rx queue each,
OVS_PORT=dpdk-afpacket in the anchors: the OVS-DPDK port polled by PMD threads
that works here; OVS's type=tap and system ports are polled by the main thread,
which pmd-auto-lb does not balance), 2 PMD threads (pmd-cpu-mask 0x3),
NORMAL flow, other_config:pmd-auto-lb=true with pmd-auto-lb-load-threshold
(default 95), -improvement-threshold (default 25) and -rebal-interval (in
minutes, minimum and default 1) at their documented defaults unless given, and
pmd-maxsleep at its default 0 (PMDs poll at 100 %).

Phases (--phase seconds each, the same for both switches): idle, A->B, C->D (the
load moves), both, idle, idle. Load: iperf3 UDP at --rate per stream; throughput
is what the receiver got (the client's report: packets - lost). xvs: every 100 ms
the script samples worker.stats (busy % over that 100 ms), queue.show and
balancer.show and prints one timeline row. OVS: every second,
dpif-netdev/pmd-rxq-show (rx queue -> PMD, pmd usage). Time to rebalance: from a
phase's start to the last change of queue placement in it (xvs: balancer moves;
OVS: pmd-rxq-show placement, 1 s resolution). CPU-seconds: /proc/PID/stat of
xvsd, and of ovs-vswitchd, over the whole run.

OVS's rebalance interval is at least 1 minute and it acts only after a PMD is
over its load threshold for a minute, so a fair run needs phases over a minute:
--phase 75. --quick (2 s phases) checks the plumbing; OVS cannot rebalance in it.

usage: sudo bench/loadshift.py [--quick] [--phase 3] [--rate 50M] [--interval-ms 200]
                               [--high 15] [--low 5] [--build build] [--no-ovs]
                               [--ovs-load-threshold 95] [--ovs-improvement-threshold 25]
                               [--ovs-rebal-interval 1]
the full comparison (on a quiet host, about 16 minutes):
  sudo bench/loadshift.py --phase 75
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
        return proc_cpu_s(self.pid)

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


PHASES = [("idle", []), ("A->B", ["A"]), ("C->D", ["C"]), ("both", ["A", "C"]),
          ("idle", []), ("idle", [])]
DST = {"A": "B", "C": "D"}
OVS_VSWITCHD = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"


class Ovs:
    """ovs-vswitchd with DPDK (no hugepages) in a namespace of its own, as
    ../shared/bench/anchors/run_ovs.sh starts it; private db, sockets, logs."""

    def __init__(self, tmp, a):
        self.ns = f"{SFX}ovs"
        self.d = Path(tmp) / "ovs"
        self.d.mkdir()
        self.env = dict(os.environ, OVS_RUNDIR=str(self.d), OVS_DBDIR=str(self.d),
                        OVS_LOGDIR=str(self.d), OVS_SYSCONFDIR=str(self.d),
                        OVS_PKGDATADIR="/usr/share/openvswitch")
        self.db = f"unix:{self.d}/db.sock"
        self.ctl = str(self.d / "ovs-vswitchd.ctl")
        self.n = 0
        sh("ip", "netns", "add", self.ns)
        sh("ovsdb-tool", "create", self.d / "conf.db", "/usr/share/openvswitch/vswitch.ovsschema")
        sh("ovsdb-server", self.d / "conf.db", f"--remote=punix:{self.d}/db.sock",
           f"--pidfile={self.d}/ovsdb-server.pid", f"--unixctl={self.d}/ovsdb-server.ctl",
           f"--log-file={self.d}/ovsdb-server.log", "--detach", "--no-chdir", env=self.env)
        self.vsctl("--no-wait", "init")
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".", "other_config:dpdk-init=true",
                   "other_config:dpdk-extra=--no-huge -m 1024 --no-pci --legacy-mem "
                   f"--file-prefix={SFX}ovs",
                   "other_config:dpdk-lcore-mask=0x1", "other_config:pmd-cpu-mask=0x3",
                   "other_config:pmd-auto-lb=true",
                   f"other_config:pmd-auto-lb-load-threshold={a.ovs_load_threshold}",
                   f"other_config:pmd-auto-lb-improvement-threshold="
                   f"{a.ovs_improvement_threshold}",
                   f"other_config:pmd-auto-lb-rebal-interval={a.ovs_rebal_interval}")
        sh("ip", "netns", "exec", self.ns, OVS_VSWITCHD, self.db,
           f"--pidfile={self.d}/ovs-vswitchd.pid", f"--unixctl={self.ctl}",
           f"--log-file={self.d}/ovs-vswitchd.log", "--detach", "--no-chdir", "-vconsole:off",
           env=self.env)
        self.pid = int((self.d / "ovs-vswitchd.pid").read_text())
        self.vsctl("add-br", "lsbr", "--", "set", "bridge", "lsbr", "datapath_type=netdev",
                   "fail_mode=standalone")

    def vsctl(self, *argv):
        return sh("ovs-vsctl", f"--db={self.db}", "--timeout=30", *argv, env=self.env)

    def appctl(self, *argv):
        return sh("ovs-appctl", "-t", self.ctl, *argv, env=self.env).stdout

    def add_host(self, name):
        """Namespace lsX with veth X (its IP) whose peer, in OVS's namespace,
        is an af_packet DPDK port of the bridge."""
        ns, idx = f"{SFX}{name}", HOSTS[name]
        self.n += 1
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", f"{SFX}{name}", "netns", ns, "type", "veth", "peer", "name",
           f"{SFX}{name}s", "netns", self.ns)
        nsx(self.ns, "ip", "link", "set", f"{SFX}{name}s", "up")
        nsx(ns, "ip", "link", "set", "lo", "up")
        nsx(ns, "ip", "link", "set", f"{SFX}{name}", "address", f"02:00:00:00:0{idx}:0{idx}",
            "up")
        nsx(ns, "ip", "addr", "add", f"10.78.0.{idx}/24", "dev", f"{SFX}{name}")
        # af_packet hands the kernel's frames over as they are: no checksum
        # left for a device to fill in (a tap port of xvs gets them complete too)
        for n_, i_ in ((ns, f"{SFX}{name}"), (self.ns, f"{SFX}{name}s")):
            nsx(n_, "ethtool", "-K", i_, "tx", "off", "rx", "off", "tso", "off", "gso", "off",
                check=False)
        self.vsctl("add-port", "lsbr", name, "--", "set", "Interface", name, "type=dpdk",
                   f"options:dpdk-devargs=net_af_packet{self.n},iface={SFX}{name}s,qpairs=1,"
                   "qdisc_bypass=1,blocksz=4096,framesz=2048,framecnt=512",
                   f"ofport_request={self.n}")
        return ns

    def check_ports(self):
        err = self.vsctl("--columns=name,error", "find", "Interface", "error!=[]").stdout
        if err.strip():
            raise RuntimeError(f"OVS port errors: {err}")

    def placement(self):
        """{port: pmd core} and {core: summed rx queue usage %}."""
        own, use, core = {}, {}, None
        for ln in self.appctl("dpif-netdev/pmd-rxq-show").splitlines():
            w = ln.split()
            if ln.startswith("pmd thread") and "core_id" in w:
                core = int(w[w.index("core_id") + 1].rstrip(":"))
                use.setdefault(core, 0)
            elif w[:1] == ["port:"] and core is not None:
                own[w[1]] = core
                if "usage:" in w and w[w.index("usage:") + 1].isdigit():
                    use[core] += int(w[w.index("usage:") + 1])
        return own, use

    def cpu_s(self):
        return proc_cpu_s(self.pid)

    def stop(self):
        try:
            sh("ovs-appctl", "-t", self.ctl, "exit", "--cleanup", env=self.env, check=False,
               timeout=15)
        except subprocess.TimeoutExpired:
            pass
        for f in ("ovs-vswitchd.pid", "ovsdb-server.pid"):
            pf = self.d / f
            if pf.exists():
                try:
                    os.kill(int(pf.read_text()), 15)
                except (ProcessLookupError, ValueError):
                    pass
        sh("ip", "netns", "del", self.ns, check=False)


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cleanup(procs, switch, nss):
    for p in procs:
        p.terminate()
    switch.stop()
    for ns in nss:
        sh("ip", "netns", "del", ns, check=False)


def iperf_servers():
    return [subprocess.Popen(
        ["ip", "netns", "exec", f"{SFX}{s}", "iperf3", "-s", "-B", f"10.78.0.{HOSTS[s]}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for s in ("B", "D")]


def iperf_clients(senders, rate, secs):
    return [subprocess.Popen(
        ["ip", "netns", "exec", f"{SFX}{s}", "iperf3", "-u", "-c", f"10.78.0.{HOSTS[DST[s]]}",
         "-b", rate, "-t", str(secs), "-l", "1200", "-J"], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True) for s in senders]


def iperf_results(clients, secs):
    """(received kpps summed over the streams, loss strings)."""
    kpps, loss = 0.0, []
    for c in clients:
        try:
            out, _ = c.communicate(timeout=secs + 30)
        except subprocess.TimeoutExpired:
            c.kill()
            out = ""
        try:
            e = json.loads(out)["end"]["sum"]
            kpps += (e["packets"] - e["lost_packets"]) / max(e["seconds"], 1e-3) / 1e3
            loss.append(f"{e.get('lost_percent', 0):.2f}%")
        except (ValueError, KeyError, TypeError):
            loss.append("?")
    return kpps, ",".join(loss) or "-"


def run_xvs(a, tmp):
    """The scenario on xvs; returns (per-phase results, CPU-seconds, wall)."""
    x = Xvsd(a.build, tmp)
    nss, procs = [], []
    try:
        nss = [add_vm(x, n) for n in "BADC"]  # slots: B, D on worker 0; A, C on 1
        x.rpc("balancer.set", options={"enabled": "on", "interval-ms": a.interval_ms,
                                       "high": a.high, "low": a.low, "hysteresis": 2,
                                       "hold-intervals": 2})
        tsc_hz = x.rpc("queue.show")["tsc_hz"]
        procs = iperf_servers()
        time.sleep(0.5)
        secs = max(1, int(round(a.phase)))
        cpu0 = x.cpu_s()
        t_start = time.monotonic()
        prev = sample(x, tsc_hz)
        summary = []
        print("xvs timeline (100 ms):")
        print(f"{'t(s)':>6} {'phase':6} {'w0 busy%':>8} {'w1 busy%':>8} {'w0':>6} {'w1':>6} "
              f"{'kpps':>8} {'moves':>5}  owners")
        for name, senders in PHASES:
            clients = iperf_clients(senders, a.rate, secs)
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
            rx_kpps, loss = iperf_results(clients, secs)
            el = time.monotonic() - t_phase
            summary.append({"name": name, "kpps": (prev["sw"] - pk0) / el / 1e3,
                            "rx_kpps": rx_kpps, "b0": b_sum[0] / max(n, 1),
                            "b1": b_sum[1] / max(n, 1), "moves": prev["moves"] - moves0,
                            "last": last_move, "loss": loss,
                            "cpu_pct": 100 * (x.cpu_s() - cpu_p) / el})
        cpu = x.cpu_s() - cpu0
        wall = time.monotonic() - t_start
        print()
        print(f"{'phase':6} {'kpps':>8} {'rx kpps':>8} {'w0 busy%':>8} {'w1 busy%':>8} "
              f"{'moves':>5} {'last move (s)':>13} {'intervals':>9} {'xvsd cpu%':>9}  iperf3 loss")
        for r in summary:
            lms = f"{r['last']:.1f}" if r["last"] is not None else "-"
            its = f"{r['last'] / (a.interval_ms / 1000):.1f}" if r["last"] is not None else "-"
            print(f"{r['name']:6} {r['kpps']:8.1f} {r['rx_kpps']:8.1f} {r['b0']:8.1f} "
                  f"{r['b1']:8.1f} {r['moves']:5d} {lms:>13} {its:>9} {r['cpu_pct']:9.1f}  "
                  f"{r['loss']}")
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
        return summary, cpu, wall
    finally:
        cleanup(procs, x, nss)


def run_ovs(a, tmp):
    """The scenario on OVS with pmd-auto-lb; returns (per-phase results, CPU-seconds, wall)."""
    o = Ovs(tmp, a)
    nss, procs = [], []
    try:
        nss = [o.add_host(n) for n in "BADC"]
        time.sleep(1)
        o.check_ports()
        for s, d in DST.items():
            r = nsx(f"{SFX}{s}", "ping", "-c", "2", "-W", "2", f"10.78.0.{HOSTS[d]}", check=False)
            if r.returncode != 0:
                raise RuntimeError(f"OVS: {s} does not reach {d}: {r.stdout}")
        procs = iperf_servers()
        time.sleep(0.5)
        secs = max(1, int(round(a.phase)))
        cpu0 = o.cpu_s()
        t_start = time.monotonic()
        own, _ = o.placement()
        summary = []
        print("\nOVS timeline (1 s; usage: pmd-rxq-show's rx queue usage, summed per PMD):")
        for name, senders in PHASES:
            clients = iperf_clients(senders, a.rate, secs)
            t_phase, last_change, changes = time.monotonic(), None, 0
            cpu_p = o.cpu_s()
            while time.monotonic() - t_phase < a.phase:
                time.sleep(min(1.0, max(0.0, a.phase - (time.monotonic() - t_phase))))
                cur, use = o.placement()
                if cur != own:
                    last_change, changes = time.monotonic() - t_phase, changes + 1
                    own = cur
                print(f"{time.monotonic() - t_start:6.1f} {name:6} " +
                      " ".join(f"pmd{c} {u:3d}%" for c, u in sorted(use.items())) + "  " +
                      " ".join(f"{p}:{c}" for p, c in sorted(own.items())))
            rx_kpps, loss = iperf_results(clients, secs)
            el = time.monotonic() - t_phase
            summary.append({"name": name, "rx_kpps": rx_kpps, "moves": changes,
                            "last": last_change, "loss": loss,
                            "cpu_pct": 100 * (o.cpu_s() - cpu_p) / el})
        cpu = o.cpu_s() - cpu0
        wall = time.monotonic() - t_start
        auto = [ln for ln in (o.d / "ovs-vswitchd.log").read_text().splitlines()
                if "auto load balance" in ln.lower() or "auto lb" in ln.lower()]
        print(f"OVS log, auto load balance lines: {len(auto)}" +
              "".join(f"\n  {ln}" for ln in auto[-5:]))
        return summary, cpu, wall
    finally:
        cleanup(procs, o, nss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true",
                    help="2 s phases: checks the plumbing (OVS cannot rebalance in it)")
    ap.add_argument("--phase", type=float, default=3.0)
    ap.add_argument("--rate", default="50M")
    ap.add_argument("--interval-ms", type=int, default=200)
    ap.add_argument("--high", type=int, default=15)
    ap.add_argument("--low", type=int, default=5)
    ap.add_argument("--build", default=str(REPO / "build"))
    ap.add_argument("--no-ovs", action="store_true", help="xvs alone")
    ap.add_argument("--ovs-load-threshold", type=int, default=95)
    ap.add_argument("--ovs-improvement-threshold", type=int, default=25)
    ap.add_argument("--ovs-rebal-interval", type=int, default=1, help="minutes (>= 1)")
    a = ap.parse_args()
    if a.quick:
        a.phase = 2.0
    tmp = tempfile.mkdtemp(prefix="loadshift")
    xr, xcpu, xwall = run_xvs(a, tmp)
    if a.no_ovs or not Path(OVS_VSWITCHD).exists():
        print("Open vSwitch with pmd-auto-lb: not measured (--no-ovs, or no "
              f"{OVS_VSWITCHD})")
        return 0
    orr, ocpu, owall = run_ovs(a, tmp)
    itv = a.interval_ms / 1000

    def rb(r):
        return f"{r['last']:.1f}" if r["last"] is not None else "never"

    print(f"\nside by side (phases of {a.phase:g} s, {a.rate} per stream; xvs balancer every "
          f"{a.interval_ms} ms, OVS pmd-auto-lb threshold {a.ovs_load_threshold}%, "
          f"improvement {a.ovs_improvement_threshold}%, interval {a.ovs_rebal_interval} min):")
    print(f"{'phase':6} {'xvs rx kpps':>11} {'ovs rx kpps':>11} {'xvs/ovs':>7} "
          f"{'xvs rebal (s)':>13} {'(intervals)':>11} {'ovs rebal (s)':>13} "
          f"{'xvs loss':>9} {'ovs loss':>9} {'xvs cpu%':>8} {'ovs cpu%':>8}")
    for x, o in zip(xr, orr):
        ratio = f"{x['rx_kpps'] / o['rx_kpps']:.2f}" if o["rx_kpps"] > 0 else "-"
        its = f"{x['last'] / itv:.1f}" if x["last"] is not None else "-"
        print(f"{x['name']:6} {x['rx_kpps']:11.1f} {o['rx_kpps']:11.1f} {ratio:>7} "
              f"{rb(x):>13} {its:>11} {rb(o):>13} {x['loss']:>9} {o['loss']:>9} "
              f"{x['cpu_pct']:8.1f} {o['cpu_pct']:8.1f}")
    print(f"CPU-seconds over the run: xvsd {xcpu:.2f} in {xwall:.1f} s, ovs-vswitchd "
          f"{ocpu:.2f} in {owall:.1f} s; xvs/ovs {xcpu / max(ocpu, 1e-9):.2f} "
          f"(target <= 0.50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
