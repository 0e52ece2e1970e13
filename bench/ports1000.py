#!/usr/bin/python3
"""ports1000.py — how xvs's costs grow with the port count (issue 11, item 3).

Usage (root): bench/ports1000.py [--build build] [--ports 1000] [--kind vhost|tap]
              [--secs 3] [--reps 3]
              bench/ports1000.py --mem [--build build[,build2]] [--ports 1000]
              [--kind vhost|tap] [--secs 3] [--reps 3]

One xvsd (one worker, as the e2e tests run it) in a namespace of its own, two
"VMs" (taps moved into namespaces p1kb-a, p1kb-b with 10.99.0.1/.2), then:
  add      ports 3..N one port.add each (default kind vhost-user without a
           guest: 20 in server mode, the rest client; --kind tap for taps): median and the last add's time, and
           port.add_many of the same count for comparison
  memory   xvsd's RSS growth / ports added (DPDK heap included: without
           hugepages it is xvsd's own memory)
  idle     xvsd's CPU (all threads) over 10 s with N idle ports, % of one core
  rate     TCP a -> b over the two taps (iperf3, --secs s, median of --reps):
           with 2 ports, then with N-2 others idle; ratio = N / 2 (goal >= 0.9)
  publish  port.set (a VLAN change, one snapshot publish) at 2 and at N ports
  views    reply size and time of port.stats, queue.show, worker.show at N
The machine may be shared: read the ratios, not the absolute numbers.

--mem: the worker's per-turn cost without TCP's noise. A memory-only datapath
(p1 = pcap replay of one 64 B UDP flow, infinite; p2 = null; the destination
a static FDB entry on p2), one worker; the rate is p2's tx frames per second
of the worker thread's CPU time (/proc schedstat), so time the worker lost to
other tasks does not count. Each rep starts a fresh xvsd, measures with the
two ports (A), adds N-2 idle ports of --kind (vhost-user servers without a
guest, or taps) in port.add_many batches, measures again (B), stops it.
Several builds (--build a,b: e.g. before and after a change) are
interleaved rep by rep. Prints per build Mpps per worker CPU-second at 2 and
at N ports, worker TSC cycles per switched frame (worker.stats busy_cycles)
and the ratio B / A (goal >= 0.9), medians over the reps with min-max.
"""
import argparse, json, os, socket, statistics, subprocess, sys, time

CLK = os.sysconf("SC_CLK_TCK")
NS, A, B = "p1kb-sw", "p1kb-a", "p1kb-b"
D = "/tmp/p1kb"


def sh(*argv, check=True, **kw):
    return subprocess.run([str(a) for a in argv], check=check, capture_output=True, text=True,
                          **kw)


def nsx(ns, *argv, **kw):
    return sh("ip", "netns", "exec", ns, *argv, **kw)


class Xvsd:
    def __init__(self, build):
        self.sock = f"{D}/x.sock"
        self.log = open(f"{D}/xvsd.log", "w")
        self.p = subprocess.Popen(["ip", "netns", "exec", NS, f"{build}/src/ctl/xvsd", "--db",
                                   f"{D}/x.db", "--socket", self.sock, "--workers", "1"],
                                  stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(400):
            try:
                self.rpc("help")
                break
            except (OSError, ValueError):
                time.sleep(0.05)
        self.pid = int(sh("ip", "netns", "pids", NS).stdout.split()[0])

    def rpc_raw(self, method, params=None, timeout=120):
        req = {"method": method, "params": params or {}}
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(self.sock)
            s.sendall((json.dumps(req) + "\n").encode())
            buf = b""
            while True:
                k = s.recv(1 << 20)
                if not k:
                    break
                buf += k
        return buf

    def rpc(self, method, params=None, timeout=120):
        r = json.loads(self.rpc_raw(method, params, timeout))
        if "error" in r:
            raise RuntimeError(f"{method}: {r['error']}")
        return r["result"]

    def timed(self, method, params=None):
        t0 = time.monotonic()
        self.rpc(method, params)
        return (time.monotonic() - t0) * 1e3

    def rss_kb(self):
        for line in open(f"/proc/{self.pid}/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1])

    def cpu_ticks(self):
        return sum(int(x) for x in open(f"/proc/{self.pid}/stat").read().split()[13:15])

    def stop(self):
        self.p.terminate()
        self.p.wait(300)


def setup():
    teardown()
    os.makedirs(D)
    for ns in (NS, A, B):
        sh("ip", "netns", "add", ns)
        nsx(ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1")


def teardown():
    if os.path.exists(f"{D}/xvsd.log"):
        sh("cp", f"{D}/xvsd.log", "/tmp/p1kb-xvsd.log")
    for ns in (NS, A, B):
        sh("ip", "netns", "del", ns, check=False)
    sh("rm", "-rf", D)


def vm(x, ns, idx):
    x.rpc("port.add", {"name": ns[-1], "kind": "tap",
                       "options": {"ifname": f"p1k{ns[-1]}", "netns": ns,
                                   "mac": f"02:99:00:00:00:0{idx}"}})
    nsx(ns, "ip", "link", "set", f"p1k{ns[-1]}", "up")
    nsx(ns, "ip", "addr", "add", f"10.99.0.{idx}/24", "dev", f"p1k{ns[-1]}")
    nsx(ns, "ip", "link", "set", "lo", "up")


def rate(secs, reps):
    srv = subprocess.Popen(["ip", "netns", "exec", B, "iperf3", "-s"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    out = []
    try:
        nsx(A, "ping", "-c", "2", "-i", "0.2", "10.99.0.2")
        for _ in range(reps):
            r = nsx(A, "iperf3", "-c", "10.99.0.2", "-t", str(secs), "-J", timeout=secs + 30)
            out.append(json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9)
    finally:
        srv.terminate()
        srv.wait()
    return out


def mem_pcap(path):
    from scapy.all import Ether, IP, UDP, Raw, wrpcap
    f = (Ether(src="02:99:00:00:01:01", dst="02:99:00:00:01:02") /
         IP(src="10.98.0.1", dst="10.98.0.2") / UDP(sport=1024, dport=1025))
    f = f / Raw(b"\0" * (60 - len(f)))
    wrpcap(path, [f] * 256)


def filler(kind, i):
    """Idle port i: a tap, or a vhost-user port without a guest. lib vhost's socket
    set (1,023 entries) holds 1,000 such ports only if most are clients (1 entry,
    a server 2): 20 servers, the rest clients (retrying a socket nobody listens
    on, in lib vhost's reconnect thread)."""
    if kind == "tap":
        return {"name": f"f{i:04d}", "kind": "tap", "options": {}}
    opts = {"path": f"{D}/f{i:04d}.sock"}
    if i >= 20:
        opts["client"] = "on"
    return {"name": f"f{i:04d}", "kind": "vhost", "options": opts}


def worker_cpu_ns(x, tid):
    return int(open(f"/proc/{x.pid}/task/{tid}/schedstat").read().split()[0])


def mem_sample(x, secs):
    """(Mpps per worker CPU-second, worker TSC cycles per switched frame, cpu share)"""
    def snap():
        w = x.rpc("worker.stats")["workers"][0]
        tx = next(p for p in x.rpc("port.stats")["ports"] if p["name"] == "p2")["tx_packets"]
        return w, tx, worker_cpu_ns(x, w["tid"]), time.monotonic()
    (w0, tx0, c0, t0) = snap()
    time.sleep(secs)
    (w1, tx1, c1, t1) = snap()
    sw = w1["switched_packets"] - w0["switched_packets"]
    cyc = (w1["busy_cycles"] + w1["idle_cycles"] - w0["busy_cycles"] - w0["idle_cycles"])
    return ((tx1 - tx0) / ((c1 - c0) / 1e9) / 1e6, cyc / max(sw, 1),
            (c1 - c0) / 1e9 / (t1 - t0) * 100)


def mem_main(o):
    builds = o.build.split(",")
    n = o.ports - 2
    res = {b: {"a": [], "b": [], "ca": [], "cb": [], "cpu": []} for b in builds}
    for rep in range(o.reps):
        for b in builds:
            setup()
            mem_pcap(f"{D}/mem.pcap")
            x = Xvsd(os.path.abspath(b))
            try:
                trunk = {"vlan-mode": "trunk", "trunks": "1-4094", "native": "1"}
                x.rpc("port.add", {"name": "p2", "kind": "null", "options": dict(trunk)})
                x.rpc("fdb.add", {"mac": "02:99:00:00:01:02", "vlan": 1, "port": "p2"})
                x.rpc("port.add", {"name": "p1", "kind": "pcap",
                                   "options": dict(trunk, path=f"{D}/mem.pcap",
                                                   infinite="on")})
                time.sleep(1)
                ra, ca, cpu_a = mem_sample(x, o.secs)
                for k in range(0, n, 200):
                    x.rpc("port.add_many",
                          {"ports": [filler(o.kind, i) for i in range(k, min(n, k + 200))]})
                ports = len(x.rpc("port.list")["ports"])
                time.sleep(1)
                rb, cb, cpu_b = mem_sample(x, o.secs)
            finally:
                x.stop()
                teardown()
            r = res[b]
            r["a"].append(ra)
            r["b"].append(rb)
            r["ca"].append(ca)
            r["cb"].append(cb)
            r["cpu"].append(min(cpu_a, cpu_b))
            print(f"  rep {rep} {b}: 2 ports {ra:.3f} Mpps/cpu-s ({ca:.0f} cyc/frame)  "
                  f"{ports} ports {rb:.3f} ({cb:.0f})  ratio {rb / ra:.3f}  "
                  f"worker cpu {cpu_a:.0f}/{cpu_b:.0f} %", file=sys.stderr, flush=True)
    med = statistics.median
    print(f"# ports1000.py --mem: pcap -> null 64 B 1 flow, one worker, 2 ports vs 2 + {n} "
          f"idle {o.kind}, {o.reps} reps, {time.strftime('%Y-%m-%d %H:%M')}")
    for b in builds:
        r = res[b]
        rat = [y / x_ for x_, y in zip(r["a"], r["b"])]
        print(f"mem_mpps_per_cpu_s {b}: 2 ports {med(r['a']):.3f} "
              f"[{min(r['a']):.3f}-{max(r['a']):.3f}]  {n + 2} ports {med(r['b']):.3f} "
              f"[{min(r['b']):.3f}-{max(r['b']):.3f}]  ratio {med(rat):.3f} "
              f"[{min(rat):.3f}-{max(rat):.3f}] (goal >= 0.90)")
        print(f"mem_cycles_frame   {b}: 2 ports {med(r['ca']):.0f}  "
              f"{n + 2} ports {med(r['cb']):.0f}  (worker TSC per switched frame; "
              f"worker got >= {min(r['cpu']):.0f} % of a CPU)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--ports", type=int, default=1000)
    ap.add_argument("--kind", default="vhost", choices=("vhost", "tap"))
    ap.add_argument("--secs", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--mem", action="store_true",
                    help="per-turn cost: pcap -> null rate per worker CPU-second, 2 vs N ports")
    o = ap.parse_args()
    if o.mem:
        return mem_main(o)
    build = os.path.abspath(o.build)
    setup()
    x = Xvsd(build)
    try:
        vm(x, A, 1)
        vm(x, B, 2)
        pub2 = [x.timed("port.set", {"name": "a", "options": {"vlan": 2 - i % 2}})
                for i in range(6)]
        r2 = rate(o.secs, o.reps)
        rss0 = x.rss_kb()

        def spec(i):
            return filler(o.kind, i)

        n = o.ports - 2
        adds = [x.timed("port.add", spec(i)) for i in range(n)]
        rss1 = x.rss_kb()
        ports = len(x.rpc("port.list")["ports"])
        pubn = [x.timed("port.set", {"name": "a", "options": {"vlan": 2 - i % 2}})
                for i in range(6)]
        time.sleep(1)
        c0 = x.cpu_ticks()
        time.sleep(10)
        idle = (x.cpu_ticks() - c0) * 100.0 / CLK / 10
        rn = rate(o.secs, o.reps)
        views = {}
        for m in ("port.stats", "queue.show", "worker.stats", "port.list"):
            t0 = time.monotonic()
            b = x.rpc_raw(m)
            views[m] = (len(b), (time.monotonic() - t0) * 1e3)
        # the same ports again, in one port.add_many
        t0 = time.monotonic()
        for i in range(n):
            x.rpc("port.del", {"name": f"f{i:04d}"})
        del_s = time.monotonic() - t0
        t0 = time.monotonic()
        for k in range(0, n, 200):
            x.rpc("port.add_many", {"ports": [spec(i) for i in range(k, min(n, k + 200))]})
        many_s = time.monotonic() - t0
    finally:
        x.stop()
        teardown()
    med = statistics.median
    print(f"# ports1000.py: {ports} ports ({n} {o.kind} + 2 taps), one worker, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    print(f"add_port_ms        median {med(adds):.1f}  first {adds[0]:.1f}  "
          f"last({ports}th) {adds[-1]:.1f}  max {max(adds):.1f}")
    print(f"add_many_s         {n} ports in batches of 200: {many_s:.1f} s "
          f"({many_s / n * 1e3:.1f} ms/port); port.del one each: {del_s / n * 1e3:.1f} ms/port")
    print(f"memory_per_port_kb {(rss1 - rss0) / n:.1f}  (xvsd RSS {rss0 / 1024:.0f} -> "
          f"{rss1 / 1024:.0f} MB; DPDK heap is in it: no hugepages)")
    print(f"idle_cpu_pct       {idle:.2f}  (xvsd, all threads, 10 s, {ports} idle ports; "
          f"goal < 2)")
    print(f"tcp_gbps           2 ports {med(r2):.2f} [{min(r2):.2f}-{max(r2):.2f}]  "
          f"{ports} ports {med(rn):.2f} [{min(rn):.2f}-{max(rn):.2f}]  "
          f"ratio {med(rn) / med(r2):.3f} (goal >= 0.90)")
    print(f"publish_ms         port.set at 2 ports median {med(pub2):.1f}  at {ports} "
          f"median {med(pubn):.1f}")
    for m, (size, ms) in views.items():
        print(f"view               {m:12s} {size / 1024:.0f} KB in {ms:.0f} ms")


if __name__ == "__main__":
    sys.exit(main())
