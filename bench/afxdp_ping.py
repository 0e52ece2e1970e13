#!/usr/bin/python3
"""afxdp_ping.py — ping latency through an afxdp port, against a tap and an afpacket port.

Usage (root): bench/afxdp_ping.py [--count 200] [--interval 0.01] BUILD [BUILD...]
  e.g. bench/afxdp_ping.py /tmp/xvs-before/build build   (before and after, one run)

Per BUILD (an xvsd build directory), one switch (1 worker) built with the e2e
fixtures (tests/e2e/conftest.py):

   ns b [b] --tap--+                      +--afxdp---- [xs] == veth == [x] ns x
                   |  xvsd, 1 worker      |
   ns a [a] --tap--+----------------------+--afpacket- [us] == veth == [u] ns u

and COUNT pings at INTERVAL to a from b (tap -> tap), u (afpacket -> tap) and
x (afxdp -> tap), one after the other. At 10 ms the worker falls asleep between
pings, so each ping measures how fast the port wakes it: a tap's fd and (now)
an AF_XDP socket's fd are in the worker's epoll set; DPDK's af_xdp PMD had no
rx interrupt, and a worker polling it woke on a timer. Prints median and p99
RTT in µs per port kind and build, as a table and as JSON (--out).
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile
from pathlib import Path

E2E = Path(__file__).resolve().parents[1] / "tests" / "e2e"


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def one(count, interval):
    """In a child whose XVS_BUILD is set: measure and print one JSON line."""
    sys.path.insert(0, str(E2E))
    import conftest as c

    for _ in range(100):
        sfx = os.urandom(2).hex()
        if f"xe{sfx}" not in c.run(["ip", "netns", "list"]).stdout:
            break
    with tempfile.TemporaryDirectory(prefix="xvsb") as tmp:
        sw = c.Switch(c.Names(sfx), Path(tmp))
        res = {"build": str(c.BUILD)}
        try:
            sw.setup()
            sw.start()
            a = sw.vm("a", ipv6=False)
            b = sw.vm("b", ipv6=False)
            u = sw.uplink("u", ipv6=False)
            x = sw.uplink("x", ipv6=False, add_port=False)
            r = sw.rpc({"method": "port.add", "params": {
                "name": "x", "kind": "afxdp", "options": {"ifname": x.sw_ifname}}}, timeout=30)
            if r.get("error"):
                res["error"] = r["error"]["message"]
            res["afxdp_port"] = {k: v for k, v in sw.ports().get("x", {}).items()
                                 if k in ("driver", "rx_interrupts", "xdp_mode", "xdp_attach")}
            for name, h in (("tap", b), ("afpacket", u), ("afxdp", x)):
                if name == "afxdp" and "error" in res:
                    continue
                h.ping(a, count=3, interval=0.05)  # ARP and FDB in place
                out = h.run(["ping", "-n", "-c", str(count), "-i", str(interval), "-W", "1",
                             a.ip4], check=False, timeout=count * interval + 30).stdout
                rtt = [float(m) * 1000 for m in re.findall(r"time=([\d.]+) ms", out)]
                res[name] = {"n": len(rtt), "lost": count - len(rtt),
                             "p50_us": round(statistics.median(rtt)) if rtt else None,
                             "p99_us": round(pct(rtt, 99)) if rtt else None}
        finally:
            sw.check_conservation_at_teardown = False
            sw.teardown()
    print(json.dumps(res))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("builds", nargs="*")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--interval", type=float, default=0.01)
    ap.add_argument("--out")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    o = ap.parse_args()
    if o.child:
        return one(o.count, o.interval)
    rows = []
    for b in o.builds:
        env = dict(os.environ, XVS_BUILD=str(Path(b).resolve()))
        p = subprocess.run([sys.executable, __file__, "--child", "--count", str(o.count),
                            "--interval", str(o.interval)], env=env, capture_output=True,
                           text=True, timeout=600)
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            sys.exit(f"{b}: no result\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
        rows.append(json.loads(lines[-1]))
    print(f"{'build':40} {'port':9} {'p50 us':>7} {'p99 us':>7} {'lost':>5}")
    for r in rows:
        for k in ("tap", "afpacket", "afxdp"):
            if k in r:
                print(f"{r['build'][-40:]:40} {k:9} {r[k]['p50_us']!s:>7} {r[k]['p99_us']!s:>7} "
                      f"{r[k]['lost']:>5}")
        print(f"{'':40} afxdp port: {r.get('afxdp_port')} {r.get('error', '')}")
    if o.out:
        Path(o.out).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
