#!/usr/bin/python3
"""ports1000.py — how xvs's costs grow with the port count (issue 11, item 3).

Usage (root): bench/ports1000.py [--build build] [--ports 1000] [--kind vhost|tap]
              [--secs 3] [--reps 3]

One xvsd (one worker, as the e2e tests run it) in a namespace of its own, two
"VMs" (taps moved into namespaces p1kb-a, p1kb-b with 10.99.0.1/.2), then:
  add      ports 3..N one port.add each (default kind vhost-user, server mode,
           no guest; --kind tap for taps): median and the last add's time, and
           port.add_many of the same count for comparison
  memory   xvsd's RSS growth / ports added (DPDK heap included: without
           hugepages it is xvsd's own memory)
  idle     xvsd's CPU (all threads) over 10 s with N idle ports, % of one core
  rate     TCP a -> b over the two taps (iperf3, --secs s, median of --reps):
           with 2 ports, then with N-2 others idle; ratio = N / 2 (goal >= 0.9)
  publish  port.set (a VLAN change, one snapshot publish) at 2 and at N ports
  views    reply size and time of port.stats, queue.show, worker.show at N
The machine may be shared: read the ratios, not the absolute numbers.
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--ports", type=int, default=1000)
    ap.add_argument("--kind", default="vhost", choices=("vhost", "tap"))
    ap.add_argument("--secs", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3)
    o = ap.parse_args()
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
            if o.kind == "tap":
                return {"name": f"f{i:04d}", "kind": "tap", "options": {}}
            return {"name": f"f{i:04d}", "kind": "vhost",
                    "options": {"path": f"{D}/f{i:04d}.sock"}}

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
