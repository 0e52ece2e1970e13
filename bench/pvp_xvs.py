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

Configs: testpmd-io (pvp.py's floor, run by pvp.py's own function), xvs, xvs-before (the
same with XVSD_BEFORE/XVSCTL_BEFORE: another build, e.g. the commit before a change).
pcaps: BENCH_PCAPS (as datapath_xvs.py).
Everything runs in a namespace and state directory of its own (PVP_NS, XB_STATE), and the
guest with its own DPDK file prefix, so a benchmark of another worktree may run meanwhile
(its load then shows in the figures).

Usage: pvp_xvs.py [--pcaps udp64_1flow.pcap,udp64_10kflows.pcap,imix.pcap]
                  [--configs testpmd-io,xvs] [--reps 3] [--warm 3] [--secs 6] [--out FILE]
Prints one JSON line per run, then a summary line per (pcap, config): min-median-max Mpps.
"""
import argparse, importlib.util, json, os, statistics, subprocess, sys, time

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
VLAN = ["vlan-mode=trunk", "trunks=1-4094", "native=1"]


def start_guest(sock0, sock1):
    """pvp.py's guest (mac forwarding to its PEER_MAC), under a DPDK file prefix of ours."""
    cmd = (f"dpdk-testpmd {pvp.MEM} --lcores 0@{pvp.GUEST_CORE},1@{pvp.GUEST_CORE} --main-lcore 0 "
           f"--file-prefix {GUEST_PREFIX} --vdev net_virtio_user0,path={sock0},queues=1 "
           f"--vdev net_virtio_user1,path={sock1},queues=1 -- --forward-mode=mac "
           f"--eth-peer=0,02:00:00:00:0f:01 --eth-peer=1,{pvp.PEER_MAC} --nb-cores=1 "
           f"--port-topology=paired --total-num-mbufs=16384 --stats-period 1 --auto-start")
    return pvp.popen(cmd, os.path.join(pvp.STATE, "xvs-guest.log"))


def run_xvs(pcap, a, before=False):
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
        p0, t0 = x.ports(), time.time()
        time.sleep(a.secs)
        p1, t1 = x.ports(), time.time()
        dt = t1 - t0
        d = lambda p, k: round((p1[p][k] - p0[p][k]) / dt / 1e6, 3)
        drops = lambda p: {k: round((v - p0[p]["drops"][k]) / dt / 1e6, 3)
                           for k, v in p1[p]["drops"].items() if v - p0[p]["drops"][k]}
        mpps = d("p2", "tx_packets")
        return {"ok": mpps > 0, "mpps": mpps, "p1_rx_mpps": d("p1", "rx_packets"),
                "vh0_tx_mpps": d("vh0", "tx_packets"), "vh1_rx_mpps": d("vh1", "rx_packets"),
                "vh0_drops_mpps": drops("vh0"), "p1_drops_mpps": drops("p1"),
                "secs": round(dt, 2)}
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
    a = ap.parse_args()
    a.pcap_dir = dx.PCAPS
    os.makedirs(pvp.STATE, exist_ok=True)
    subprocess.run(["ip", "netns", "add", NS], capture_output=True)
    try:
        res = run_matrix("pcap", a.pcaps.split(","), a.configs.split(","), a.reps, a.out,
                         lambda pcap, c: pvp.run_testpmd(pcap, a) if c == "testpmd-io"
                         else run_xvs(pcap, a, before=(c == "xvs-before")))
    finally:
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    for (pcap, c), v in res.items():
        floor = res.get((pcap, "testpmd-io"))
        ratio = (f" = {statistics.median(v) / statistics.median(floor):.2f} x testpmd-io"
                 if floor and c != "testpmd-io" else "")
        print(f"{pcap:22s} {c:12s} Mpps min {min(v):.2f} median {statistics.median(v):.2f} "
              f"max {max(v):.2f} ({len(v)} runs){ratio}")


if __name__ == "__main__":
    main()
