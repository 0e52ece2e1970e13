#!/usr/bin/python3
"""afxdp.py — the namespace benchmark's AF_XDP rows: xvs against the bare AF_XDP relay
and Open vSwitch's AF_XDP ports, in one run (issue 11, item 5).

Usage (root): bench/afxdp.py [--runs 3] [--configs xvs,xdprelay,xdprelay-spin,ovs]
                             [--count 200] [--interval 0.01] [--secs 5] [--out FILE]

One topology for all (the anchors' topo.sh, under names of its own so that it does
not meet a bench/run.sh running beside it):

   [h1: eth0] ==veth== [sw1 | switch netns | sw2] ==veth== [eth0 :h2]

with the switch's AF_XDP sockets on sw1 and sw2, its forwarding thread on
$XB_SW_CORE (1), and per config:
  xvs            bench/run_xvs.sh XVS_PORT=afxdp (two afxdp ports, 1 worker; it sleeps)
  xdprelay       bench/run_xdprelay.sh: bench/xdprelay.c sleeping in epoll_wait
  xdprelay-spin  the same relay, never sleeping
  ovs            anchors' run_ovs.sh OVS_PORT=afxdp (OVS's own netdev-afxdp, type=afxdp,
                 NORMAL; Debian's ovs-vswitchd without DPDK: OVS_VSWITCHD); its pmd spins
Rows per config: ping p50/p99 (COUNT pings at INTERVAL: at 10 ms a sleeping switch
falls asleep between pings), the switch's CPU use over the ping run (% of a core,
/proc/PID/stat of all its threads), iperf3 TCP Gbit/s, iperf3 UDP 18-byte payload
(64 B frames) unlimited: received pps and loss %. Each config RUNS times, the configs
interleaved; prints median [min-max] per row, the ratios xvs/xdprelay and xvs/ovs,
and JSON (--out, default bench/results/afxdp-RUNID.json).
"""
import argparse, json, os, statistics, subprocess, sys, time
from pathlib import Path

from coldping import proc_ticks as ticks, rtts  # /proc/PID/stat of all threads; ping -> us

BENCH = Path(__file__).resolve().parent
# As bench/lib.sh: the anchor harness beside the repository, or $XVS_ANCHORS.
ANCHORS = Path(os.environ.get("XVS_ANCHORS", BENCH.parent.parent / "shared" / "bench" / "anchors"))
# Names of our own: bench/run.sh and other benchmarks use the anchors' defaults.
ENV = dict(os.environ, XB_SWNS="xdrsw", XB_H1="xdrh1", XB_H2="xdrh2", XB_SW1="xdrsw1",
           XB_SW2="xdrsw2", XB_STATE="/tmp/xdrstate", XVS_ANCHORS=str(ANCHORS))
H1, H2 = ENV["XB_H1"], ENV["XB_H2"]
H2_IP = "192.0.2.2"
CLK = os.sysconf("SC_CLK_TCK")
CONFIGS = {
    "xvs": (BENCH / "run_xvs.sh", {"XVS_PORT": "afxdp"}),
    "xdprelay": (BENCH / "run_xdprelay.sh", {"RELAY_MODE": "epoll"}),
    "xdprelay-spin": (BENCH / "run_xdprelay.sh", {"RELAY_MODE": "spin"}),
    "ovs": (ANCHORS / "run_ovs.sh", {"OVS_PORT": "afxdp", "OVS_FLOWS": "normal",
                                     "OVS_VSWITCHD": "/usr/sbin/ovs-vswitchd"}),
}
ROWS = [("p50_us", "ping p50 us"), ("p99_us", "ping p99 us"), ("cpu_pct", "CPU % (ping)"),
        ("tcp_gbps", "TCP Gbit/s"), ("udp_kpps", "UDP 64B kpps"), ("udp_loss_pct", "UDP loss %")]
LOWER_BETTER = {"p50_us", "p99_us", "cpu_pct", "udp_loss_pct"}


def sh(cmd, env=ENV, timeout=120):
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def nsx(ns, cmd, **kw):
    return sh(["ip", "netns", "exec", ns] + cmd, **kw)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def ping(pids, count, interval):
    nsx(H1, ["ping", "-n", "-c", "5", "-i", "0.05", "-W", "1", H2_IP])  # ARP, learning
    time.sleep(0.5)
    c0, t0 = ticks(pids), time.monotonic()
    out = nsx(H1, ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", "1", H2_IP],
              timeout=count * interval + 60).stdout
    c1, t1 = ticks(pids), time.monotonic()
    rtt = rtts(out)
    if not rtt:
        return {"error": "no ping reply"}
    return {"p50_us": round(statistics.median(rtt)), "p99_us": round(pct(rtt, 99)),
            "lost": count - len(rtt), "cpu_pct": round(100.0 * (c1 - c0) / CLK / (t1 - t0), 1)}


def iperf(args, secs):
    srv = subprocess.Popen(["ip", "netns", "exec", H2, "iperf3", "-s", "-1", "-B", H2_IP],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        r = nsx(H1, ["taskset", "-c", ENV.get("XB_GEN_CORE", "0"), "iperf3", "-c", H2_IP,
                     "-t", str(secs), "-J", "--connect-timeout", "3000"] + args,
                timeout=secs + 30)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {"error": (r.stdout + r.stderr)[-300:]}
    finally:
        try:
            srv.wait(timeout=5)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


def one(name, o):
    runner, extra = CONFIGS[name]
    env = dict(ENV, **extra)
    res = {"config": name}
    sh([str(ANCHORS / "topo.sh"), "up"])
    # AF_XDP moves frames with partial checksums as they are: off, as bench_switch.sh does
    for h in (H1, H2):
        nsx(h, ["ethtool", "-K", "eth0", "tx", "off"])
    try:
        r = sh([str(runner), "start"], env=env, timeout=120)
        if r.returncode != 0:
            res["error"] = "start: " + (r.stdout + r.stderr)[-300:]
            return res
        res["info"] = sh([str(runner), "info"], env=env).stdout.strip()
        pids = [int(p) for p in sh([str(runner), "pids"], env=env).stdout.split() if p.isdigit()]
        for _ in range(30):
            if nsx(H1, ["ping", "-c", "1", "-W", "1", H2_IP]).returncode == 0:
                break
            time.sleep(0.5)
        else:
            res["error"] = "no connectivity"
            return res
        res.update(ping(pids, o.count, o.interval))
        j = iperf([], o.secs)
        if "end" in j:
            res["tcp_gbps"] = round(j["end"]["sum_received"]["bits_per_second"] / 1e9, 3)
        j = iperf(["-u", "-l", "18", "-b", "0"], o.secs)
        if "end" in j and "sum" in j["end"]:
            s = j["end"]["sum"]
            got = s["packets"] - s["lost_packets"]
            res["udp_kpps"] = round(got / s["seconds"] / 1000, 1)
            res["udp_loss_pct"] = round(s["lost_percent"], 1)
    finally:
        sh([str(runner), "stop"], env=env, timeout=60)
        sh([str(ANCHORS / "topo.sh"), "down"])
    return res


def fmt(v):
    return "-" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--interval", type=float, default=0.01)
    ap.add_argument("--secs", type=int, default=5, help="iperf3 seconds per test")
    ap.add_argument("--out")
    o = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("afxdp.py needs root (namespaces, AF_XDP)")
    if not (ANCHORS / "topo.sh").exists():
        sys.exit(f"no anchor harness in {ANCHORS} (set XVS_ANCHORS)")
    cfgs = o.configs.split(",")
    for c in cfgs:
        if c not in CONFIGS:
            sys.exit(f"unknown config {c} ({', '.join(CONFIGS)})")
    rid = time.strftime("%Y%m%d-%H%M%S")
    out = Path(o.out) if o.out else BENCH / "results" / f"afxdp-{rid}.json"
    recs = []
    for run in range(o.runs):
        for c in cfgs:  # interleaved: a load change on the host hits every config
            r = one(c, o)
            r["run"] = run
            print(json.dumps(r), file=sys.stderr, flush=True)
            recs.append(r)
    summ = {}
    for c in cfgs:
        summ[c] = {}
        for k, _ in ROWS:
            v = [r[k] for r in recs if r["config"] == c and r.get(k) is not None]
            if v:
                summ[c][k] = {"median": statistics.median(v), "min": min(v), "max": max(v),
                              "n": len(v)}
    ratios = [(f"xvs/{a}", a) for a in ("xdprelay", "ovs") if a in summ and "xvs" in summ]
    print(f"# AF_XDP rows, {o.runs} runs, median [min-max]; {o.count} pings at "
          f"{o.interval * 1000:g} ms, iperf3 {o.secs} s")
    print("| row | " + " | ".join(cfgs) + " | " + " | ".join(r for r, _ in ratios) + " |")
    print("|---" * (1 + len(cfgs) + len(ratios)) + "|")
    for k, label in ROWS:
        cells = []
        for c in cfgs:
            s = summ[c].get(k)
            cells.append(f"{fmt(s['median'])} [{fmt(s['min'])}-{fmt(s['max'])}]" if s else "-")
        for _, a in ratios:
            x, y = summ["xvs"].get(k), summ[a].get(k)
            cells.append(f"{x['median'] / y['median']:.2f}" if x and y and y["median"] else "-")
        print(f"| {label} | " + " | ".join(cells) + " |")
    for r in recs:
        if "error" in r:
            print(f"run {r['run']} {r['config']}: {r['error']}")
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"runs": recs, "summary": summ, "count": o.count, "interval": o.interval,
           "secs": o.secs, "info": {r["config"]: r.get("info") for r in recs}}
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(summ))
    print(f"(raw: {out})")


if __name__ == "__main__":
    main()
