#!/usr/bin/python3
"""summarize.py — the xvs-vs-anchors markdown table of one run of bench/run.sh.

Usage: summarize.py [--run-id ID] [--results DIR] [--header FILE]
Reads DIR/{datapath,traffic,coldping}-ID.jsonl (ID default: the newest run found) and
prints one headline table (every cell median [min–max] over the reps, with xvs/anchor
ratios of the medians), then the per-configuration detail tables.
"""
import argparse, glob, json, os, re, statistics
from collections import OrderedDict

BENCH = os.path.dirname(os.path.abspath(__file__))

# anchors each xvs number is compared with
DP_ANCHORS = {"testpmd-io": "testpmd-io", "testpmd-mac": "testpmd-mac"}
DP_ROWS = [  # (xvs label, description, OVS label to compare with)
    ("xvs-fdb", "static FDB, 1 worker", "ovs-normal-fdb"),
    ("xvs-flood", "flood (no FDB), 1 worker", "ovs-normal-flood"),
    ("xvs-fdb-2w", "static FDB, 2 workers (cpus 0,1)", "ovs-normal-fdb"),
]
PCAP_NAMES = OrderedDict([("udp64_1flow.pcap", "64B 1 flow"),
                          ("udp64_10kflows.pcap", "64B 10k flows/256 MACs/VLAN"),
                          ("imix.pcap", "IMIX 64/576/1500 7:4:1")])
TR_XVS = [("xvs-afxdp", "afxdp"), ("xvs-afpacket", "afpacket"), ("xvs-tap", "tap")]
TR_OVS = "ovs-dpdk-afxdp-normal"
TR_LB, TR_LB_ON = "linuxbridge", "linuxbridge-hostoffload-on"
# (metric name, unit, source test, value function, digits, ratio meaningful)
TR_METRICS = [
    ("ping RTT median", "µs", "ping", lambda r: r["p50_us"], 0, True),
    ("ping RTT p99", "µs", "ping", lambda r: r["p99_us"], 0, True),
    ("TCP 1 stream", "Gbit/s", "tcp1", lambda r: r["gbps"], 2, True),
    ("TCP 4 streams", "Gbit/s", "tcp4", lambda r: r["gbps"], 2, True),
    ("64B UDP delivered", "Mpps", "pps", lambda r: r["delivered_mpps"], 3, True),
    ("64B UDP offered", "Mpps", "pps", lambda r: r["offered_mpps"], 3, True),
    ("64B UDP loss", "%", "pps", lambda r: r["loss_pct"], 1, False),
    ("switch CPU under 64B", "% of 1 core", "pps", lambda r: r["switch_cpu_pct"], 0, True),
    ("idle CPU, switch", "% of 1 core", "idle", lambda r: r["switch_cpu_pct"], 1, True),
    ("idle CPU, whole system", "% of 1 core", "idle", lambda r: r["sys_busy_pct"], 1, False),
    ("first ping after 10 s silence, extra RTT", "µs", "coldping", lambda r: r["extra_us"], 0, False),
    ("first ping after 10 s silence, RTT", "µs", "coldping", lambda r: r["cold_us"], 0, True),
]


def load(path):
    return [json.loads(l) for l in open(path) if l.strip()] if os.path.exists(path) else []


def stats(vals):
    vals = [v for v in vals if v is not None]
    return (statistics.median(vals), min(vals), max(vals), len(vals)) if vals else None


def fmt(st, nd, fails=0):
    if st is None:
        return "FAIL" if fails else "—"
    med, lo, hi, n = st
    s = f"{med:.{nd}f}" if n == 1 else f"{med:.{nd}f} [{lo:.{nd}f}–{hi:.{nd}f}]"
    return s + (f" ({fails} failed)" if fails else "")


def ratio(a, b, ok=True):
    if not ok or a is None or b is None or not b[0]:
        return "—"
    return f"{a[0] / b[0]:.2f}"


class Traffic:
    """traffic.py records (idle once per session; others per rep) + coldping records"""

    def __init__(self, rows, cold):
        self.rows, self.cold = rows, cold
        self.labels = list(OrderedDict.fromkeys([r["label"] for r in rows + cold]))

    def recs(self, label, test):
        if test == "coldping":
            return [r for r in self.cold if r["label"] == label]
        if test == "idle":
            # traffic.py's idle window + every cold-ping silence (also an idle window)
            idle = [r for r in self.rows if r["label"] == label and r["test"] == "idle"]
            idle += [dict(r, switch_cpu_pct=r.get("idle_switch_cpu_pct"), sys_busy_pct=r.get("idle_sys_busy_pct"))
                     for r in self.cold if r["label"] == label and r.get("ok")]
            return idle
        return [r for r in self.rows if r["label"] == label and r["test"] == test]

    def kernel(self, label):
        idle = [r for r in self.rows if r["label"] == label and r["test"] == "idle" and r.get("ok")]
        return bool(idle) and idle[0].get("switch_cpu_pct") is None

    def cell(self, label, metric):
        name, unit, test, fn, nd, _ = metric
        rs = self.recs(label, test)
        if not rs:
            return None, "—"
        if "CPU" in name and "switch" in name and self.kernel(label):
            return None, "— (kernel)"
        okr = [r for r in rs if r.get("ok")]
        vals = []
        for r in okr:
            try:
                vals.append(fn(r))
            except KeyError:
                pass
        st = stats(vals)
        return st, fmt(st, nd, len(rs) - len(okr))


def headline(dp, tr):
    out = ["| part | metric | xvs config | xvs | testpmd-io | testpmd-mac | OVS | linuxbridge "
           "| linuxbridge, host offload on | xvs/testpmd-mac | xvs/OVS | xvs/linuxbridge |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def dpcell(label, pcap):
        rs = [r for r in dp if r["label"] == label and r["pcap"] == pcap]
        if not rs:
            return None, "—"
        okr = [r["mpps"] for r in rs if r.get("ok")]
        st = stats(okr)
        return st, fmt(st, 2, len(rs) - len(okr))

    for pcap, pname in PCAP_NAMES.items():
        if not any(r["pcap"] == pcap for r in dp):
            continue
        for xl, desc, ovsl in DP_ROWS:
            xs, xc = dpcell(xl, pcap)
            if xc == "—":
                continue
            io, ioc = dpcell("testpmd-io", pcap)
            mac, macc = dpcell("testpmd-mac", pcap)
            ov, ovc = dpcell(ovsl, pcap)
            out.append(f"| a. pcap→null | {pname}, Mpps | {desc} | {xc} | {ioc} | {macc} | {ovc} "
                       f"({ovsl.replace('ovs-', '')}) | — | — | {ratio(xs, mac)} | {ratio(xs, ov)} | — |")
    for m in TR_METRICS:
        part = "c. idle" if m[2] in ("idle", "coldping") else "b. namespaces"
        for xl, desc in TR_XVS:
            if xl not in tr.labels:
                continue
            xs, xc = tr.cell(xl, m)
            ov, ovc = tr.cell(TR_OVS, m)
            lb, lbc = tr.cell(TR_LB, m)
            lbon, lbonc = tr.cell(TR_LB_ON, m)
            # Tap ports carry offloads, so the tap variant runs with host offloads on
            # and is compared with the bridge in the same setting.
            ref = lbon if "tap" in xl else lb
            out.append(f"| {part} | {m[0]}, {m[1]} | {desc} | {xc} | — | — | {ovc} | {lbc} | {lbonc} | — "
                       f"| {ratio(xs, ov, m[5])} | {ratio(xs, ref, m[5])} |")
    return out


def dp_detail(dp):
    if not dp:
        return []
    pcaps = [p for p in PCAP_NAMES if any(r["pcap"] == p for r in dp)]
    labels = list(OrderedDict.fromkeys(r["label"] for r in dp))
    out = ["| config (pcap → null, 1 core unless noted) | " + " | ".join(f"{PCAP_NAMES[p]}, Mpps" for p in pcaps) + " |",
           "|---|" + "---|" * len(pcaps)]
    for lab in labels:
        cells = []
        for p in pcaps:
            rs = [r for r in dp if r["label"] == lab and r["pcap"] == p]
            okr = [r["mpps"] for r in rs if r.get("ok")]
            cells.append(fmt(stats(okr), 2, len(rs) - len(okr)))
        out.append(f"| {lab} | " + " | ".join(cells) + " |")
    return out


def dp_interference(dp):
    """one line on how undisturbed the datapath runs were"""
    pr = [(r.get("run_cpu_pressure_pct"), r["label"], r["pcap"]) for r in dp if r.get("run_cpu_pressure_pct") is not None]
    wk = [(r.get("worker_cpu_pct"), r["label"], r["pcap"]) for r in dp if r.get("worker_cpu_pct") is not None]
    out = []
    if pr:
        hi = max(pr)
        out.append(f"CPU pressure (PSI 'some', share of time a task waited for a CPU) during the datapath runs: "
                   f"median {statistics.median(p[0] for p in pr):.0f} %, max {hi[0]:.0f} % ({hi[1]}, {hi[2]}).")
    if wk:
        lo = min(wk)
        out.append(f"xvs worker thread's CPU share in the window: min {lo[0]:.0f} % ({lo[1]}, {lo[2]}) "
                   f"(~100 % = it had its core to itself).")
    if (pr and max(pr)[0] > 30) or (wk and min(wk)[0] < 95):
        out.append("**Warning: something else competed for the CPUs during the datapath part; "
                   "rates are lower and noisier than on a quiet host.**")
    return out


def tr_detail(tr):
    if not tr.labels:
        return []
    out = ["| switch | " + " | ".join(f"{m[0]} ({m[1]})" for m in TR_METRICS) + " |",
           "|---|" + "---|" * len(TR_METRICS)]
    for lab in tr.labels:
        out.append(f"| {lab} | " + " | ".join(tr.cell(lab, m)[1] for m in TR_METRICS) + " |")
    return out


def failures(dp, tr):
    out = []
    for r in dp + tr.rows + tr.cold:
        if not r.get("ok"):
            err = re.sub(r"\s+", " ", str(r.get("err", "")))[:240]
            out.append(f"- {r.get('part', 'traffic')} {r['label']} {r.get('pcap', r.get('test', ''))} "
                       f"rep {r.get('rep')}: {err}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-id")
    ap.add_argument("--results", default=os.path.join(BENCH, "results"))
    ap.add_argument("--header", help="markdown file printed before the tables")
    a = ap.parse_args()
    rid = a.run_id
    if not rid:
        ids = sorted({re.sub(r"^\w+-", "", os.path.basename(p))[:-6]
                      for p in glob.glob(os.path.join(a.results, "*-2*.jsonl"))})
        if not ids:
            raise SystemExit(f"no results in {a.results}")
        rid = ids[-1]
    dp = load(os.path.join(a.results, f"datapath-{rid}.jsonl"))
    tr = Traffic(load(os.path.join(a.results, f"traffic-{rid}.jsonl")),
                 load(os.path.join(a.results, f"coldping-{rid}.jsonl")))
    lines = []
    if a.header and os.path.exists(a.header):
        lines += open(a.header).read().rstrip("\n").splitlines() + [""]
    lines += headline(dp, tr)
    lines += ["", "Ratios are xvs median / anchor median of the raw value: for Mpps and Gbit/s higher is "
              "better, for RTT and CPU lower is better. OVS = OVS-DPDK NORMAL (datapath: static-FDB or "
              "flood variant as named; namespaces: net_af_xdp ports). xvs/linuxbridge uses the bridge with "
              "host TX checksum offload off (the same host setting as xvs and OVS) for the afxdp and "
              "afpacket variants, and with host offloads on for the tap variant, whose ports carry "
              "TSO/checksum metadata (that variant runs with host offloads on)."]
    d = dp_detail(dp)
    if d:
        lines += ["", "### Detail: memory-only datapath (every config of this run)", ""] + d
        lines += [""] + dp_interference(dp)
    t = tr_detail(tr)
    if t:
        lines += ["", "### Detail: namespace topology (every config of this run)", ""] + t
    f = failures(dp, tr)
    if f:
        lines += ["", "### Failed measurements", ""] + f
    print("\n".join(lines))


if __name__ == "__main__":
    main()
