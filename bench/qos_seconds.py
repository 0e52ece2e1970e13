#!/usr/bin/python3
"""qos_seconds.py: the memory-only QoS (or policy) cost from one-second rates.

  XVS_ANCHORS=... BENCH_PCAPS=... XB_STATE=/tmp/xbstate_q \\
  bench/qos_seconds.py [--starts 6] [--secs 8] [--pcap udp64_10kflows.pcap]
                       [--configs xvs-fdb,xvs-fdb-qos8] [TREE...]

Starts xvsd (datapath_xvs.py's configs and setup, imported from each TREE's bench/,
default this tree) with the two --configs (the base first; e.g. xvs-fdb,xvs-fdb-sec-acl100
for the port-security set with the 100-rule ACL) alternately, --starts times each
per tree (trees alternate too), and samples p2's tx rate and the worker thread's CPU
ticks every second for --secs seconds after 2 s of warm-up. Per start it prints the
per-second rates per CPU-second; per tree and config the median of the starts'
medians and of their best seconds, and the second / base ratio of both.

Why besides datapath_xvs.py: on this VM host the rate of the same build and config
moves by up to 2x between starts and within one (host interference that neither the
worker's CPU share nor CPU pressure shows; both configs alike, bench/README.md), so
one mean over 6 s per rep compares a fast QoS-off second with a slow QoS-on one. The
best second of a start is the switch-level analogue of micro_qos's minimum over trials.
"""
import argparse, importlib.util, os, statistics, sys, time



def load(tree):
    spec = importlib.util.spec_from_file_location(f"dx_{abs(hash(tree))}",
                                                  os.path.join(tree, "bench", "datapath_xvs.py"))
    dx = importlib.util.module_from_spec(spec)
    argv, sys.argv = sys.argv, ["datapath_xvs.py"]
    spec.loader.exec_module(dx)
    sys.argv = argv
    return dx


_own = None


def own():
    """this tree's datapath_xvs module"""
    global _own
    if _own is None:
        _own = load(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    return _own


def worker_ticks(pid):
    for tid in os.listdir(f"/proc/{pid}/task"):
        st = open(f"/proc/{pid}/task/{tid}/stat").read()
        if "rte-worker" in st:
            f = st.rsplit(")", 1)[1].split()
            return int(f[11]) + int(f[12])
    return None


def xvs_up(dx, cfgname, pcap, cpu=None, state=None, xvsd=None):
    """xvsd (or the binary xvsd) with config cfgname forwarding pcap -> null, its worker
    on CPU cpu (default dx.SW_CORE) and its files in state (default datapath_xvs.py's):
    (Xvs, pid)"""
    cfg = dx.XVS_CONFIGS[cfgname]
    x = dx.Xvs(1, str(dx.SW_CORE if cpu is None else cpu), cfg.get("args", ""))
    if state is not None:
        x.env["XVS_STATE"] = state
        x.sock = os.path.join(state, "xvsd.sock")
    if xvsd is not None:
        x.env["XVSD"] = xvsd  # bench/lib.sh
    x.start()
    try:
        # the ports set up as this tree's datapath_xvs.py does, for a tree of any age
        own().add_ports(x, cfg, pcap, [f"path={os.path.join(dx.PCAPS, pcap)}"])
        return x, int(open(os.path.join(x.env["XVS_STATE"], "xvsd.pid")).read())
    except BaseException:
        x.stop()
        raise


class Rate:
    """p2's tx rate per CPU-second of the worker since the last call"""

    def __init__(self, x, pid):
        self.x, self.pid, self.hz = x, pid, os.sysconf("SC_CLK_TCK")
        self.p, self.w = x.ports()["p2"]["tx_packets"], worker_ticks(pid)

    def __call__(self):
        p, w = self.x.ports()["p2"]["tx_packets"], worker_ticks(self.pid)
        r = (p - self.p) / ((w - self.w) / self.hz) / 1e6 if w > self.w else None
        self.p, self.w = p, w
        return r


def one_start(dx, cfgname, pcap, secs):
    """per-second Mpps per CPU-second of p2's tx, one xvsd start"""
    x, pid = xvs_up(dx, cfgname, pcap)
    try:
        time.sleep(2)
        rate, out = Rate(x, pid), []
        for _ in range(int(secs)):
            time.sleep(1)
            r = rate()
            if r is not None:
                out.append(r)
        return out
    finally:
        x.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--starts", type=int, default=6)
    ap.add_argument("--secs", type=float, default=8)
    ap.add_argument("--pcap", default="udp64_10kflows.pcap")
    ap.add_argument("--configs", default="xvs-fdb,xvs-fdb-qos8",
                    help="base,other: two of datapath_xvs.py's XVS_CONFIGS")
    ap.add_argument("trees", nargs="*", default=[os.path.join(os.path.dirname(__file__), "..")])
    a = ap.parse_args()
    configs = a.configs.split(",")
    if len(configs) != 2:
        sys.exit("--configs: two configs, the base first")
    base, other = configs
    dxs = {t: load(os.path.abspath(t)) for t in a.trees}
    dx0 = next(iter(dxs.values()))
    r = dx0.sh(f"{dx0.ANCHORS}/topo.sh up")  # xvsd runs in the switch namespace
    if r.returncode:
        sys.exit("topo.sh up failed: " + r.stderr)
    res = {(t, c): [] for t in a.trees for c in configs}
    for i in range(a.starts):
        for t in a.trees:
            for c in configs:
                s = one_start(dxs[t], c, a.pcap, a.secs)
                res[(t, c)].append(s)
                print(f"start {i + 1} {t} {c}: Mpps per CPU-s each second",
                      " ".join(f"{v:.2f}" for v in s), flush=True)
    print(f"{a.pcap}, {a.starts} starts of {a.secs:.0f} s each:")
    for t in a.trees:
        med = {c: statistics.median(statistics.median(s) for s in res[(t, c)] if s) for c in configs}
        best = {c: statistics.median(max(s) for s in res[(t, c)] if s) for c in configs}
        print(f"  {t}: median second {med[base]:.2f} / {med[other]:.2f} "
              f"(ratio {med[other] / med[base]:.2f}); best second "
              f"{best[base]:.2f} / {best[other]:.2f} "
              f"(ratio {best[other] / best[base]:.2f}) Mpps per CPU-s, {base} / {other}")


if __name__ == "__main__":
    main()
