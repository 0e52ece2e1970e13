#!/usr/bin/python3
"""qos.py — egress QoS, xvs beside Linux HTB, same topology and guarantees, one run.

  ns a, b, c: iperf3 -u senders (10.79.0.1-3)     ns u: 3 iperf3 servers (10.79.0.9)
      |            |            |                            |
  xvs:   tap ports of xvsd (ns <p>sw) ------------- afpacket uplink (veth) qos=on link-rate=R
  htb:   veth ports of a Linux bridge (ns <p>br) -- veth uplink with HTB at rate R:
         classes rate R*w/sum(w) ceil R by source IP (weights 5/3/1 as rates)

Each side: the three senders send UDP above their share; after --warm s, per-class
byte counters are sampled every --sample s (10 ms) for --secs s; then sender c stops
and sampling goes on for --after s. Output (one JSON line per side, --out):
  share_err_pct   max over classes of |share - w/sum(w)| x 100 over the steady window
  takeover_ms     from the end of the last sample window in which c sent to the start of
                  the first of 5 windows in a row in which a and b fill >= 90 % of the
                  link and a/(a+b) is within 5 % of 5/8 (0: already in the window after)
  gbps            what the link carried in the steady window
  cpu_per_gbps    CPU seconds per second (all CPUs, /proc/stat, everything running:
                  senders included, the same for both sides) per Gbit/s carried
Counters: xvs `qos.show` over its socket (sent_bytes per class); HTB `tc -s class
show` (bytes per class) through one `tc -batch` inside the bridge's namespace, fed a
command per sample. Run as root; uses only namespaces it creates (prefix xq<pid>).
"""
import argparse, json, os, signal, socket, subprocess, sys, time

BENCH = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("XVS_BUILD", os.path.join(BENCH, "..", "build"))
XVSD = os.path.join(BUILD, "src", "ctl", "xvsd")
WEIGHTS = (5, 3, 1)
NET = "10.79.0."


def sh(*argv, check=True, ns=None):
    if ns:
        argv = ("ip", "netns", "exec", ns) + argv
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=60)
    if check and r.returncode:
        raise RuntimeError(f"{' '.join(map(str, argv))}: {r.stderr.strip()}")
    return r.stdout


def cpu_busy():
    f = open("/proc/stat").readline().split()[1:]
    v = list(map(int, f))
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


class Topo:
    def __init__(self, pfx):
        self.pfx, self.ns, self.procs = pfx, [], []

    def add_ns(self, role):
        n = f"{self.pfx}{role}"
        sh("ip", "netns", "add", n)
        self.ns.append(n)
        sh("ip", "link", "set", "lo", "up", ns=n)
        sh("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", ns=n)
        return n

    def spawn(self, ns, *argv):
        p = subprocess.Popen(["ip", "netns", "exec", ns, *map(str, argv)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        for n in reversed(self.ns):
            sh("ip", "netns", "del", n, check=False)


def rpc(sock, method, params=None):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock)
        s.sendall((json.dumps({"method": method, "params": params or {}}) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            d = s.recv(65536)
            if not d:
                break
            buf += d
    r = json.loads(buf)
    if "error" in r:
        raise RuntimeError(f"{method}: {r['error']['message']}")
    return r["result"]


def run_side(side, a):
    t = Topo(f"xq{os.getpid() % 10000}{side[0]}")
    rate = a.rate
    xvsd = None
    try:
        senders = [t.add_ns(r) for r in "abc"]
        up = t.add_ns("u")
        mid = t.add_ns("sw")
        if side == "xvs":
            sock = f"/tmp/{t.pfx}.sock"
            db = f"/tmp/{t.pfx}.db"
            xvsd = subprocess.Popen(["ip", "netns", "exec", mid, XVSD, "--db", db, "--socket",
                                     sock, "--workers", "2", "--cpus", "0,1"],
                                    stdout=open(f"/tmp/{t.pfx}.log", "w"),
                                    stderr=subprocess.STDOUT)
            for _ in range(200):
                if os.path.exists(sock):
                    break
                time.sleep(0.05)
            rpc(sock, "switch.set", {"options": {"workers": 2}})
            for k, n in enumerate(senders):
                rpc(sock, "port.add", {"name": f"v{k}", "kind": "tap", "options": {
                    "ifname": f"{t.pfx}t{k}", "netns": n, "mac-spoof": "off",
                    "min-bw-weight": WEIGHTS[k]}})
                sh("ip", "addr", "add", f"{NET}{k + 1}/24", "dev", f"{t.pfx}t{k}", ns=n)
                sh("ip", "link", "set", f"{t.pfx}t{k}", "up", ns=n)
            sh("ip", "link", "add", f"{t.pfx}us", "netns", mid, "type", "veth", "peer", "name",
               f"{t.pfx}u", "netns", up)
            sh("ip", "link", "set", f"{t.pfx}us", "up", ns=mid)
            sh("ethtool", "-K", f"{t.pfx}u", "tx", "off", ns=up)
            rpc(sock, "port.add", {"name": "up", "kind": "afpacket", "options": {
                "ifname": f"{t.pfx}us", "qos": "on", "link-rate": rate}})

            def sample():
                c = rpc(sock, "qos.show", {"name": "up"})["ports"][0]["classes"]
                by = {x["name"]: x["sent_bytes"] for x in c}
                return [by[f"v{k}"] for k in range(3)]
        else:
            sh("ip", "link", "add", "br0", "type", "bridge", ns=mid)
            sh("ip", "link", "set", "br0", "up", ns=mid)
            for k, n in enumerate(senders):
                sh("ip", "link", "add", f"s{k}", "netns", mid, "type", "veth", "peer", "name",
                   f"{t.pfx}t{k}", "netns", n)
                sh("ip", "link", "set", f"s{k}", "master", "br0", "up", ns=mid)
                sh("ip", "addr", "add", f"{NET}{k + 1}/24", "dev", f"{t.pfx}t{k}", ns=n)
                sh("ip", "link", "set", f"{t.pfx}t{k}", "up", ns=n)
            sh("ip", "link", "add", "us", "netns", mid, "type", "veth", "peer", "name",
               f"{t.pfx}u", "netns", up)
            sh("ip", "link", "set", "us", "master", "br0", "up", ns=mid)
            # HTB on the uplink's egress: guarantees by weight, borrowing up to the link
            r = int(float(rate.rstrip("MG")) * (1e6 if rate.endswith("M") else 1e9))
            sh("tc", "qdisc", "add", "dev", "us", "root", "handle", "1:", "htb", "default",
               "30", ns=mid)
            sh("tc", "class", "add", "dev", "us", "parent", "1:", "classid", "1:1", "htb",
               "rate", f"{r}bit", "ceil", f"{r}bit", ns=mid)
            for k, w in enumerate(WEIGHTS):
                sh("tc", "class", "add", "dev", "us", "parent", "1:1", "classid",
                   f"1:{10 * (k + 1)}", "htb", "rate", f"{r * w // sum(WEIGHTS)}bit", "ceil",
                   f"{r}bit", ns=mid)
                sh("tc", "filter", "add", "dev", "us", "parent", "1:", "protocol", "ip",
                   "prio", "1", "u32", "match", "ip", "src", f"{NET}{k + 1}/32", "flowid",
                   f"1:{10 * (k + 1)}", ns=mid)

            # One tc in the namespace for the whole run, fed "class show" commands
            # (tc -batch), its output line-buffered (stdbuf): a sample is a netlink
            # dump, ~0.2 ms, where a tc process per sample (through ip netns exec)
            # took ~50 ms, ~0.5 s under this load.
            tcb = subprocess.Popen(["ip", "netns", "exec", mid, "stdbuf", "-oL", "tc", "-s",
                                    "-batch", "-"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True, bufsize=1)
            t.procs.append(tcb)

            def sample():
                # iproute2 here prints htb class stats as text even with -j; the
                # root class 1:1 and the three leaves, each with one "Sent" line
                tcb.stdin.write("class show dev us\n")
                tcb.stdin.flush()
                by, cur = {}, None
                while len(by) < 4:
                    line = tcb.stdout.readline()
                    if not line:
                        raise RuntimeError("tc -batch ended")
                    w = line.split()
                    if len(w) > 2 and w[0] == "class":
                        cur = w[2]
                    elif len(w) > 2 and w[0] == "Sent" and cur is not None:
                        by[cur] = int(w[1])
                        cur = None
                return [by[f"1:{10 * (k + 1)}"] for k in range(3)]
        sh("ip", "addr", "add", f"{NET}9/24", "dev", f"{t.pfx}u", ns=up)
        sh("ip", "link", "set", f"{t.pfx}u", "up", ns=up)
        for k, n in enumerate(senders):
            sh("ping", "-c", "1", "-W", "2", f"{NET}9", ns=n, check=False)
        for k in range(3):
            t.spawn(up, "iperf3", "-s", "-p", 5601 + k)
        time.sleep(0.5)
        cli = [t.spawn(n, "iperf3", "-c", f"{NET}9", "-p", 5601 + k, "-u", "-b", a.send,
                       "-l", "1400", "-t", a.warm + a.secs + a.after + 5)
               for k, n in enumerate(senders)]
        time.sleep(a.warm)
        samples = []
        c0, t0 = cpu_busy(), time.time()
        t_stop = t0 + a.secs
        while time.time() < t_stop + a.after:
            samples.append((time.time(), sample()))
            time.sleep(a.sample)
            if cli[2].poll() is None and time.time() >= t_stop:
                c1 = cpu_busy()
                cli[2].send_signal(signal.SIGINT)
        series = [x for x in samples if t0 <= x[0] <= t_stop]
        after = [x for x in samples if x[0] > t_stop]
        (ta, sa), (tb, sb) = series[0], series[-1]
        d = [y - x for x, y in zip(sa, sb)]
        tot = sum(d)
        want = [w / sum(WEIGHTS) for w in WEIGHTS]
        err = max(abs(v / tot - w) for v, w in zip(d, want)) * 100 if tot else None
        gbps = tot * 8 / (tb - ta) / 1e9
        cpu_s = (c1[0] - c0[0]) / max(1, (c1[1] - c0[1])) * os.cpu_count()  # CPUs busy
        # takeover: from the end of the last sample window in which c sent, to the start
        # of the first window from which a+b fill >= 90 % of the link with a/(a+b) within
        # 5 % of its weight's share, for 5 windows in a row
        link = float(rate.rstrip("MG")) * (1e6 if rate.endswith("M") else 1e9)
        wa = WEIGHTS[0] / (WEIGHTS[0] + WEIGHTS[1])
        idx_c = max((i for i in range(1, len(after)) if after[i][1][2] != after[i - 1][1][2]),
                    default=0)
        last_c = after[idx_c][0] if after else t_stop

        def good(j):
            (t1_, s1), (t2, s2) = after[j - 1], after[j]
            da, db = s2[0] - s1[0], s2[1] - s1[1]
            return (da + db) * 8 / (t2 - t1_) >= 0.9 * link and abs(da / (da + db) - wa) <= 0.05

        take = None
        for i in range(idx_c + 1, len(after) - 5):
            if all(good(j) for j in range(i, i + 5)):
                take = max(0.0, after[i - 1][0] - last_c) * 1000
                break
        intervals = [y[0] - x[0] for x, y in zip(series, series[1:])]
        return {"side": side, "link": rate, "weights": WEIGHTS, "secs": round(tb - ta, 2),
                "shares": [round(v / tot, 4) for v in d] if tot else None,
                "share_err_pct": round(err, 2) if err is not None else None,
                "gbps": round(gbps, 4), "cpus_busy": round(cpu_s, 2),
                "cpu_per_gbps": round(cpu_s / gbps, 2) if gbps else None,
                "takeover_ms": round(take, 1) if take is not None else None,
                "c_stopped_after_s": round(last_c - t_stop, 3),
                "sample_ms_median": round(sorted(intervals)[len(intervals) // 2] * 1000, 1)
                if intervals else None}
    finally:
        t.close()
        if xvsd is not None:
            xvsd.terminate()
            xvsd.wait(15)
            for ext in (".db", ".db-wal", ".db-shm", ".db.lock", ".sock.lock", ".log", ".tc"):
                if os.path.exists(f"/tmp/{t.pfx}{ext}"):
                    os.unlink(f"/tmp/{t.pfx}{ext}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", default="100M", help="link rate (M or G suffix)")
    ap.add_argument("--send", default="70M", help="each sender's UDP rate")
    ap.add_argument("--warm", type=float, default=2)
    ap.add_argument("--secs", type=float, default=4)
    ap.add_argument("--after", type=float, default=2)
    ap.add_argument("--sample", type=float, default=0.01)
    ap.add_argument("--sides", default="xvs,htb")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    res = []
    for side in a.sides.split(","):
        r = run_side(side, a)
        print(json.dumps(r), flush=True)
        res.append(r)
    if a.out:
        with open(a.out, "a") as f:
            for r in res:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    sys.exit(main())
