#!/usr/bin/python3
"""datapath_xvs.py — memory-only datapath (pcap replay -> null), xvs beside the anchors.

The anchors (testpmd io/mac, OVS NORMAL with static FDB / flood) are run by the
functions of $XVS_ANCHORS/datapath.py itself (imported, with its pcap directory
pointed at ours, because the anchors' own pcaps/ directory is read-only and empty).
xvs gets the same input: port p1 = "pcap path=<file> infinite=on" (net_pcap
rx_pcap=<file>,infinite_rx=1), port p2 = "null" (net_null no-rx=1), one worker on
XB_SW_CORE (xvsd --workers 1 --cpus 1), control thread on CPU 0.

xvs configs (every one but xvs-flood installs the static FDB; see XVS_CONFIGS):
  xvs-fdb            the pcap's dst MACs installed as static FDB entries on p2 (what OVS
                     "normal-fdb" does with ovs-appctl fdb/add): unicast forwarding.
  xvs-flood          no FDB entries: every frame is flooded (p2 is the only other port, so
                     one copy; OVS's flood also copies to its down internal port).
  xvs-flood3         as xvs-flood with two more null ports p3, p4: every frame is flooded to
                     3 ports, 2 copies and the original (rate: p2's tx, as everywhere)
  xvs-fdb-acl100     xvs-fdb with 100 ACL rules on p1 (acl_rules(): 99 miss, 1 allows all)
  xvs-fdb-sec-acl100 the same plus the port-security set on p1: dhcp-guard, router-guard,
                     storm-limit, mac-spoof (as xvs-fdb-guards)
  xvs-fdb-qos8       xvs-fdb with egress QoS on p2 (qos=on link-rate=1T: never the limit) and
                     8 classes (default flow + 7 traffic classes by UDP source port,
                     qos_classes(): the 10k flows 1250 a class):
                     the cost of classification, hand-off, FIFOs and the scheduler
  ovs-acl100         anchor: ovs-normal-fdb plus 100 OpenFlow rules of the same shape
Pipeline configs (xvsd --test-faults, which registers the pass-through stages), all as
xvs-fdb otherwise:
  xvs-fdb-stages0    no stage: the baseline of the ones below, under the same flags
  xvs-fdb-stagesN    N = 1, 4, 8 pass-through ingress stages (passthrough0..N-1) on p1: the
                     cost of the stage machinery (metadata, one call per stage and burst)
  xvs-fdb-guards     p1 with dhcp-guard=on router-guard=on storm-limit=100000000, and
                     mac-spoof=on mac=SRC when the pcap has one source MAC
Their records add stage_ns_per_packet (ns per frame against xvs-fdb-stages0 of the same
rep, divided by N) when the baseline ran before them in the rep.
RSS configs (run only on the --rss-pcaps, default the 10k-flow pcap), xvsd --workers 2
--cpus 0,1 unless "1w":
  xvs-fdb-1w-hwq     1 worker polling both queues of the 2-queue port (p1 = pcap queues=2
                     over the capture split by scripts/rss_split.py): the denominator of
                     the hardware-RSS scaling ratio (same port, only the worker count differs)
  xvs-fdb-2w-hwq     2 workers, the same 2-queue port, rss-profile=static: "hardware" RSS,
                     one queue per worker
  xvs-fdb-2w-swrss   2 workers, 1-queue port, rss-profile=static: "software" RSS, the polling
                     worker hashes every frame and hands the other worker its share via rings
  xvs-fdb-2w-hwq-cons  as xvs-fdb-2w-hwq with the default profile (conservative: starts on one
                     worker, grows under load); records what it converged to
  xvs-fdb-2w-norss   2 workers, 1-queue port, rss=off (opt-in; what the old xvs-fdb-2w
                     measured: the second worker only drains the null port's tx ring)
  testpmd-mac-2q     anchor: dpdk-testpmd mac fwd, 1 forwarding core, the same 2-queue split
  testpmd-mac-2q-2c  anchor: the same with 2 forwarding cores (--nb-cores=2 --rxq=2 --txq=2)
RSS records add: packets_per_worker deltas of p1 (xvsctl rss show), share_pct per worker of
the packets switched from p1 (packets_per_worker minus that worker's hand-off drops),
imbalance_pct = max share - 100/workers, handoff drops, per worker busy_pct / switched rate /
rss_in/out and the CPU its thread is pinned to and got, the RSS state at window start and end.
Both xvs ports are VLAN trunks (trunks=1-4094 native=1) for every pcap, like OVS's
default ports: the 10k-flow pcap carries VLAN 10 and 20 and untagged frames; an
untagged dst MAC is installed in the native VLAN 1.

Rate = delta tx_packets of p2 (xvs's own port counter, `xvsctl --json port stats`)
over --secs after --warm seconds of warm-up. Records (one JSON line per run) go to --out.
Interference check, every record: run_cpu_pressure_pct = share of the whole run (start
to stop) during which some task waited for a CPU (/proc/pressure/cpu); xvs records also
have worker_cpu_pct (lowest CPU share a worker thread got in the window, ~100 when alone
on its core) and window_cpu_pressure_pct.

The 2-queue port replays PCAPS/<pcap stem>_rss2_{q}.pcap (queue i: {q} = i), written by
scripts/rss_split.py (run.sh runs it once per run; this script runs it when missing).

Usage: datapath_xvs.py [--reps 3] [--warm 3] [--secs 6] [--pcaps a,b] [--rss-pcaps a]
                       [--configs testpmd-io,testpmd-mac,ovs-normal-fdb,xvs-fdb,xvs-flood,
                                  xvs-fdb-1w-hwq,xvs-fdb-2w-hwq,xvs-fdb-2w-swrss,...]
                       [--out FILE] [--run-id ID]
"""
import argparse, importlib.util, json, os, re, signal, socket, statistics, struct, subprocess, sys, time

BENCH = os.path.dirname(os.path.abspath(__file__))
E = os.environ
ANCHORS = os.path.abspath(E.get("XVS_ANCHORS", os.path.join(BENCH, "..", "..", "shared", "bench", "anchors")))
PCAPS = E.get("BENCH_PCAPS", os.path.join(BENCH, "results", "pcaps"))
STATE = E.get("XB_STATE", "/tmp/xbstate")
SW_CORE = E.get("XB_SW_CORE", "1")
RUNNER = os.path.join(BENCH, "run_xvs.sh")
XVSCTL = E.get("XVSCTL", os.path.join(BENCH, "..", "build", "cli", "xvsctl"))
RSS_SPLIT = os.path.join(BENCH, "..", "scripts", "rss_split.py")
SPLIT_QUEUES = 2

# xvs configs: workers (2 = xvsd --workers 2 --cpus 0,1), fdb (static entries for the
# pcap's dst MACs), split (p1 = 2-queue pcap port over the RSS-split capture), opts (extra
# options of p1), rss (an RSS config: only on --rss-pcaps)
XVS_CONFIGS = {
    "xvs-fdb": dict(workers=1, fdb=True, split=False, opts=[], rss=False),
    "xvs-flood": dict(workers=1, fdb=False, split=False, opts=[], rss=False),
    # flood to 3 null ports (p2, p3, p4): 2 copies per frame, what flood copies cost
    "xvs-flood3": dict(workers=1, fdb=False, split=False, opts=[], rss=False, extra_null=2),
    "xvs-fdb-1w-hwq": dict(workers=1, fdb=True, split=True, opts=["rss-profile=static"], rss=True),
    "xvs-fdb-2w-hwq": dict(workers=2, fdb=True, split=True, opts=["rss-profile=static"], rss=True),
    "xvs-fdb-2w-swrss": dict(workers=2, fdb=True, split=False, opts=["rss-profile=static"], rss=True),
    "xvs-fdb-2w-hwq-cons": dict(workers=2, fdb=True, split=True, opts=[], rss=True),
    "xvs-fdb-2w-norss": dict(workers=2, fdb=True, split=False, opts=["rss=off"], rss=True),
    # the pipeline: pass-through stages (registered under --test-faults) and the guards
    "xvs-fdb-stages0": dict(workers=1, fdb=True, split=False, opts=[], rss=False,
                            args="--test-faults", stages=0),
    "xvs-fdb-stages1": dict(workers=1, fdb=True, split=False, opts=[], rss=False,
                            args="--test-faults", stages=1),
    "xvs-fdb-stages4": dict(workers=1, fdb=True, split=False, opts=[], rss=False,
                            args="--test-faults", stages=4),
    "xvs-fdb-stages8": dict(workers=1, fdb=True, split=False, opts=[], rss=False,
                            args="--test-faults", stages=8),
    "xvs-fdb-guards": dict(workers=1, fdb=True, split=False, rss=False, args="--test-faults",
                           opts=["dhcp-guard=on", "router-guard=on", "storm-limit=100000000"],
                           guards=True),
    # port ACLs (doc/acl.md): 100 rules on p1 (acl_rules() below), alone and with the
    # port-security set (the guards of xvs-fdb-guards)
    "xvs-fdb-acl100": dict(workers=1, fdb=True, split=False, opts=[], rss=False, acl=100),
    "xvs-fdb-sec-acl100": dict(workers=1, fdb=True, split=False, rss=False, acl=100,
                               opts=["dhcp-guard=on", "router-guard=on",
                                     "storm-limit=100000000"], guards=True),
    # egress QoS (doc/qos.md) on p2 with 8 classes (the default flow and 7 traffic
    # classes, qos_classes()), scheduled against 1 Tbit/s so that only its cost shows
    "xvs-fdb-qos8": dict(workers=1, fdb=True, split=False, opts=[], rss=False,
                         p2_opts=["qos=on", "link-rate=1T"], qos_classes=7),
}
def qos_classes(n=7):
    """n traffic classes for the QoS cost config, with weights 1..n (the default flow:
    1): UDP source port ranges that split the 10k-flow pcap's flows (sources 1024 +
    flow, all to port 9) 1250 a class, the first 1250 and the 1-flow pcap's (1024) in
    the default flow; bench/micro_qos.c has the same rules."""
    step, first = 1250, 1024
    return [["qos", "class", "add", f"c{i}",
             f"match=udp sport {first + (i + 1) * step}-{first + (i + 2) * step - 1}",
             f"weight={i + 1}"] for i in range(n)]

def acl_rules(n=100):
    """The benchmark's ACL (also bench/micro/bench_acl.c): n - 1 rules that miss the
    pcaps' traffic (other prefixes, TCP, other ports, both directions, weights), then
    one allow that matches all of it (dst 10.200/16 or 192.0.2.2 is remote on p1)."""
    rules = []
    for i in range(n - 1):
        if i % 3 == 0:
            rules.append(f"dir=out action=deny remote-ip=172.16.{i}.0/24 proto=udp "
                         f"remote-port={1000 + i}-{1100 + i} weight={i % 7}")
        elif i % 3 == 1:
            rules.append(f"dir=both action=deny local-ip=192.168.{i}.0/24 proto=tcp "
                         f"local-port={2000 + i} weight={i % 5}")
        else:
            rules.append(f"dir=in action=deny remote-ip=10.{100 + i}.0.0/16 weight={i % 3}")
    rules.append("dir=both action=allow proto=udp")
    return rules


# OpenFlow rules of the same shape for OVS (ovs-acl100): port ranges as one masked
# match each (OpenFlow has no ranges), dir=both as the source-side match only.
def ovs_acl_flows(n=100):
    flows = []
    for i in range(n - 1):
        pr = 100 + (i % 7)
        if i % 3 == 0:
            flows.append(f"priority={pr},udp,in_port=1,nw_dst=172.16.{i}.0/24,"
                         f"tp_dst={(1000 + i) & ~0x3f}/0xffc0,actions=drop")
        elif i % 3 == 1:
            flows.append(f"priority={pr},tcp,in_port=1,nw_src=192.168.{i}.0/24,"
                         f"tp_src={2000 + i},actions=drop")
        else:
            flows.append(f"priority={pr},ip,in_port=2,nw_src=10.{100 + i}.0.0/16,actions=drop")
    flows.append("priority=50,udp,actions=NORMAL")
    return flows
# anchor configs on the split capture: forwarding cores
TESTPMD_Q = {"testpmd-mac-2q": 1, "testpmd-mac-2q-2c": 2}


def is_rss_config(c):
    return c in TESTPMD_Q or XVS_CONFIGS.get(c, {}).get("rss", False)


def load_anchor_datapath():
    spec = importlib.util.spec_from_file_location("anchor_datapath", os.path.join(ANCHORS, "datapath.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    m.PCAPS = PCAPS  # its module-level pcap dir (used by devargs() and the OVS fdb list)
    return m


def sh(cmd, timeout=120, env=None):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout, env=env)


def split_path(pcap):
    """the per-queue capture pattern of pcap ({q} = queue number)"""
    return os.path.join(PCAPS, pcap[:-len(".pcap")] + f"_rss{SPLIT_QUEUES}_{{q}}.pcap")


def pcap_frames(path):
    """number of frames in a pcap file (record headers only)"""
    n = 0
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return 0
        end = "<" if hdr[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return n
            f.seek(struct.unpack(end + "I", rec[8:12])[0], 1)
            n += 1


def ensure_split(pcap):
    """frames per queue of the split capture; writes it with rss_split.py when missing"""
    pat = split_path(pcap)
    files = [pat.replace("{q}", str(q)) for q in range(SPLIT_QUEUES)]
    if not all(os.path.exists(f) for f in files):
        r = sh(f"/usr/bin/python3 {RSS_SPLIT} {os.path.join(PCAPS, pcap)} '{pat}' --queues {SPLIT_QUEUES}",
               timeout=300)
        print(r.stdout.strip(), r.stderr.strip()[-400:], file=sys.stderr, flush=True)
        if r.returncode:
            raise RuntimeError(f"rss_split.py failed: {r.stderr[-400:]}")
    return [pcap_frames(f) for f in files]


class Xvs:
    def __init__(self, workers, cpus, args=""):
        self.env = dict(E, XVS_PORT="none", XVS_WORKERS=str(workers), XVS_CPUS=cpus,
                        XVS_STATE=os.path.join(STATE, "xvs-dp"), XVS_ARGS=args)
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

    def rpc(self, method, params):
        """one request on the control socket (methods xvsctl has no command for)"""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.sock)
            s.sendall((json.dumps({"method": method, "params": params}) + "\n").encode())
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        r = json.loads(buf)
        if "error" in r:
            raise RuntimeError(f"{method}: {r['error']}")
        return r["result"]

    def ports(self):
        return {p["name"]: p for p in self.ctl("port", "stats", json_out=True)["ports"]}

    def workers(self):
        return self.ctl("worker", "stats", json_out=True)["workers"]

    def rss(self, port):
        """the port's RSS state, None from an xvsd without rss.show"""
        try:
            return self.ctl("rss", "show", port, json_out=True)["ports"][0]
        except (RuntimeError, ValueError, KeyError, IndexError):
            return None


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


def threads(pid):
    """{tid: (name, utime+stime ticks, allowed CPUs)} of every thread of pid"""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            d = f"/proc/{pid}/task/{tid}"
            f = open(f"{d}/stat").read()
            name = f[f.index("(") + 1:f.rindex(")")]
            f = f[f.rindex(")") + 2:].split()
            cpus = next((l.split()[1] for l in open(f"{d}/status") if l.startswith("Cpus_allowed_list")), "?")
            out[tid] = (name, int(f[11]) + int(f[12]), cpus)
        except (OSError, ValueError, IndexError):
            pass
    return out


def worker_threads(th0, th1, dt):
    """{lcore: (allowed CPUs, CPU % in the window)} of the DPDK worker threads
    ("rte-worker-<lcore>" in DPDK 22.11, "lcore-worker-<lcore>" in older ones)"""
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid, (name, ticks, cpus) in th1.items():
        m = re.fullmatch(r"(?:rte|lcore)-worker-(\d+)", name)
        if m:
            out[int(m.group(1))] = (cpus, round((ticks - th0.get(tid, (name, 0, cpus))[1]) * 100.0 / hz / dt, 1))
    return out


def pcap_sources(pcap):
    """distinct source MACs of a pcap (for mac-spoof=on in xvs-fdb-guards)"""
    from scapy.utils import RawPcapReader

    srcs = set()
    for data, _ in RawPcapReader(os.path.join(PCAPS, pcap)):
        srcs.add(":".join(f"{b:02x}" for b in data[6:12]))
        if len(srcs) > 1:
            break
    return sorted(srcs)


def fdb_entries(pcap):
    """(vlan, mac) of the pcap's destinations; VLAN 0 (untagged) -> native VLAN 1"""
    if "10k" in pcap:
        ent = [l.split() for l in open(os.path.join(PCAPS, "fdb_10kflows.txt")) if l.strip()]
    else:
        ent = [["0", E.get("XB_H2_MAC", "02:00:00:00:02:02")]]
    return [(int(v) or 1, m) for v, m in ent]


def rss_state(r):
    keys = ("mode", "profile", "queues_used", "workers_active", "rebalances")
    return {k: r.get(k) for k in keys} if r else None


def add_p1(x, cfg, pcap, port, vlan):
    """p1, the pcap port (port: its path arguments, vlan: its VLAN options), with cfg's
    port options (the guards' mac-spoof set from the pcap's sources), ACL rules and test
    pass-through stages; returns the port options given"""
    opts = list(cfg.get("opts", []))
    if cfg.get("guards"):
        srcs = pcap_sources(pcap)
        opts += ["mac-spoof=on", f"mac={srcs[0]}"] if len(srcs) == 1 else ["mac-spoof=off"]
    x.ctl("port", "add", "p1", "pcap", *port, "infinite=on", *vlan, *opts)
    if cfg.get("acl"):
        x.ctl_batch([f"acl add p1 {r}" for r in acl_rules(cfg["acl"])])
    for i in range(cfg.get("stages", 0)):
        x.rpc("test.stage", {"stage": f"passthrough{i}", "port": "p1", "on": True})
    return opts


def add_ports(x, cfg, pcap, port):
    """cfg's switch on a started xvsd x: p2 (null) with its options and QoS classes,
    the extra null ports, the pcap's destinations on p2 (cfg fdb) and p1 last (add_p1,
    port: its path arguments), so that traffic starts with the FDB in place; returns
    p1's options and the FDB entries of the pcap"""
    vlan = ["vlan-mode=trunk", "trunks=1-4094", "native=1"]
    x.ctl("port", "add", "p2", "null", *vlan, *cfg.get("p2_opts", []))
    if cfg.get("qos_classes"):
        x.ctl("switch", "set", "default-flow-weight=1")
        for c in qos_classes(cfg["qos_classes"]):
            x.ctl(*c)
    for i in range(cfg.get("extra_null", 0)):
        x.ctl("port", "add", f"p{3 + i}", "null", *vlan)
    ent = fdb_entries(pcap)
    if cfg["fdb"]:
        x.ctl_batch([f"fdb add {m} vlan={v} port=p2" for v, m in ent])
    return add_p1(x, cfg, pcap, port, vlan), ent


def run_xvs(pcap, mode, a):
    cfg = XVS_CONFIGS[mode]
    workers, cpus = (2, "0,1") if cfg["workers"] == 2 else (1, SW_CORE)
    x = Xvs(workers, cpus, cfg.get("args", ""))
    try:
        split = ensure_split(pcap) if cfg["split"] else None
        x.start()
        port = ([f"path={split_path(pcap)}", f"queues={SPLIT_QUEUES}"] if split
                else [f"path={os.path.join(PCAPS, pcap)}"])
        opts, ent = add_ports(x, cfg, pcap, port)
        p1_stages = x.ctl("port", "show", "p1", json_out=True)["ports"][0].get("stages", [])
        time.sleep(a.warm)
        pid = int(open(os.path.join(x.env["XVS_STATE"], "xvsd.pid")).read())
        s0, t0, psi0, th0 = x.ports(), time.time(), psi_total(), threads(pid)
        r0, w0 = x.rss("p1"), {w["worker"]: w for w in x.workers()}
        time.sleep(a.secs)
        s1, t1, psi1, th1 = x.ports(), time.time(), psi_total(), threads(pid)
        r1, w1 = x.rss("p1"), {w["worker"]: w for w in x.workers()}
        sw = x.ctl("switch", "show")
        dt = t1 - t0
        d = lambda p, k: (s1[p][k] - s0[p][k]) / dt
        drops = {k: s1["p1"]["drops"][k] - s0["p1"]["drops"][k] for k in s1["p1"]["drops"]
                 if s1["p1"]["drops"][k] - s0["p1"]["drops"][k]}
        static = next((l.split()[1] for l in sw.splitlines() if l.strip().startswith("static")), None)
        wt = worker_threads(th0, th1, dt)
        # Per worker: packets of p1 it took (packets_per_worker counts a frame on the
        # worker that switched it, and a hand-off drop on the polling worker), minus its
        # hand-off drops (rss_drops: only p1 receives here) = packets it switched from p1.
        dw = lambda i, k: w1[i].get(k, 0) - w0[i].get(k, 0)
        hdrop = [dw(i, "rss_drops") for i in range(workers)]
        if r0 and r1:
            ppw = [b - a_ for a_, b in zip(r0["packets_per_worker"], r1["packets_per_worker"])][:workers]
        else:  # an xvsd without rss.show: what each worker switched (only p1 receives)
            ppw = [dw(i, "switched_packets") + hdrop[i] for i in range(workers)]
        swp = [p - h for p, h in zip(ppw, hdrop)]
        share = [round(100.0 * v / sum(swp), 2) for v in swp] if sum(swp) > 0 else None
        wk = []
        for i in range(workers):
            cpus_aff, cpu_pct = wt.get(w1[i].get("lcore"), (None, None))
            wk.append({"worker": i, "lcore": w1[i].get("lcore"), "cpu_reported": w1[i].get("cpu"),
                       "cpu_pinned": cpus_aff, "thread_cpu_pct": cpu_pct, "busy_pct": w1[i].get("busy_pct"),
                       "queues": w1[i].get("queues"),
                       "switched_mpps": round(dw(i, "switched_packets") / dt / 1e6, 3),
                       "rss_in_mpps": round(dw(i, "rss_in") / dt / 1e6, 3),
                       "rss_out_mpps": round(dw(i, "rss_out") / dt / 1e6, 3),
                       "p1_packets": ppw[i], "handoff_drops": hdrop[i]})
        # workers with something to do (a queue or hand-offs): an idle second worker
        # (rss=off) does not count as starved
        cpu_pcts = [w["thread_cpu_pct"] for w in wk if w["thread_cpu_pct"] is not None
                    and (w["queues"] and any(q.startswith("p1/") for q in w["queues"]) or w["rss_in_mpps"])] \
            or [w["thread_cpu_pct"] for w in wk if w["thread_cpu_pct"] is not None]
        res = {"ok": True, "mpps": round(d("p2", "tx_packets") / 1e6, 3),
               "p1_rx_mpps": round(d("p1", "rx_packets") / 1e6, 3),
               "p1_forwarded_mpps": round(d("p1", "forwarded") / 1e6, 3),
               "p1_flooded_mpps": round(d("p1", "flooded") / 1e6, 3),
               "p1_drops_mpps": round(d("p1", "drops_total") / 1e6, 3),
               "p1_drops": drops, "fdb_static": int(static) if static else None,
               "fdb_expected": len(ent) if cfg["fdb"] else 0,
               "p1_queues": SPLIT_QUEUES if split else 1, "p1_opts": opts,
               "p1_stages": p1_stages,
               "acl_rules": cfg.get("acl", 0),
               "split_frames": split,
               "share_pct": share,
               "imbalance_pct": round(max(share) - 100.0 / workers, 2) if share else None,
               "handoff_drops": sum(hdrop), "handoff_drop_mpps": round(sum(hdrop) / dt / 1e6, 3),
               "handoff_drops_rss_show": r1["handoff_drops"] - r0["handoff_drops"] if r0 and r1 else None,
               "rss_start": rss_state(r0), "rss_end": rss_state(r1),
               "workers": wk, "secs": round(dt, 2), "xvsd_workers": workers, "xvsd_cpus": cpus,
               # lowest CPU share a worker thread got in the window: < ~95 % means
               # something else ran on its core; PSI: anything waiting for a CPU
               "worker_cpu_pct": min(cpu_pcts) if cpu_pcts else None,
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


def run_ovs_acl(dp, pcap, a):
    """ovs-normal-fdb with ovs_acl_flows() added: the anchor's own run_ovs, whose
    FDB step is followed by ovs-ofctl add-flows (dp.sh wrapped for that call)."""
    flows_file = os.path.join(STATE, "ovs-acl100.flows")
    os.makedirs(STATE, exist_ok=True)
    with open(flows_file, "w") as f:
        f.write("\n".join(ovs_acl_flows()) + "\n")
    orig, n_flows = dp.sh, []

    def sh_then_flows(cmd, **kw):
        r = orig(cmd, **kw)
        if "fdb/add" in cmd:
            orig(f"{dp.HERE}/run_ovs.sh ofctl add-flows xbovsbr {flows_file}", env=kw.get("env"))
            out = orig(f"{dp.HERE}/run_ovs.sh ofctl dump-flows xbovsbr", env=kw.get("env")).stdout
            n_flows.append(sum(1 for l in out.splitlines() if "actions=" in l))
        return r
    dp.sh = sh_then_flows
    try:
        res = dp.run_ovs(pcap, "ovs-normal-fdb", a)
    finally:
        dp.sh = orig
    res["ovs_flows"] = n_flows[0] if n_flows else None
    return res


def testpmd_periods(logf):
    """Tx-pps summed over the ports, one value per stats period printed so far"""
    txt = open(logf, errors="replace").read()
    blocks = re.findall(r"NIC statistics for port (\d+).*?Tx-pps:\s+(\d+)", txt, re.S)
    nports = len({b[0] for b in blocks}) or 1
    return [sum(int(b[1]) for b in blocks[i:i + nports]) for i in range(0, len(blocks) - nports + 1, nports)], txt


def run_testpmd_q(dp, pcap, cores, a):
    """testpmd mac fwd over the 2-queue split (net_pcap with one rx_pcap per queue), with
    the anchors' EAL memory, mbufs and Tx-pps accounting (run_testpmd() in datapath.py).
    The window is timed from the first stats period, not from the start of the process
    (start-up takes several seconds on a busy host). 2 cores: lcores 1@0 and 2@1 beside
    the main lcore 0@0, the placement of xvsd's 2 workers and control thread."""
    split = ensure_split(pcap)
    pat = split_path(pcap)
    rx = ",".join(f"rx_pcap={pat.replace('{q}', str(q))}" for q in range(SPLIT_QUEUES))
    lcores = f"-l 0,{SW_CORE}" if cores == 1 else "--lcores 0@0,1@0,2@1"
    logf = os.path.join(STATE, "dp_testpmd_q.log")
    cmd = (f"dpdk-testpmd {dp.EAL_MEM} {lcores} --main-lcore 0 --file-prefix xbdptpmdq "
           f"--vdev net_pcap1,{rx},infinite_rx=1 --vdev net_null2,no-rx=1 -- --forward-mode=mac "
           f"--nb-cores={cores} --rxq={SPLIT_QUEUES} --txq={SPLIT_QUEUES} --total-num-mbufs=32768 "
           f"--stats-period 1 --auto-start")
    with open(logf, "w") as lf:
        p = subprocess.Popen(cmd.split(), stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        for _ in range(300):  # up to 30 s for EAL init and the pcap load
            if testpmd_periods(logf)[0] or p.poll() is not None:
                break
            time.sleep(0.1)
        time.sleep(a.warm)
        n0 = len(testpmd_periods(logf)[0])
        time.sleep(a.secs)
        per, txt = testpmd_periods(logf)
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill(); p.wait()
    win = per[n0:]
    streams = re.findall(r"RX P=\d+/Q=\d+ .*?-> TX P=\d+/Q=\d+", txt)
    if not win or max(win) == 0:
        return {"ok": False, "err": txt[-600:]}
    return {"ok": True, "mpps": round(statistics.mean(win) / 1e6, 3), "samples": len(win),
            "fwd_cores": cores, "p1_queues": SPLIT_QUEUES, "split_frames": split, "streams": len(streams)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warm", type=float, default=3)
    ap.add_argument("--secs", type=float, default=6)
    ap.add_argument("--pcaps", default="udp64_1flow.pcap,udp64_10kflows.pcap,imix.pcap")
    ap.add_argument("--rss-pcaps", default="udp64_10kflows.pcap",
                    help="pcaps on which the RSS configs (2 workers, 2-queue split) run")
    ap.add_argument("--configs", default="testpmd-io,testpmd-mac,ovs-normal-fdb,ovs-normal-flood,xvs-fdb,xvs-flood")
    ap.add_argument("--out", default=os.path.join(BENCH, "results", "datapath.jsonl"))
    ap.add_argument("--run-id", default=time.strftime("%Y%m%d-%H%M%S"))
    a = ap.parse_args()
    # TERM (timeout, interrupted run.sh) -> SystemExit, so the finally blocks stop the
    # switch under test (the anchors' testpmd has no pid file)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    configs = a.configs.split(",")
    for c in configs:
        if not (c.startswith(("testpmd-", "ovs-")) or c in XVS_CONFIGS):
            sys.exit(f"unknown config {c} (xvs configs: {', '.join(XVS_CONFIGS)})")
    dp = load_anchor_datapath()
    for p in a.pcaps.split(","):
        if not os.path.exists(os.path.join(PCAPS, p)):
            sys.exit(f"missing {PCAPS}/{p}: run {ANCHORS}/gen_pcaps.py {PCAPS}")
    # OVS and xvs run inside the switch namespace: make sure it exists
    r = sh(f"{ANCHORS}/topo.sh up")
    if r.returncode:
        sys.exit("topo.sh up failed: " + r.stderr)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    rss_pcaps = a.rss_pcaps.split(",")
    baseline = {}  # (pcap, rep) -> xvs-fdb-stages0 Mpps
    try:
        with open(a.out, "a") as out:
            for pcap in a.pcaps.split(","):
                for rep in range(1, a.reps + 1):
                    # configs alternate within each rep (A/B interleaving across reps)
                    for c in configs:
                        if is_rss_config(c) and pcap not in rss_pcaps:
                            continue
                        t, psi0 = time.time(), psi_total()
                        try:
                            if c in TESTPMD_Q:
                                res = run_testpmd_q(dp, pcap, TESTPMD_Q[c], a)
                            elif c.startswith("testpmd-"):
                                res = dp.run_testpmd(pcap, c.split("-", 1)[1], a)
                            elif c == "ovs-acl100":
                                res = run_ovs_acl(dp, pcap, a)
                            elif c.startswith("ovs-"):
                                res = dp.run_ovs(pcap, c, a)
                            else:
                                res = run_xvs(pcap, c, a)
                        except (OSError, RuntimeError, subprocess.SubprocessError) as e:
                            res = {"ok": False, "err": str(e)}
                        n_st = XVS_CONFIGS.get(c, {}).get("stages", 0)
                        base = baseline.get((pcap, rep))
                        if c == "xvs-fdb-stages0" and res.get("ok"):
                            baseline[(pcap, rep)] = res["mpps"]
                        elif n_st and base and res.get("ok") and res["mpps"] > 0:
                            res["stage_ns_per_packet"] = round(
                                (1e3 / res["mpps"] - 1e3 / base) / n_st, 3)
                        if c == "xvs-fdb-guards" and base and res.get("ok"):
                            res["guards_pct_of_stages0"] = round(100.0 * res["mpps"] / base, 1)
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
