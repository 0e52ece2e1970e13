#!/usr/bin/python3
"""datapath_xvs.py — memory-only datapath (pcap replay -> null), xvs beside the anchors.

The anchors (testpmd io/mac, OVS NORMAL with static FDB / flood) are run by the
functions of $XVS_ANCHORS/datapath.py itself (imported, with its pcap directory
pointed at ours, because the anchors' own pcaps/ directory is read-only and empty).
xvs gets the same input: port p1 = "pcap path=<file> infinite=on" (net_pcap
rx_pcap=<file>,infinite_rx=1), port p2 = "null" (net_null no-rx=1), one worker on
XB_SW_CORE (xvsd --workers 1 --cpus 1), control thread on CPU 0.

xvs configs:
  xvs-fdb      the pcap's dst MACs installed as static FDB entries on p2 (what OVS
               "normal-fdb" does with ovs-appctl fdb/add): unicast forwarding.
  xvs-flood    no FDB entries: every frame is flooded (p2 is the only other port, so
               one copy; OVS's flood also copies to its down internal port).
  xvs-fdb-2w   as xvs-fdb with xvsd --workers 2 --cpus 0,1 (pcap has 1 rx queue:
               worker 2 can only help through the tx hand-off; see README).
Both xvs ports are VLAN trunks (trunks=1-4094 native=1) for every pcap, like OVS's
default ports: the 10k-flow pcap carries VLAN 10 and 20 and untagged frames; an
untagged dst MAC is installed in the native VLAN 1.

Rate = delta tx_packets of p2 (xvs's own port counter, `xvsctl --json port stats`)
over --secs after --warm seconds of warm-up. Records (one JSON line per run) go to --out.
Interference check, every record: run_cpu_pressure_pct = share of the whole run (start
to stop) during which some task waited for a CPU (/proc/pressure/cpu); xvs records also
have worker_cpu_pct (CPU share its worker thread got in the window, ~100 when alone on
its core) and window_cpu_pressure_pct.

Usage: datapath_xvs.py [--reps 3] [--warm 3] [--secs 6] [--pcaps a,b]
                       [--configs testpmd-io,testpmd-mac,ovs-normal-fdb,ovs-normal-flood,xvs-fdb,xvs-flood]
                       [--out FILE] [--run-id ID]
"""
import argparse, importlib.util, json, os, signal, subprocess, sys, time

BENCH = os.path.dirname(os.path.abspath(__file__))
E = os.environ
ANCHORS = os.path.abspath(E.get("XVS_ANCHORS", os.path.join(BENCH, "..", "..", "shared", "bench", "anchors")))
PCAPS = E.get("BENCH_PCAPS", os.path.join(BENCH, "results", "pcaps"))
STATE = E.get("XB_STATE", "/tmp/xbstate")
SW_CORE = E.get("XB_SW_CORE", "1")
RUNNER = os.path.join(BENCH, "run_xvs.sh")
XVSCTL = E.get("XVSCTL", os.path.join(BENCH, "..", "build", "cli", "xvsctl"))


def load_anchor_datapath():
    spec = importlib.util.spec_from_file_location("anchor_datapath", os.path.join(ANCHORS, "datapath.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    m.PCAPS = PCAPS  # its module-level pcap dir (used by devargs() and the OVS fdb list)
    return m


def sh(cmd, timeout=120, env=None):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout, env=env)


class Xvs:
    def __init__(self, workers, cpus):
        self.env = dict(E, XVS_PORT="none", XVS_WORKERS=str(workers), XVS_CPUS=cpus,
                        XVS_STATE=os.path.join(STATE, "xvs-dp"))
        self.sock = os.path.join(self.env["XVS_STATE"], "xvsd.sock")

    def start(self):
        r = sh(f"{RUNNER} start", env=self.env)
        if r.returncode:
            raise RuntimeError("xvs start: " + (r.stdout + r.stderr)[-600:])

    def stop(self):
        sh(f"{RUNNER} stop", env=self.env)

    def ctl(self, *args, json_out=False, check=True):
        cmd = [XVSCTL, "--socket", self.sock] + (["--json"] if json_out else []) + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=self.env)
        if check and r.returncode:
            raise RuntimeError(f"xvsctl {' '.join(args)}: {r.stdout[-300:]} {r.stderr[-300:]}")
        return json.loads(r.stdout) if json_out else r.stdout

    def ctl_batch(self, lines):
        """many xvsctl calls in one shell (one process each, no python overhead)"""
        script = "\n".join(f"{XVSCTL} --socket {self.sock} {l} >/dev/null || echo FAIL {l}" for l in lines)
        r = sh(script, env=self.env, timeout=300)
        fails = [l for l in r.stdout.splitlines() if l.startswith("FAIL")]
        if fails:
            raise RuntimeError(f"{len(fails)} xvsctl calls failed, first: {fails[0]} {r.stderr[-300:]}")

    def ports(self):
        return {p["name"]: p for p in self.ctl("port", "stats", json_out=True)["ports"]}

    def workers(self):
        return self.ctl("worker", "stats", json_out=True)["workers"]


def psi_total():
    """microseconds some task waited for a CPU (PSI), None without /proc/pressure"""
    try:
        for l in open("/proc/pressure/cpu"):
            if l.startswith("some"):
                return int(l.split("total=")[1])
    except (OSError, IndexError, ValueError):
        return None


def psi_pct(t0, p0, t1, p1):
    return round((p1 - p0) / 1e6 / (t1 - t0) * 100, 1) if p0 is not None and p1 is not None else None


def thread_ticks(pid):
    """{tid: utime+stime} of every thread of pid"""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            f = open(f"/proc/{pid}/task/{tid}/stat").read()
            f = f[f.rindex(")") + 2:].split()
            out[tid] = int(f[11]) + int(f[12])
        except (OSError, ValueError):
            pass
    return out


def fdb_entries(pcap):
    """(vlan, mac) of the pcap's destinations; VLAN 0 (untagged) -> native VLAN 1"""
    if "10k" in pcap:
        ent = [l.split() for l in open(os.path.join(PCAPS, "fdb_10kflows.txt")) if l.strip()]
    else:
        ent = [["0", E.get("XB_H2_MAC", "02:00:00:00:02:02")]]
    return [(int(v) or 1, m) for v, m in ent]


def run_xvs(pcap, mode, a):
    workers, cpus = (2, "0,1") if mode.endswith("-2w") else (1, SW_CORE)
    x = Xvs(workers, cpus)
    try:
        x.start()
        vlan = ["vlan-mode=trunk", "trunks=1-4094", "native=1"]
        x.ctl("port", "add", "p2", "null", *vlan)
        ent = fdb_entries(pcap)
        if mode.startswith("xvs-fdb"):
            x.ctl_batch([f"fdb add {m} vlan={v} port=p2" for v, m in ent])
        # the pcap port last: traffic starts with the FDB already in place
        x.ctl("port", "add", "p1", "pcap", f"path={os.path.join(PCAPS, pcap)}", "infinite=on", *vlan)
        time.sleep(a.warm)
        pid = int(open(os.path.join(x.env["XVS_STATE"], "xvsd.pid")).read())
        s0, t0, psi0, th0 = x.ports(), time.time(), psi_total(), thread_ticks(pid)
        time.sleep(a.secs)
        s1, t1, psi1, th1 = x.ports(), time.time(), psi_total(), thread_ticks(pid)
        w = x.workers()
        sw = x.ctl("switch", "show")
        dt = t1 - t0
        d = lambda p, k: (s1[p][k] - s0[p][k]) / dt
        drops = {k: s1["p1"]["drops"][k] - s0["p1"]["drops"][k] for k in s1["p1"]["drops"]
                 if s1["p1"]["drops"][k] - s0["p1"]["drops"][k]}
        static = next((l.split()[1] for l in sw.splitlines() if l.strip().startswith("static")), None)
        res = {"ok": True, "mpps": round(d("p2", "tx_packets") / 1e6, 3),
               "p1_rx_mpps": round(d("p1", "rx_packets") / 1e6, 3),
               "p1_forwarded_mpps": round(d("p1", "forwarded") / 1e6, 3),
               "p1_flooded_mpps": round(d("p1", "flooded") / 1e6, 3),
               "p1_drops_mpps": round(d("p1", "drops_total") / 1e6, 3),
               "p1_drops": drops, "fdb_static": int(static) if static else None,
               "fdb_expected": len(ent) if mode.startswith("xvs-fdb") else 0,
               "workers": [{k: wk.get(k) for k in ("worker", "cpu", "busy_pct", "rx_pps", "queues")} for wk in w],
               "secs": round(dt, 2), "xvsd_workers": workers, "xvsd_cpus": cpus,
               # CPU share the busiest xvsd thread (the worker) got in the window: < ~95 %
               # means something else ran on its core; PSI: anything waiting for a CPU
               "worker_cpu_pct": round(max((th1[t] - th0.get(t, 0)) for t in th1) * 100.0
                                       / os.sysconf("SC_CLK_TCK") / dt, 1) if th1 else None,
               "window_cpu_pressure_pct": psi_pct(t0, psi0, t1, psi1)}
        if res["mpps"] <= 0:
            res["ok"] = False
            res["err"] = "nothing forwarded"
        return res
    except Exception as e:  # noqa: a failed config is recorded, the run goes on
        log = os.path.join(x.env["XVS_STATE"], "xvsd.log")
        tail = open(log, errors="replace").read()[-400:] if os.path.exists(log) else ""
        return {"ok": False, "err": f"{e} | {tail}"}
    finally:
        x.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warm", type=float, default=3)
    ap.add_argument("--secs", type=float, default=6)
    ap.add_argument("--pcaps", default="udp64_1flow.pcap,udp64_10kflows.pcap,imix.pcap")
    ap.add_argument("--configs", default="testpmd-io,testpmd-mac,ovs-normal-fdb,ovs-normal-flood,xvs-fdb,xvs-flood")
    ap.add_argument("--out", default=os.path.join(BENCH, "results", "datapath.jsonl"))
    ap.add_argument("--run-id", default=time.strftime("%Y%m%d-%H%M%S"))
    a = ap.parse_args()
    # TERM (timeout, interrupted run.sh) -> SystemExit, so the finally blocks stop the
    # switch under test (the anchors' testpmd has no pid file)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    dp = load_anchor_datapath()
    for p in a.pcaps.split(","):
        if not os.path.exists(os.path.join(PCAPS, p)):
            sys.exit(f"missing {PCAPS}/{p}: run {ANCHORS}/gen_pcaps.py {PCAPS}")
    # OVS and xvs run inside the switch namespace: make sure it exists
    r = sh(f"{ANCHORS}/topo.sh up")
    if r.returncode:
        sys.exit("topo.sh up failed: " + r.stderr)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    try:
        with open(a.out, "a") as out:
            for pcap in a.pcaps.split(","):
                for rep in range(1, a.reps + 1):
                    for c in a.configs.split(","):
                        t, psi0 = time.time(), psi_total()
                        if c.startswith("testpmd-"):
                            res = dp.run_testpmd(pcap, c.split("-", 1)[1], a)
                        elif c.startswith("ovs-"):
                            res = dp.run_ovs(pcap, c, a)
                        elif c.startswith("xvs-"):
                            res = run_xvs(pcap, c, a)
                        else:
                            sys.exit(f"unknown config {c}")
                        rec = {"run": a.run_id, "part": "datapath", "label": c, "pcap": pcap, "rep": rep,
                               "ts": time.strftime("%F %T"), "warm": a.warm, "secs": a.secs,
                               "wall_s": round(time.time() - t, 1),
                               "run_cpu_pressure_pct": psi_pct(t, psi0, time.time(), psi_total()), **res}
                        print(json.dumps(rec), flush=True)
                        out.write(json.dumps(rec) + "\n"); out.flush()
    finally:
        sh(f"{ANCHORS}/topo.sh down")


if __name__ == "__main__":
    main()
