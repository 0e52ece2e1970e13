#!/usr/bin/python3
"""pvp_xvs.py — PVP (physical -> virtual -> physical) with xvs beside the anchors of
$XVS_ANCHORS/pvp.py (issue 11, item 4).

The same four ports as the anchors: p1 = pcap replayed forever (the "physical" input), vh0
and vh1 = vhost-user ports to one guest, p2 = null (the "physical" output). The guest is
pvp.py's: dpdk-testpmd with two net_virtio_user ports in mac forwarding, frames entering
on vh0 leave on vh1 with destination 02:00:00:00:0f:02. xvs: one worker on XB_SW_CORE, all
four ports VLAN trunks (the 10k-flow pcap carries VLANs 10 and 20), a static FDB: the
pcap's destination MACs on vh0 and the peer MAC on p2 in every VLAN (as pvp.py's
ovs-normal). Rate = p2's tx_packets over --secs after --warm seconds.

Configs: testpmd-io (pvp.py's floor, run by pvp.py's own function), bare-learning (the
anchor of a learning switch: build/pvprelay, or PVPRELAY, run exactly as pvp.py runs
testpmd-io -- same ports, mempool, cores, guest, warm-up and window, its rates read from
the same per-second stats lines -- doing io forwarding plus one rte_hash bulk lookup of each
frame's destination and source, the VLAN bitmaps and the 1 s source refresh; its table
holds the static entries xvs gets), xvs, xvs-before (the same with
XVSD_BEFORE/XVSCTL_BEFORE: another build, e.g. the commit before a change).
pcaps: BENCH_PCAPS (as datapath_xvs.py).
Everything runs in a namespace and state directory of its own (PVP_NS, XB_STATE), and the
guest with its own DPDK file prefix, so a benchmark of another worktree may run meanwhile
(its load then shows in the figures).

CPU (every config, over the rate window, from /proc/PID/task/TID/schedstat): guest_cpu =
the guest's forwarding thread's share of a CPU, sw_cpu = the switch's forwarding thread's
(its worker), cpu0_other = the switch's and the guest's other threads (main, vhost events),
all on the guest's CPU. p1_mpps_per_sw_cpu = p1's rx rate / sw_cpu: p1 frames the switch
takes per CPU-second of its worker (most of them then dropped at vh0 as tx_full), its
cost per frame whichever thread the load slowed. mpps_per_guest_cpu = mpps / guest_cpu. mpps_both_running = mpps /
(guest_cpu * sw_cpu): the rate while both forwarding threads run, if the host's other
load takes their CPUs independently (a guest without its switch drains at most its ring,
a switch without its guest drops): the figure that a loaded host disturbs least, and
the second summary line.
--burst-stats: both testpmds (guest and testpmd-io's switch) run with --record-burst-stats
--record-core-cycles; the record then holds the guest's rx burst sizes on port 0 (what
the switch's enqueues gave it) and its cycles per packet (TSC over
non-empty bursts: a burst preempted by the host's other load counts its wait too).

Usage: pvp_xvs.py [--pcaps udp64_1flow.pcap,udp64_10kflows.pcap,imix.pcap]
                  [--configs testpmd-io,xvs] [--reps 3] [--warm 3] [--secs 6] [--out FILE]
                  [--burst-stats]
Prints one JSON line per run, then a summary line per (pcap, config): min-median-max Mpps,
and the same of mpps_both_running and of p1_mpps_per_sw_cpu; each with its ratio to testpmd-io and, for xvs, to
bare-learning.
"""
import argparse, importlib.util, json, os, re, statistics, subprocess, sys, threading, time

BENCH = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("XB_STATE", "/tmp/xbstate-pvpxvs")
os.environ.setdefault("BENCH_PCAPS", os.path.join(BENCH, "results", "pcaps"))
# the anchor harness beside the repository, or beside a worktree's parent directory
for _up in ("../..", "../../.."):
    _a = os.path.normpath(os.path.join(BENCH, _up, "shared", "bench", "anchors"))
    if os.path.isdir(_a):
        os.environ.setdefault("XVS_ANCHORS", _a)
        break
sys.path.insert(0, BENCH)
import datapath_xvs as dx  # noqa: E402  (Xvs runner, fdb_entries, PCAPS, ANCHORS)

_spec = importlib.util.spec_from_file_location("pvp", os.path.join(dx.ANCHORS, "pvp.py"))
pvp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pvp)

NS = os.environ.get("PVP_NS", "xbpvpxvs")
GUEST_PREFIX = "xbpvpxvsguest"
BARE_PREFIX = "xbpvpbare"
PVPRELAY = os.environ.get("PVPRELAY", os.path.join(BENCH, "..", "build", "pvprelay"))
VLAN = ["vlan-mode=trunk", "trunks=1-4094", "native=1"]


GUEST_STATS = "--record-burst-stats --record-core-cycles"
_popen = pvp.popen


def popen_stats(cmd, logf, env=None):
    """pvp.popen with testpmd's burst and cycle records (--burst-stats)"""
    return _popen(cmd.replace(" -- ", f" -- {GUEST_STATS} ", 1), logf, env)


def testpmd_pid(prefix, prog=b"dpdk-testpmd"):
    """pid of the dpdk-testpmd (or prog) started with --file-prefix prefix, or None"""
    for d in os.listdir("/proc"):
        try:
            c = open(f"/proc/{d}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if c and c[0].endswith(prog) and prefix.encode() in c:
            return int(d)
    return None


def cpu_ns(pid):
    """{tid: (name, ns on a CPU)} of every thread of pid ({} if it is gone)"""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            d = f"/proc/{pid}/task/{tid}"
            name = open(f"{d}/comm").read().strip()
            out[tid] = (name, int(open(f"{d}/schedstat").read().split()[0]))
        except (OSError, ValueError, IndexError):
            pass
    return out


def cpu_split(c0, c1, dt):
    """(forwarding thread's share of a CPU, other threads' share) between two cpu_ns()"""
    fwd = other = 0
    for tid, (name, ns) in c1.items():
        d = ns - c0.get(tid, (name, ns))[1]
        if re.fullmatch(r"(?:rte|lcore)-worker-\d+", name):
            fwd += d
        else:
            other += d
    return fwd / 1e9 / dt, other / 1e9 / dt


def cpu_record(sw0, sw1, g0, g1, dt, mpps):
    gf, go = cpu_split(g0, g1, dt)
    sf, so = cpu_split(sw0, sw1, dt)
    return {"guest_cpu": round(gf, 3), "sw_cpu": round(sf, 3), "cpu0_other": round(go + so, 3),
            "mpps_per_guest_cpu": round(mpps / gf, 3) if mpps and gf > 0 else None,
            "mpps_both_running": round(mpps / gf / sf, 3) if mpps and gf > 0 and sf > 0 else None}


def guest_bursts(logf):
    """the guest's rx bursts on port 0 and its cycles per packet, from the stats
    testpmd prints when it stops (--record-burst-stats --record-core-cycles)"""
    try:
        txt = open(logf, errors="replace").read()
    except OSError:
        return {}
    out = {}
    port0 = [t for t in txt.split("Forward statistics for port ") if t.startswith("0 ")]
    m = re.search(r"RX-bursts : (\d+) \[([^\]]*)\]", port0[-1]) if port0 else None
    if m:
        out["guest_rx_bursts"] = int(m.group(1))
        out["guest_rx_burst_mix"] = m.group(2).strip()
    m = re.search(r"CPU cycles/packet=([\d.]+)", txt)
    if m:
        out["guest_cycles_per_packet"] = float(m.group(1))
    return out


def run_bare(pcap, a):
    """pvp.run_testpmd with build/pvprelay as the switch instead of dpdk-testpmd: the same
    command line up to the program (EAL arguments, vdevs, cores, mempool), the same guest
    (pvp.start_guest), warm-up and window, and pvp.testpmd_rates on its stats lines"""
    s0, s1 = os.path.join(pvp.STATE, "bare0.sock"), os.path.join(pvp.STATE, "bare1.sock")
    for s in (s0, s1):
        if os.path.exists(s):
            os.unlink(s)
    fdb = os.path.join(pvp.STATE, "bare-fdb.txt")
    ent = dx.fdb_entries(pcap)  # port ids: p1 0, vh0 1, vh1 2, p2 3 (the --vdev order)
    with open(fdb, "w") as f:
        f.writelines(f"{v} {m} 1\n" for v, m in ent)
        f.writelines(f"{v} {pvp.PEER_MAC} 3\n" for v in sorted({v for v, _ in ent}))
    logf = os.path.join(pvp.STATE, "bare.log")
    cmd = (f"{PVPRELAY} {pvp.MEM} --lcores 0@{pvp.GUEST_CORE},1@{pvp.SW_CORE} --main-lcore 0 "
           f"--file-prefix {BARE_PREFIX} "
           f"--vdev net_pcap0,rx_pcap={os.path.join(a.pcap_dir, pcap)},infinite_rx=1 "
           f"--vdev net_vhost0,iface={s0},queues=1 --vdev net_vhost1,iface={s1},queues=1 "
           f"--vdev net_null0,no-rx=1 -- {fdb}")
    sw = _popen(cmd, logf)  # not popen_stats: no testpmd options for pvprelay
    guest = None
    try:
        for _ in range(100):
            if os.path.exists(s0) and os.path.exists(s1):
                break
            time.sleep(0.1)
        guest = pvp.start_guest(s0, s1, server=False)
        time.sleep(a.warm + a.secs + 3)
    finally:
        pvp.stop(guest)
        pvp.stop(sw)
    mpps, txt = pvp.testpmd_rates(logf, 3, a)
    r = {"ok": True, "mpps": mpps} if mpps else {"ok": False, "err": txt[-600:]}
    m = re.search(r"pvprelay: drops unknown-dst (\d+) same-port (\d+) vlan (\d+) tx-full (\d+)"
                  r"; sources learned (\d+)", txt)
    if m:  # totals over the whole run, warm-up included
        r.update(zip(("unknown_dst", "same_port", "vlan_drops", "tx_full", "learned"),
                     map(int, m.groups())))
    return r


def run_testpmd(pcap, a, bare=False):
    """pvp.py's floor, by its own function (or with bare, run_bare: the learning anchor),
    with the CPU of both switch and guest sampled over (about) the seconds its rate is
    averaged over: warm + 1 .. warm + 1 + secs after the switch's first stats line"""
    cpu = {}
    prefix, prog, log = (BARE_PREFIX, b"pvprelay", "bare.log") if bare else \
        ("xbpvpsw", b"dpdk-testpmd", "switch.log")

    def sample():
        t_end = time.time() + 30
        while time.time() < t_end:
            sw, g = testpmd_pid(prefix, prog), testpmd_pid("xbpvpguest")
            if sw and g:
                break
            time.sleep(0.05)
        else:
            return
        time.sleep(a.warm + 1)
        s0, g0, t0 = cpu_ns(sw), cpu_ns(g), time.time()
        time.sleep(a.secs)
        cpu.update(sw0=s0, g0=g0, sw1=cpu_ns(sw), g1=cpu_ns(g), dt=time.time() - t0)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    r = run_bare(pcap, a) if bare else pvp.run_testpmd(pcap, a)
    th.join()
    if r.get("ok"):  # the switch's per-second port stats, over pvp.py's window
        txt = open(os.path.join(pvp.STATE, log), errors="replace").read()
        for key, port, what in (("p1_rx_mpps", 0, "Rx"), ("vh0_tx_mpps", 1, "Tx")):
            per = [int(v) for p, v in re.findall(r"NIC statistics for port (\d+).*?%s-pps:\s+(\d+)"
                                                 % what, txt, re.S) if p == str(port)]
            win = per[int(a.warm) + 1: int(a.warm) + 1 + int(a.secs)]
            r[key] = round(statistics.mean(win) / 1e6, 3) if win else None
    if cpu:
        r.update(cpu_record(cpu["sw0"], cpu["sw1"], cpu["g0"], cpu["g1"], cpu["dt"],
                            r.get("mpps")))
    if a.burst_stats:
        r.update(guest_bursts(os.path.join(pvp.STATE, "guest.log")))
    return r


def start_guest(sock0, sock1):
    """pvp.py's guest (mac forwarding to its PEER_MAC), under a DPDK file prefix of ours."""
    cmd = (f"dpdk-testpmd {pvp.MEM} --lcores 0@{pvp.GUEST_CORE},1@{pvp.GUEST_CORE} --main-lcore 0 "
           f"--file-prefix {GUEST_PREFIX} --vdev net_virtio_user0,path={sock0},queues=1 "
           f"--vdev net_virtio_user1,path={sock1},queues=1 -- --forward-mode=mac "
           f"--eth-peer=0,02:00:00:00:0f:01 --eth-peer=1,{pvp.PEER_MAC} --nb-cores=1 "
           f"--port-topology=paired --total-num-mbufs=16384 --stats-period 1 --auto-start")
    return pvp.popen(cmd, os.path.join(pvp.STATE, "xvs-guest.log"))


def run_xvs(pcap, a, before=False):
    r = _run_xvs(pcap, a, before)
    if a.burst_stats:
        r.update(guest_bursts(os.path.join(pvp.STATE, "xvs-guest.log")))
    return r


def _run_xvs(pcap, a, before):
    env, ctl = {}, dx.XVSCTL
    if before:
        env = {"XVSD": os.environ["XVSD_BEFORE"], "XVSCTL": os.environ["XVSCTL_BEFORE"]}
        dx.XVSCTL = env["XVSCTL"]  # what dx.Xvs.ctl runs
    x = dx.Xvs(1, dx.SW_CORE)
    x.env.update(env, XVS_NS=NS)
    s0, s1 = os.path.join(pvp.STATE, "xvs-vh0.sock"), os.path.join(pvp.STATE, "xvs-vh1.sock")
    guest = None
    try:
        x.start()
        x.ctl("port", "add", "p2", "null", *VLAN)
        x.ctl("port", "add", "vh0", "vhost", f"path={s0}", *VLAN)
        x.ctl("port", "add", "vh1", "vhost", f"path={s1}", *VLAN)
        ent = dx.fdb_entries(pcap)
        x.ctl_batch([f"fdb add {m} vlan={v} port=vh0" for v, m in ent] +
                    [f"fdb add {pvp.PEER_MAC} vlan={v} port=p2" for v in sorted({v for v, _ in ent})])
        guest = start_guest(s0, s1)
        for _ in range(300):
            ports = {p["name"]: p for p in x.ctl("port", "list", json_out=True)["ports"]}
            if all(ports[n]["link"] == "up" for n in ("vh0", "vh1")):
                break
            time.sleep(0.1)
        else:
            return {"ok": False, "err": "guest did not attach"}
        # the pcap port last: traffic starts with the FDB in place and the guest attached
        x.ctl("port", "add", "p1", "pcap", f"path={os.path.join(dx.PCAPS, pcap)}", "infinite=on",
              *VLAN)
        time.sleep(a.warm)
        gpid = testpmd_pid(GUEST_PREFIX)
        xpid = int(open(os.path.join(x.env["XVS_STATE"], "xvsd.pid")).read())
        p0, t0, g0, sw0 = x.ports(), time.time(), cpu_ns(gpid), cpu_ns(xpid)
        time.sleep(a.secs)
        p1, t1, g1, sw1 = x.ports(), time.time(), cpu_ns(gpid), cpu_ns(xpid)
        dt = t1 - t0
        d = lambda p, k: round((p1[p][k] - p0[p][k]) / dt / 1e6, 3)
        drops = lambda p: {k: round((v - p0[p]["drops"][k]) / dt / 1e6, 3)
                           for k, v in p1[p]["drops"].items() if v - p0[p]["drops"][k]}
        mpps = d("p2", "tx_packets")
        return {"ok": mpps > 0, "mpps": mpps, "p1_rx_mpps": d("p1", "rx_packets"),
                "vh0_tx_mpps": d("vh0", "tx_packets"), "vh1_rx_mpps": d("vh1", "rx_packets"),
                "vh0_drops_mpps": drops("vh0"), "p1_drops_mpps": drops("p1"),
                "secs": round(dt, 2), **cpu_record(sw0, sw1, g0, g1, dt, mpps)}
    finally:
        pvp.stop(guest)
        x.stop()
        dx.XVSCTL = ctl


def run_matrix(what, keys, configs, reps, out_path, run, value=lambda k, r: r.get("mpps")):
    """run(key, config) for every key, rep and config, in that order (the configs of one
    rep back to back); print each result as a JSON line (and append it to out_path);
    return {(key, config): [value of each run that gave one]}."""
    out = open(out_path, "a") if out_path else None
    res = {}
    for k in keys:
        for rep in range(1, reps + 1):
            for c in configs:
                r = run(k, c)
                rec = {"label": c, what: k, "rep": rep, "ts": time.strftime("%F %T"), **r}
                print(json.dumps(rec), flush=True)
                if out:
                    out.write(json.dumps(rec) + "\n")
                    out.flush()
                v = value(k, r)
                if v:
                    res.setdefault((k, c), []).append(v)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warm", type=float, default=3)
    ap.add_argument("--secs", type=float, default=6)
    ap.add_argument("--pcaps", default="udp64_1flow.pcap,udp64_10kflows.pcap,imix.pcap")
    ap.add_argument("--configs", default="testpmd-io,xvs")
    ap.add_argument("--out", default=None)
    ap.add_argument("--burst-stats", action="store_true")
    a = ap.parse_args()
    a.pcap_dir = dx.PCAPS
    if a.burst_stats:
        pvp.popen = popen_stats
    os.makedirs(pvp.STATE, exist_ok=True)
    subprocess.run(["ip", "netns", "add", NS], capture_output=True)
    per_cpu, per_sw = {}, {}

    def run(pcap, c):
        r = (run_testpmd(pcap, a, bare=(c == "bare-learning"))
             if c in ("testpmd-io", "bare-learning") else run_xvs(pcap, a, before=(c == "xvs-before")))
        if r.get("mpps_both_running"):
            per_cpu.setdefault((pcap, c), []).append(r["mpps_both_running"])
        if r.get("p1_rx_mpps") and r.get("sw_cpu"):  # the switch's cost per p1 frame
            r["p1_mpps_per_sw_cpu"] = round(r["p1_rx_mpps"] / r["sw_cpu"], 2)
            per_sw.setdefault((pcap, c), []).append(r["p1_mpps_per_sw_cpu"])
        return r

    try:
        res = run_matrix("pcap", a.pcaps.split(","), a.configs.split(","), a.reps, a.out, run)
    finally:
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    med = statistics.median
    xb = {}  # pcap: xvs / bare-learning (medians), Mpps and both running
    for what, vals in (("Mpps", res), ("Mpps both running", per_cpu),
                       ("p1 Mpps per switch CPU-s", per_sw)):
        for (pcap, c), v in vals.items():
            floor, bare = vals.get((pcap, "testpmd-io")), vals.get((pcap, "bare-learning"))
            ratio = (f" = {med(v) / med(floor):.2f} x testpmd-io"
                     if floor and c != "testpmd-io" else "")
            if bare and c.startswith("xvs"):
                ratio += f", {med(v) / med(bare):.2f} x bare-learning"
                if c == "xvs" and what != "p1 Mpps per switch CPU-s":
                    xb.setdefault(pcap, []).append(f"{what} {med(v) / med(bare):.2f}")
            print(f"{pcap:22s} {c:12s} {what} min {min(v):.2f} median {med(v):.2f} "
                  f"max {max(v):.2f} ({len(v)} runs){ratio}")
    for pcap, r in xb.items():
        print(f"{pcap:22s} xvs / bare-learning: " + ", ".join(r))

if __name__ == "__main__":
    main()
