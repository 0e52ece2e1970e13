#!/usr/bin/python3
"""policy_anchor.py: issue 12's policy cost at the switch beside its anchor, in one run.

  XVS_ANCHORS=... BENCH_PCAPS=... XB_STATE=/tmp/xbstate_q \\
  bench/policy_anchor.py [--starts 4] [--secs 5] [--pcap udp64_10kflows.pcap]

Four configs started in turn, --starts times each, each sampled every second for
--secs seconds after 2 s of warm-up (rates per CPU-second of the forwarding thread,
as bench/qos_seconds.py):
  bare          build/pvprelay (or PVPRELAY): a bare DPDK learning relay, pcap -> null,
                the pcap's destinations static on the null port (no xvs code)
  bare-floor    the same with "policy-floor": per frame, the guards' header checks and a
                bare exact-match lookup of the 5-tuple in a 1 MB table, the least any
                per-flow policy answer costs (bench/pvprelay.c)
  xvs-fdb       xvsd, the same pcap -> null (datapath_xvs.py's config)
  xvs-fdb-sec-acl100  xvsd with the port-security set and the 100-rule ACL on p1
Prints per config the median of the starts' median seconds and of their best seconds,
and the ratios bare-floor / bare (what the machine allows a per-flow policy at this
rate) and xvs-fdb-sec-acl100 / xvs-fdb (what xvs keeps; issue 12's target is 0.80).

  bench/policy_anchor.py --concurrent [--pairs bare:bare-floor,xvs-fdb:xvs-fdb-sec-acl100]

runs each pair's two at once instead, one forwarding thread on each CPU, and swaps
their CPUs every --period seconds (3), measuring each period but its first second
(xvsd per worker CPU-second; pvprelay from the seconds it printed in that time).
Per two consecutive periods (one in either order) it takes the geometric mean of their
ratios, and prints the median and range of those over --secs. The host moves each CPU
between a fast and a slow level on its own, for seconds to minutes (bench/README.md
"Session 16"), so configs started in turn meet different levels; at once and swapped,
each config meets both CPUs' levels and they cancel in the mean. A config may name its
binary (config@BINARY), so that two builds compare the same way; a config against
itself checks the method (1.0). A pair may be one of each (xvs-fdb:bare): the ratio of
the two switches' rates, which turns either one's policy ratio into ns a frame of the
other's.
"""
import argparse, importlib.util, math, os, re, statistics, subprocess, sys, threading, time

BENCH = os.path.dirname(os.path.abspath(__file__))
PVPRELAY = os.environ.get("PVPRELAY", os.path.join(BENCH, "..", "build", "pvprelay"))
TX1 = re.compile(r"NIC statistics for port 1 .*?Tx-pps:\s+(\d+)", re.S)


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(BENCH, name + ".py"))
    m = importlib.util.module_from_spec(spec)
    argv, sys.argv = sys.argv, [name + ".py"]
    spec.loader.exec_module(m)
    sys.argv = argv
    return m


def bare_up(dx, pcap, floor, cpu=None, prefix="xbpolicyanchor", binary=None):
    """pvprelay (or binary) pcap -> null (with the policy floor if floor), its forwarding
    lcore on CPU cpu (default dx.SW_CORE, the main lcore on 0; with cpu both on cpu)"""
    fdb = os.path.join(os.environ.get("XB_STATE", "/tmp"), f"{prefix}-fdb.txt")
    os.makedirs(os.path.dirname(fdb), exist_ok=True)
    with open(fdb, "w") as f:
        f.writelines(f"{v} {m} 1\n" for v, m in dx.fdb_entries(pcap))
    lcores = ["-l", f"0,{dx.SW_CORE}"] if cpu is None else ["--lcores", f"0@{cpu},1@{cpu}"]
    cmd = [binary or PVPRELAY, "--no-huge", "-m", "1024", "--no-pci", *lcores,
           "--main-lcore", "0", "--file-prefix", prefix, "--log-level", "error",
           "--vdev", f"net_pcap0,rx_pcap={os.path.join(dx.PCAPS, pcap)},infinite_rx=1",
           "--vdev", "net_null0,no-rx=1", "--", fdb] + (["policy-floor"] if floor else [])
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def bare_check(out, floor):
    """pvprelay's output out, its run over: its rates, or exit when it failed"""
    rates = [int(r) / 1e6 for r in TX1.findall(out)]
    if not rates or (floor and "policy floor: found" not in out):
        sys.exit(f"pvprelay failed: {out[-1500:]}")
    m = re.search(r"policy floor: found (\d+) written (\d+) not clean (\d+)", out)
    if m and int(m.group(1)) < 10 * int(m.group(2)):
        sys.exit(f"the policy floor's table does not hold the flows: {m.group(0)}")
    return rates


def bare_rates(p, secs, floor):
    """stop pvprelay p: its per-second Mpps of port 1 tx after 2 s of warm-up (its
    forwarding lcore polls all the time: Mpps per CPU-second)"""
    p.terminate()
    return bare_check(p.communicate(timeout=30)[0], floor)[2:2 + int(secs)]


def bare_start(dx, pcap, secs, floor):
    p = bare_up(dx, pcap, floor)
    try:
        time.sleep(2 + secs + 0.5)
    except BaseException:
        p.kill()
        raise
    return bare_rates(p, secs, floor)


def split_cfg(c):
    """"config[@binary]": (config, binary or None)"""
    cfg, _, binary = c.partition("@")
    return cfg, binary or None


def worker_tid(pid):
    """the thread id of pid's (first) DPDK worker lcore, xvsd's or pvprelay's"""
    for _ in range(50):
        for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
            try:
                name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            except OSError:
                continue
            if re.fullmatch(r"(?:rte|lcore)-worker-\d+", name):
                return int(tid)
        time.sleep(0.1)
    sys.exit(f"no DPDK worker thread in process {pid}")


class BareRate:
    """pvprelay p's port 1 tx rates as it prints them once a second, with the time each
    came (read on a thread of ours): the mean of those that came in a window"""

    def __init__(self, p):
        self.p, self.got, self.out = p, [], []
        self.t = threading.Thread(target=self.read, daemon=True)
        self.t.start()

    def read(self):
        port1 = False
        for line in self.p.stdout:
            self.out.append(line)
            if "NIC statistics for port" in line:
                port1 = line.split("port")[1].split()[0] == "1"
            elif port1 and "Tx-pps:" in line:
                self.got.append((time.time(), int(line.split()[-1]) / 1e6))

    def mean(self, t0, t1):
        v = [r for t, r in self.got if t0 < t <= t1]
        return statistics.mean(v) if v else None


BARE = ("bare", "bare-floor")


def pair_swapping(dx, qs, pcap, cfgs, periods, period):
    """cfgs[0] and cfgs[1] at once, their forwarding threads moved between CPUs 0 and 1
    every period seconds (cfgs[0] on CPU 0 first); the first second after a move is left
    out. Per period (its index, cfgs[0]'s CPU, the two rates, or None for a rate not
    measured or a thread found off its CPU at the end): xvsd's rates over the period's
    last period - 1 seconds, Mpps per worker CPU-second; pvprelay's the mean of the
    seconds it printed within them (per wall-second: its forwarding lcore polls all
    the time, and the thread's CPU is checked). The two may be one of each: a pvprelay
    beside an xvsd compares the two switches' rates"""
    bare = [split_cfg(c)[0] in BARE for c in cfgs]
    up, pids = [], []  # per config started: its BareRate, or its (Xvs, pid)
    ok = False
    try:
        for i, c in enumerate(cfgs):
            cfg, binary = split_cfg(c)
            if bare[i]:
                up.append(BareRate(bare_up(dx, pcap, cfg == "bare-floor", i,
                                           f"xbpolicypair{i}", binary)))
                pids.append(up[-1].p.pid)
            else:
                up.append(qs.xvs_up(dx, cfg, pcap, i, os.path.join(dx.STATE, f"xvs-pair{i}"),
                                    binary))
                pids.append(up[-1][1])
        tids = [worker_tid(pid) for pid in pids]
        time.sleep(2)
        out = []
        for k in range(periods):
            cpus = (k % 2, 1 - k % 2)
            for tid, cpu in zip(tids, cpus):
                os.sched_setaffinity(tid, {cpu})
            time.sleep(1)
            meters = [None if b else qs.Rate(*u) for b, u in zip(bare, up)]
            # a rate pvprelay printed at t is of the second before t
            t0 = time.time()
            time.sleep(period - 1)
            t1 = time.time()
            r = [m() if m else None for m in meters]
            if any(bare):
                time.sleep(0.1)
                r = [u.mean(t0 + 0.95, t1 + 0.05) if b else x for b, u, x in zip(bare, up, r)]
            # xvsd widens an idle worker's CPUs and pins it back to its own when busy
            # (worker.c): a period whose threads did not stay where they were put is
            # not one of this order
            if any(os.sched_getaffinity(tid) != {cpu} for tid, cpu in zip(tids, cpus)):
                r = [None, None]
            out.append((k, cpus[0], r[0], r[1]))
        ok = True
        return out
    finally:
        brs = [(u, c) for b, u, c in zip(bare, up, cfgs) if b]
        for b, u in zip(bare, up):
            if not b:
                try:
                    u[0].stop()
                except Exception as e:  # noqa: stop the other one too
                    print(f"stopping xvsd: {e}", file=sys.stderr)
        for br, _ in brs:
            br.p.terminate()
        for br, _ in brs:
            try:
                br.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                br.p.kill()
                br.p.wait()
            br.t.join(timeout=5)
        if ok:  # not over an exception already on its way
            for br, c in brs:
                bare_check("".join(br.out), split_cfg(c)[0] == "bare-floor")


def concurrent(dx, qs, a):
    """--concurrent: each pair's two configs at once on CPUs 0 and 1, swapped every
    --period seconds; the geometric mean of two periods' ratios, one in either order,
    cancels what each CPU's level (bench/README.md "Session 16") does to either config"""
    pairs = [p.split(":") for p in a.pairs.split(",")]
    for pr in pairs:
        for c in pr:
            cfg, binary = split_cfg(c)
            if len(pr) != 2 or not (cfg in BARE or cfg in dx.XVS_CONFIGS):
                sys.exit(f"--pairs: base:other, each bare, bare-floor or one of "
                         f"{', '.join(dx.XVS_CONFIGS)} (@binary optional), not {c}")
            if binary is not None and not os.access(binary, os.X_OK):
                sys.exit(f"{binary}: not an executable")
        if any(split_cfg(c)[0] in BARE for c in pr) and a.period < 3:
            sys.exit("--period: at least 3 s with pvprelay (it prints once a second)")
    if a.period < 2:
        sys.exit("--period: at least 2 s (the first after a swap is not counted)")
    periods = max(2, int(a.secs // a.period) // 2 * 2)
    res = {}
    for b, o in pairs:
        for i in range(a.starts):
            got = pair_swapping(dx, qs, a.pcap, (b, o), periods, a.period)
            ratios = [(k, c, y / x) for k, c, x, y in got if x and y]
            print(f"start {i + 1} {o} / {b}, per {a.period:.0f} s (CPU of {b}: rates, ratio): " +
                  ", ".join(f"{c}: {x:.2f} {y:.2f} {y / x:.3f}" if x and y else f"{c}: -"
                            for k, c, x, y in got), flush=True)
            # consecutive periods (one in either order), both measured
            res.setdefault((b, o), []).extend(
                math.sqrt(r1 * r2) for (k1, _, r1), (k2, _, r2) in zip(ratios, ratios[1:])
                if k2 == k1 + 1)
    print(f"{a.pcap}: pairs at once, swapped between CPUs every {a.period:.0f} s, {a.starts} "
          f"start(s) of {periods * a.period:.0f} s; the geometric mean of each two consecutive"
          " periods' ratios (one in either order), median (range):")
    for (b, o), g in res.items():
        if g:
            print(f"  {o} / {b}: {statistics.median(g):.3f} ({min(g):.3f}-{max(g):.3f})")
        else:
            print(f"  {o} / {b}: no period with both rates")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--starts", type=int, default=4)
    ap.add_argument("--secs", type=float, default=5,
                    help="seconds a start (--concurrent: rounded down to an even number of "
                    "periods, at least two; 24 gives four means a start)")
    ap.add_argument("--pcap", default="udp64_10kflows.pcap")
    ap.add_argument("--concurrent", action="store_true",
                    help="run each pair's two configs at once, one on each CPU, then swapped")
    ap.add_argument("--period", type=float, default=3,
                    help="--concurrent: seconds between swaps (the first after one not counted)")
    ap.add_argument("--pairs", default="bare:bare-floor,xvs-fdb:xvs-fdb-sec-acl100",
                    help="--concurrent: base:other pairs of configs, each bare, bare-floor or "
                    "an xvsd config, with @BINARY another pvprelay or xvsd (two builds: "
                    "xvs-fdb-sec-acl100@/tmp/old/xvsd:xvs-fdb-sec-acl100)")
    a = ap.parse_args()
    qs = load("qos_seconds")
    dx = qs.load(os.path.join(BENCH, ".."))
    r = dx.sh(f"{dx.ANCHORS}/topo.sh up")  # xvsd runs in the switch namespace
    if r.returncode:
        sys.exit("topo.sh up failed: " + r.stderr)
    if a.concurrent:
        try:
            concurrent(dx, qs, a)
        finally:
            dx.sh(f"{dx.ANCHORS}/topo.sh down")
        return
    cfgs = ("bare", "bare-floor", "xvs-fdb", "xvs-fdb-sec-acl100")
    res = {c: [] for c in cfgs}
    try:
        for i in range(a.starts):
            for c in cfgs:
                s = (bare_start(dx, a.pcap, a.secs, c == "bare-floor") if c.startswith("bare")
                     else qs.one_start(dx, c, a.pcap, a.secs))
                res[c].append(s)
                print(f"start {i + 1} {c}: Mpps per CPU-s each second",
                      " ".join(f"{v:.2f}" for v in s), flush=True)
    finally:
        dx.sh(f"{dx.ANCHORS}/topo.sh down")
    med = {c: statistics.median(statistics.median(s) for s in res[c] if s) for c in cfgs}
    best = {c: statistics.median(max(s) for s in res[c] if s) for c in cfgs}
    print(f"{a.pcap}, {a.starts} starts of {a.secs:.0f} s each (median second / best second,"
          " Mpps per CPU-s):")
    for c in cfgs:
        print(f"  {c:20s} {med[c]:6.2f} / {best[c]:6.2f}")
    for x, base in (("bare-floor", "bare"), ("xvs-fdb-sec-acl100", "xvs-fdb")):
        print(f"  {x} / {base}: median second {med[x] / med[base]:.2f}, "
              f"best second {best[x] / best[base]:.2f}")
    per = [(f[0] and b[0] and statistics.median(f) / statistics.median(b),
            x[0] and y[0] and statistics.median(y) / statistics.median(x))
           for b, f, x, y in zip(*(res[c] for c in cfgs))]
    print("  per start (bare-floor/bare, sec-acl100/xvs-fdb): " +
          ", ".join(f"{p:.2f}/{q:.2f}" for p, q in per))


if __name__ == "__main__":
    main()
