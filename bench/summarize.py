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
DP_ROWS = [  # (xvs label, description, OVS label to compare with, testpmd-mac label to compare with)
    ("xvs-fdb", "static FDB, 1 worker", "ovs-normal-fdb", "testpmd-mac"),
    ("xvs-flood", "flood (no FDB), 1 worker", "ovs-normal-flood", "testpmd-mac"),
    ("xvs-fdb-1w-hwq", "static FDB, 1 worker, 2-queue port (RSS-split pcap)", "ovs-normal-fdb", "testpmd-mac-2q"),
    ("xvs-fdb-2w-hwq", "static FDB, 2 workers, hardware RSS (2-queue port, profile static)", None,
     "testpmd-mac-2q-2c"),
    ("xvs-fdb-2w-swrss", "static FDB, 2 workers, software RSS (1-queue port, profile static)", None,
     "testpmd-mac-2q-2c"),
    ("xvs-fdb-2w-hwq-cons", "static FDB, 2 workers, 2-queue port, profile conservative", None,
     "testpmd-mac-2q-2c"),
    ("xvs-fdb-2w-norss", "static FDB, 2 workers, 1-queue port, rss=off", None, "testpmd-mac"),
    ("xvs-fdb-2w", "static FDB, 2 workers (cpus 0,1), before RSS", "ovs-normal-fdb", "testpmd-mac"),
]
TESTPMD_NOTE = {"testpmd-mac-2q": " (1 core, 2 queues)", "testpmd-mac-2q-2c": " (2 cores, 2 queues)"}
# RSS scaling rows: (2-worker label, 1-worker label, description, the testpmd pair (2 cores,
# 1 core) doing the same, shown beside it). The first one with data is the ratio the target
# applies to (the same 2-queue port, only the worker count differs).
RSS_TARGET = 1.8
TP2, TP1Q, TP1 = "testpmd-mac-2q-2c", "testpmd-mac-2q", "testpmd-mac"
RSS_SCALING = [
    ("xvs-fdb-2w-hwq", "xvs-fdb-1w-hwq", "hardware RSS: 2w-hwq / 1w-hwq (same 2-queue port)", (TP2, TP1Q)),
    ("xvs-fdb-2w-hwq", "xvs-fdb", "hardware RSS: 2w-hwq / xvs-fdb (1 worker, 1-queue port)", (TP2, TP1)),
    ("xvs-fdb-2w-swrss", "xvs-fdb", "software RSS: 2w-swrss / xvs-fdb (same 1-queue port)", None),
    ("xvs-fdb-2w-hwq-cons", "xvs-fdb-1w-hwq", "conservative profile: 2w-hwq-cons / 1w-hwq", (TP2, TP1Q)),
]
RSS_SPREAD = [("xvs-fdb-2w-hwq", "hardware RSS"), ("xvs-fdb-2w-swrss", "software RSS"),
              ("xvs-fdb-2w-hwq-cons", "conservative profile, 2-queue port"),
              ("xvs-fdb-2w-norss", "rss=off")]
PCAP_NAMES = OrderedDict([("udp64_1flow.pcap", "64B 1 flow"),
                          ("udp64_10kflows.pcap", "64B 10k flows/256 MACs/VLAN"),
                          ("imix.pcap", "IMIX 64/576/1500 7:4:1")])
TR_XVS = [("xvs-afxdp", "afxdp"), ("xvs-afpacket", "afpacket"), ("xvs-tap", "tap")]
TR_OVS = "ovs-dpdk-afxdp-normal"
TR_LB, TR_LB_ON = "linuxbridge", "linuxbridge-hostoffload-on"
# The bare tap-to-tap relay (bench/taprelay.c): beside the tap rows, the most a switch on
# tap devices reaches on this machine (sleeping in epoll; the spinning one for the cold ping)
TR_RELAY, TR_RELAY_SPIN = "taprelay", "taprelay-spin"
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
           "| linuxbridge, host offload on | xvs/testpmd-mac | xvs/OVS | xvs/linuxbridge "
           "| tap relay (epoll / spin) | xvs/tap relay |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

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
        for xl, desc, ovsl, macl in DP_ROWS:
            xs, xc = dpcell(xl, pcap)
            if xc == "—":
                continue
            # testpmd io: the 1-queue input ceiling, shown beside 1-queue testpmd-mac only
            io, ioc = dpcell("testpmd-io", pcap) if macl == "testpmd-mac" else (None, "—")
            mac, macc = dpcell(macl, pcap)
            if macc != "—":
                macc += TESTPMD_NOTE.get(macl, "")
            ov, ovc = dpcell(ovsl, pcap) if ovsl else (None, "—")
            if ovsl and ovc != "—":
                ovc += f" ({ovsl.replace('ovs-', '')})"
            out.append(f"| a. pcap→null | {pname}, Mpps | {desc} | {xc} | {ioc} | {macc} | {ovc} "
                       f"| — | — | {ratio(xs, mac)} | {ratio(xs, ov)} | — | — | — |")
        out += rss_rows(dp, pcap, pname, dpcell)
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
            rl, rlc = tr.cell(TR_RELAY, m) if "tap" in xl else (None, "—")
            if "tap" in xl and m[2] == "coldping" and TR_RELAY_SPIN in tr.labels:
                rlc += " / " + tr.cell(TR_RELAY_SPIN, m)[1]
            out.append(f"| {part} | {m[0]}, {m[1]} | {desc} | {xc} | — | — | {ovc} | {lbc} | {lbonc} | — "
                       f"| {ratio(xs, ov, m[5])} | {ratio(xs, ref, m[5])} | {rlc} | {ratio(xs, rl, m[5])} |")
    return out


def share_cell(rs):
    """per-worker share "w0/w1" (median of each worker's share) and imbalance median [min–max]"""
    sh = [r["share_pct"] for r in rs if r.get("ok") and r.get("share_pct")]
    if not sh:
        return None, "—"
    med = [statistics.median(s[i] for s in sh) for i in range(len(sh[0]))]
    imb = stats([r.get("imbalance_pct") for r in rs if r.get("ok") and r.get("share_pct")])
    return imb, "/".join(f"{v:.1f}" for v in med) + f", imbalance {fmt(imb, 1)} pp"


def rss_rows(dp, pcap, pname, dpcell):
    """scaling (2-worker / 1-worker median Mpps, target RSS_TARGET) and per-worker spread"""
    out = []
    short = pname.split(",")[0].split("/")[0]
    first = True
    for two, one, desc, tp in RSS_SCALING:
        a, _ = dpcell(two, pcap)
        b, _ = dpcell(one, pcap)
        if a is None or b is None or not b[0]:
            continue
        tp2, tp1 = (dpcell(tp[0], pcap)[0], dpcell(tp[1], pcap)[0]) if tp else (None, None)
        tpc = (f"{tp2[0] / tp1[0]:.2f} ({tp[0]} / {tp[1]}: {tp2[0]:.2f} / {tp1[0]:.2f})"
               if tp2 and tp1 and tp1[0] else "—")
        r = a[0] / b[0]
        verdict = f"meets ≥ {RSS_TARGET}" if r >= RSS_TARGET else f"below {RSS_TARGET}"
        cell = f"{r:.2f} ({a[0]:.2f} / {b[0]:.2f}; {verdict})"
        if first:
            cell = f"**{cell}**"
        out.append(f"| a. RSS scaling | {short}, 2-worker / 1-worker median Mpps (target ≥ {RSS_TARGET}) "
                   f"| {desc} | {cell} | — | {tpc} | — | — | — | — | — | — | — | — |")
        first = False
    for xl, desc in RSS_SPREAD:
        rs = [r for r in dp if r["label"] == xl and r["pcap"] == pcap]
        _, cell = share_cell(rs)
        if cell == "—":
            continue
        okr = [r for r in rs if r.get("ok")]
        hd = stats([r.get("handoff_drop_mpps") for r in okr])
        if hd and hd[2] > 0:
            pct = stats([100.0 * r["handoff_drop_mpps"] / r["p1_rx_mpps"] for r in okr
                         if r.get("handoff_drop_mpps") is not None and r.get("p1_rx_mpps")])
            cell += f"; hand-off drops {fmt(hd, 2)} Mpps = {fmt(pct, 0)} % of p1 rx"
        out.append(f"| a. RSS spread | {short}, share of p1's switched packets per worker, w0/w1 % "
                   f"(ideal 50/50) | {desc} | {cell} | — | — | — | — | — | — | — | — | — | — |")
    return out


def per_core(r):
    """Mpps per fully used worker core: Mpps / (sum of the worker threads' CPU share)"""
    cpu = sum(w.get("thread_cpu_pct") or 0 for w in r.get("workers", []))
    return r["mpps"] / cpu * 100 if cpu > 0 else None


def rss_detail(dp):
    """per-config RSS detail of the pcaps that have 2-worker records"""
    out = []
    for pcap, pname in PCAP_NAMES.items():
        labels = list(OrderedDict.fromkeys(r["label"] for r in dp if r["pcap"] == pcap
                                           and r.get("xvsd_workers") is not None
                                           and (r["xvsd_workers"] > 1 or r.get("p1_queues", 1) > 1
                                                or r["label"] == "xvs-fdb")))
        if not any(r.get("xvsd_workers", 1) > 1 for r in dp if r["pcap"] == pcap):
            continue
        out += ["", f"### Detail: RSS, {pname} (pcap → null)", "",
                "| config | p1 queues × workers | Mpps | share w0/w1 % | hand-off drops, Mpps | busy % w0/w1 "
                "(xvs) | worker thread CPU % w0/w1 [pinned CPU] | RSS mode, active workers (window start → end) "
                "| CPU pressure % (run) | Mpps per worker core |", "|---|---|---|---|---|---|---|---|---|---|"]
        for lab in labels:
            rs = [r for r in dp if r["label"] == lab and r["pcap"] == pcap]
            okr = [r for r in rs if r.get("ok")]
            if not okr:
                out.append(f"| {lab} | — | FAIL | — | — | — | — | — | — | — |")
                continue
            nw = okr[0]["xvsd_workers"]
            per_w = lambda k, nd: "/".join(
                fmt(stats([r["workers"][i].get(k) for r in okr if len(r.get("workers", [])) > i]), nd)
                for i in range(nw))
            pinned = ",".join(str(w.get("cpu_pinned")) for w in okr[0].get("workers", []))

            def state(r, k):
                st = r.get(k) or {}
                return f"{st.get('mode')} {st.get('workers_active')}"
            modes = sorted({f"{state(r, 'rss_start')} → {state(r, 'rss_end')}" for r in okr})
            out.append(f"| {lab} | {okr[0].get('p1_queues', 1)} × {nw} | "
                       f"{fmt(stats([r['mpps'] for r in okr]), 2, len(rs) - len(okr))} | "
                       f"{share_cell(rs)[1] if nw > 1 else '100'} | "
                       f"{fmt(stats([r.get('handoff_drop_mpps') for r in okr]), 2)} | {per_w('busy_pct', 0)} | "
                       f"{per_w('thread_cpu_pct', 0)} [{pinned}] | {'; '.join(modes)} | "
                       f"{fmt(stats([r.get('run_cpu_pressure_pct') for r in okr]), 0)} | "
                       f"{fmt(stats([per_core(r) for r in okr]), 2)} |")
        pc = {lab: stats([per_core(r) for r in dp if r["label"] == lab and r["pcap"] == pcap and r.get("ok")])
              for lab in ("xvs-fdb-2w-hwq", "xvs-fdb-1w-hwq")}
        if all(pc.values()) and pc["xvs-fdb-1w-hwq"][0]:
            out += ["", f"Mpps per worker core = Mpps ÷ the CPU share the worker threads got (summed): what "
                    f"each worker would do with its core to itself, an estimate of what host noise costs, "
                    f"not a measurement. On it, 2w-hwq / 1w-hwq would be "
                    f"{2 * pc['xvs-fdb-2w-hwq'][0] / pc['xvs-fdb-1w-hwq'][0]:.2f} "
                    f"(2 × {pc['xvs-fdb-2w-hwq'][0]:.2f} / {pc['xvs-fdb-1w-hwq'][0]:.2f})."]
        split = next((r["split_frames"] for r in dp if r["pcap"] == pcap and r.get("split_frames")), None)
        if split:
            tot = sum(split) or 1
            out += ["", "The 2-queue port replays the capture split by scripts/rss_split.py (Toeplitz, default "
                    "key, 128-entry table i mod 2): " + ", ".join(f"queue {q} {n} frames ({100.0 * n / tot:.1f} %)"
                                                                  for q, n in enumerate(split))
                    + ". Each queue replays its file forever, so with one worker per queue the share is the "
                    "ratio of the two workers' speeds; in software RSS it follows the hash (the same split) "
                    "unless hand-offs are dropped. Pinned CPU from the worker threads' affinity (xvsctl's "
                    "`cpu` field can differ, see README)."]
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
              "TSO/checksum metadata (that variant runs with host offloads on). The tap relay "
              "(bench/taprelay.c) moves frames between the same two taps with one read and one write "
              "each and nothing else: what any switch on tap devices can reach on this machine "
              "(cold ping: the relay sleeping in epoll / the relay spinning)."]
    d = dp_detail(dp)
    if d:
        lines += ["", "### Detail: memory-only datapath (every config of this run)", ""] + d
        lines += [""] + dp_interference(dp)
        lines += rss_detail(dp)
    t = tr_detail(tr)
    if t:
        lines += ["", "### Detail: namespace topology (every config of this run)", ""] + t
    f = failures(dp, tr)
    if f:
        lines += ["", "### Failed measurements", ""] + f
    print("\n".join(lines))


if __name__ == "__main__":
    main()
