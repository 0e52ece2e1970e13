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
"""
import argparse, importlib.util, os, re, statistics, subprocess, sys, time

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


def bare_start(dx, pcap, secs, floor):
    """per-second Mpps of pvprelay's port 1 tx (its forwarding lcore polls all the time:
    Mpps per CPU-second)"""
    fdb = os.path.join(os.environ.get("XB_STATE", "/tmp"), "policy-anchor-fdb.txt")
    os.makedirs(os.path.dirname(fdb), exist_ok=True)
    with open(fdb, "w") as f:
        f.writelines(f"{v} {m} 1\n" for v, m in dx.fdb_entries(pcap))
    cmd = [PVPRELAY, "--no-huge", "-m", "1024", "--no-pci", "-l", f"0,{dx.SW_CORE}",
           "--main-lcore", "0", "--file-prefix", "xbpolicyanchor", "--log-level", "error",
           "--vdev", f"net_pcap0,rx_pcap={os.path.join(dx.PCAPS, pcap)},infinite_rx=1",
           "--vdev", "net_null0,no-rx=1", "--", fdb] + (["policy-floor"] if floor else [])
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(2 + secs + 0.5)
    finally:
        p.terminate()
        out = p.communicate(timeout=30)[0]
    rates = [int(r) / 1e6 for r in TX1.findall(out)]
    if not rates or (floor and "policy floor: found" not in out):
        sys.exit(f"pvprelay failed: {out[-1500:]}")
    m = re.search(r"policy floor: found (\d+) written (\d+) not clean (\d+)", out)
    if m and int(m.group(1)) < 10 * int(m.group(2)):
        sys.exit(f"the policy floor's table does not hold the flows: {m.group(0)}")
    return rates[2:2 + int(secs)]  # after 2 s of warm-up


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--starts", type=int, default=4)
    ap.add_argument("--secs", type=float, default=5)
    ap.add_argument("--pcap", default="udp64_10kflows.pcap")
    a = ap.parse_args()
    qs = load("qos_seconds")
    dx = qs.load(os.path.join(BENCH, ".."))
    r = dx.sh(f"{dx.ANCHORS}/topo.sh up")  # xvsd runs in the switch namespace
    if r.returncode:
        sys.exit("topo.sh up failed: " + r.stderr)
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
