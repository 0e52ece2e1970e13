#!/usr/bin/python3
"""vm2vm.py — VM to VM through two vhost-user ports (issue 11, item 4).

  guest tx (dpdk-testpmd)                         guest rx (dpdk-testpmd rxonly)
    net_virtio_user0 --vhost-user--> [vh0] switch [vh1] --vhost-user--> net_virtio_user0

Two kinds of traffic from the tx guest:
  64      testpmd txonly, 60-byte UDP frames (64 B on the wire): Mpps
  tso64k  testpmd csum forwarding from a net_pcap port (a capture of 64 KB TCP
          frames, one 64 KB mbuf each: --mbuf-size) to its virtio-user port, with
          `tso set 1448` on that port: every frame leaves the guest as one 64 KB
          TSO request (virtio-net header gso_type TCPV4, gso_size 1448), the
          largest frame the negotiated offloads (HOST_TSO4) let a guest send:
          Gbit/s of TCP frames, counted by the receiving guest (Rx-bps)
The rx guest takes checksum and LRO offloads (GUEST_CSUM, GUEST_TSO4/6, with
mergeable rx buffers), so a switch that keeps the TSO metadata hands it each 64 KB
frame whole.

Configs:
  testpmd-io  the floor: dpdk-testpmd as the switch, io forwarding vh0 -> vh1
              (net_vhost, tso=1: it passes the bytes, not the TSO request)
  ovs-p2p     Open vSwitch with DPDK (the anchors' run_ovs.sh), dpdkvhostuser ports,
              OpenFlow in_port=vh0 -> vh1; 64 B only (userspace TSO is off there)
  xvs         xvsd, one worker, vhost ports vh0 and vh1, a static FDB entry for the
              rx guest's MAC on vh1
The rate is the rx guest's (testpmd's Rx-pps / Rx-bps of its port, averaged over
--secs after --warm seconds), the same for every config. CPUs: the switch's
forwarding core on XB_SW_CORE (default 1); both guests' lcores on XB_GEN_CORE
(default 0), so the two guests share a CPU: absolute rates are low and noisy,
the ratios against testpmd-io measured in the same run are the figure.

Usage: vm2vm.py [--sizes 64,tso64k] [--configs testpmd-io,ovs-p2p,xvs] [--reps 3] [--warm 3]
                [--secs 5] [--out FILE]
Prints one JSON line per run, then a table: min / median / max per (size, config) and
the ratio of the medians to testpmd-io.
"""
import argparse, json, os, re, statistics, subprocess, sys, time

BENCH = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("XB_STATE", "/tmp/xbstate-vm2vm")
for _up in ("../..", "../../.."):
    _a = os.path.normpath(os.path.join(BENCH, _up, "shared", "bench", "anchors"))
    if os.path.isdir(_a):
        os.environ.setdefault("XVS_ANCHORS", _a)
        break
sys.path.insert(0, BENCH)
import datapath_xvs as dx  # noqa: E402  (Xvs runner)
import pvp_xvs  # noqa: E402  (pvp: popen, stop, MEM, cores)

pvp = pvp_xvs.pvp
E = os.environ
STATE = os.path.join(E["XB_STATE"], "vm2vm")
NS = E.get("VM2VM_NS", "xbvm2vm")
SW_CORE = pvp.SW_CORE
GUEST_CORE = pvp.GUEST_CORE
TX_MAC, RX_MAC = "02:00:00:00:0a:01", "02:00:00:00:0a:02"
PFX = "xbvm2vm"
TSO_PAYLOAD = 64000  # TCP payload: IP total length 64040 (< 65535)
TSO_MBUF = 65535     # one mbuf per 64 KB frame (data room incl. headroom)
RXOL = os.environ.get("VM2VM_RXOL", "--rx-offloads=0x1c")


def tso_pcap():
    """16 TCP frames of 64 KB (one stream, consecutive sequence numbers)."""
    path = os.path.join(STATE, "tcp64k.pcap")
    if not os.path.exists(path):
        from scapy.layers.inet import IP, TCP
        from scapy.layers.l2 import Ether
        from scapy.utils import wrpcap
        pl = bytes(range(256)) * (TSO_PAYLOAD // 256)
        wrpcap(path, [Ether(src=TX_MAC, dst=RX_MAC) / IP(src="10.9.0.1", dst="10.9.0.2") /
                      TCP(sport=5001, dport=5201, flags="A", seq=1 + i * len(pl)) / pl
                      for i in range(16)])
    return path


def guest_mem(mb):
    """--no-huge memory of a guest: small, so that the switch maps (and lib
    vhost indexes, 4 KB page by 4 KB page) little of it"""
    return f"--no-huge -m {mb} --no-pci"


def start_rx():
    cmd = (f"dpdk-testpmd {guest_mem(256)} --lcores 0@{GUEST_CORE},1@{GUEST_CORE} --main-lcore 0 "
           f"--file-prefix {PFX}rx --vdev net_virtio_user0,path={{s}},queues=1,queue_size=1024,mac={RX_MAC} "
           # rx: UDP/TCP checksum + LRO (GUEST_CSUM, GUEST_TSO4/6)
           f"-- --forward-mode=rxonly {RXOL} --nb-cores=1 --rxd=1024 --txd=1024 "
           f"--total-num-mbufs=16384 --stats-period 1 --auto-start")
    return cmd


def start_tx(size):
    vu = f"net_virtio_user{{n}},path={{s}},queues=1,queue_size=1024,mac={TX_MAC}"
    base = (f"dpdk-testpmd {guest_mem(256 if size == '64' else 512)} --lcores 0@{GUEST_CORE},1@{GUEST_CORE} --main-lcore 0 "
            f"--file-prefix {PFX}tx ")
    if size == "64":
        return (base + "--vdev " + vu.format(n=0, s="{s}") +
                f" -- --forward-mode=txonly --txpkts=60 --eth-peer=0,{RX_MAC} --nb-cores=1 --txd=1024 "
                f"--total-num-mbufs=16384 --stats-period 1 --auto-start")
    cmds = os.path.join(STATE, "tso.cmds")
    with open(cmds, "w") as f:
        # TSO on the virtio-user port only (the pcap port has no offloads)
        f.write("port stop 1\nport config 1 tx_offload tcp_cksum on\n"
                "port config 1 tx_offload tcp_tso on\ntso set 1448 1\nport start 1\n")
    return (base + f"--vdev net_pcap0,rx_pcap={tso_pcap()},infinite_rx=1 --vdev " +
            vu.format(n=1, s="{s}") +
            f" -- --forward-mode=csum --port-topology=paired --eth-peer=1,{RX_MAC} "
            f"--nb-cores=1 --mbuf-size={TSO_MBUF} --total-num-mbufs=2048 --txd=256 --rxd=256 "
            f"--cmdline-file={cmds} --stats-period 1 --auto-start")


def rx_rates(logf, a):
    """(Mpps, Gbit/s) of the rx guest's port 0 over the measured window."""
    txt = open(logf, errors="replace").read()
    per = re.findall(r"Rx-pps:\s+(\d+)\s+Rx-bps:\s+(\d+)", txt)
    win = per[int(a.warm) + 1: int(a.warm) + 1 + int(a.secs)]
    if not win or max(int(p) for p, _ in win) == 0:
        return None, None, txt
    return (round(statistics.mean(int(p) for p, _ in win) / 1e6, 3),
            round(statistics.mean(int(b) for _, b in win) / 1e9, 3), txt)


def wait_files(paths, secs=10):
    for _ in range(int(secs * 10)):
        if all(os.path.exists(p) for p in paths):
            return True
        time.sleep(0.1)
    return False


def run_guests(size, s0, s1, a):
    """Start rx then tx guest (clients of sockets s0, s1), measure, stop."""
    rxlog, txlog = os.path.join(STATE, "rx.log"), os.path.join(STATE, "tx.log")
    rx = tx = None
    try:
        rx = pvp.popen(start_rx().format(s=s1), rxlog)
        time.sleep(1)
        tx = pvp.popen(start_tx(size).format(s=s0), txlog)
        time.sleep(a.warm + a.secs + 2)
    finally:
        pvp.stop(tx)
        pvp.stop(rx)
    mpps, gbps, txt = rx_rates(rxlog, a)
    if mpps is None:
        return {"ok": False, "err": txt[-400:] + "\n--- tx:\n" +
                open(txlog, errors="replace").read()[-600:]}
    return {"ok": True, "mpps": mpps, "gbps": gbps}


def run_testpmd(size, a):
    s0, s1 = os.path.join(STATE, "tp0.sock"), os.path.join(STATE, "tp1.sock")
    for s in (s0, s1):
        if os.path.exists(s):
            os.unlink(s)
    cmd = (f"dpdk-testpmd {pvp.MEM} --lcores 0@{GUEST_CORE},1@{SW_CORE} --main-lcore 0 "
           f"--file-prefix {PFX}sw --vdev net_vhost0,iface={s0},queues=1,tso=1 "
           f"--vdev net_vhost1,iface={s1},queues=1,tso=1 -- --forward-mode=io "
           f"--port-topology=paired --nb-cores=1 --total-num-mbufs=32768 --stats-period 1 "
           f"--auto-start")
    sw = pvp.popen(cmd, os.path.join(STATE, "switch.log"))
    try:
        if not wait_files([s0, s1]):
            return {"ok": False, "err": open(os.path.join(STATE, "switch.log")).read()[-600:]}
        return run_guests(size, s0, s1, a)
    finally:
        pvp.stop(sw)


def run_ovs(size, a):
    """Open vSwitch with DPDK ($XVS_ANCHORS/run_ovs.sh, in our namespace): two
    dpdkvhostuser ports, OpenFlow vh0 -> vh1 (its best case). run_ovs.sh's own two
    ports are idle net_null devices. 64 B only: OVS offers TSO to guests only with
    other_config:userspace-tso-enable set before it starts, which run_ovs.sh does not
    do; without it the tx guest's 64 KB frames would be dropped as too long."""
    if size != "64":
        return {"ok": False, "err": "not measured: OVS userspace TSO is off in run_ovs.sh"}
    ovs = os.path.join(dx.ANCHORS, "run_ovs.sh")
    env = dict(E, XB_SWNS=NS, OVS_PORT="custom", OVS_DEVARGS1="net_null1,no-rx=1",
               OVS_DEVARGS2="net_null2,no-rx=1")
    rundir = os.path.join(E["XB_STATE"], "ovs")
    try:
        r = pvp.sh(f"{ovs} start", env=env)
        if r.returncode:
            return {"ok": False, "err": (r.stdout + r.stderr)[-600:]}
        for i in (0, 1):
            pvp.sh(f"{ovs} vsctl add-port xbovsbr vh{i} -- set Interface vh{i} "
                   f"type=dpdkvhostuser ofport_request={10 + i}", env=env)
        pvp.sh(f"{ovs} ofctl del-flows xbovsbr && "
               f"{ovs} ofctl add-flow xbovsbr in_port=10,actions=output:11", env=env)
        s0, s1 = os.path.join(rundir, "vh0"), os.path.join(rundir, "vh1")
        if not wait_files([s0, s1]):
            return {"ok": False, "err": "OVS made no vhost-user sockets"}
        return run_guests(size, s0, s1, a)
    finally:
        pvp.sh(f"{ovs} stop", env=env)


def run_xvs(size, a):
    x = dx.Xvs(1, SW_CORE)
    x.env.update(XVS_NS=NS, XVS_STATE=os.path.join(STATE, "xvs"))
    x.sock = os.path.join(x.env["XVS_STATE"], "xvsd.sock")
    s0, s1 = os.path.join(STATE, "xvs-vh0.sock"), os.path.join(STATE, "xvs-vh1.sock")
    try:
        x.start()
        x.ctl("port", "add", "vh0", "vhost", f"path={s0}")
        x.ctl("port", "add", "vh1", "vhost", f"path={s1}")
        x.ctl("fdb", "add", RX_MAC, "vlan=1", "port=vh1")
        p0 = x.ports()
        r = run_guests(size, s0, s1, a)
        p1 = x.ports()
        d = lambda p, k: p1[p][k] - p0[p][k]
        # what crossed: frames counted at the switch, their average size, and
        # whether xvs had to cut any (it must not: the rx guest took TSO)
        r.update(vh1_tx_packets=d("vh1", "tx_packets"),
                 vh1_tx_avg=round(d("vh1", "tx_bytes") / max(1, d("vh1", "tx_packets"))),
                 vh1_tx_gso_segments=d("vh1", "tx_gso_segments"),
                 vh0_drops={k: v - p0["vh0"]["drops"][k] for k, v in p1["vh0"]["drops"].items()
                            if v - p0["vh0"]["drops"][k]},
                 vh1_drops={k: v - p0["vh1"]["drops"][k] for k, v in p1["vh1"]["drops"].items()
                            if v - p0["vh1"]["drops"][k]})
        return r
    finally:
        x.stop()


RUN = {"testpmd-io": run_testpmd, "ovs-p2p": run_ovs, "xvs": run_xvs}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warm", type=float, default=3)
    ap.add_argument("--secs", type=float, default=5)
    ap.add_argument("--sizes", default="64,tso64k")
    ap.add_argument("--configs", default="testpmd-io,ovs-p2p,xvs")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    os.makedirs(STATE, exist_ok=True)
    subprocess.run(["ip", "netns", "add", NS], capture_output=True)
    try:
        res = pvp_xvs.run_matrix(
            "size", a.sizes.split(","), a.configs.split(","), a.reps, a.out,
            lambda size, c: RUN[c](size, a),
            lambda size, r: r.get("mpps" if size == "64" else "gbps") if r.get("ok") else None)
    finally:
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    print(f"{'size':8s} {'config':12s} {'unit':7s} {'min':>7s} {'median':>7s} {'max':>7s} runs  ratio")
    for (size, c), v in res.items():
        unit = "Mpps" if size == "64" else "Gbit/s"
        # xvs against each anchor of the same size, an anchor against the floor
        against = [o for (sz, o) in res if sz == size and o != c and
                   (c == "xvs" or o == "testpmd-io")]
        ratio = ", ".join(f"{statistics.median(v) / statistics.median(res[(size, o)]):.2f} x {o}"
                          for o in against)
        print(f"{size:8s} {c:12s} {unit:7s} {min(v):7.2f} {statistics.median(v):7.2f} "
              f"{max(v):7.2f} {len(v):4d}  {ratio}")


if __name__ == "__main__":
    main()
