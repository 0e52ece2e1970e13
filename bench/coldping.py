#!/usr/bin/python3
"""coldping.py — extra RTT of the first ping after a silence, vs the steady-state median.

Usage: coldping.py --label NAME [--runner ./run_X.sh] [--reps 3] [--silence 10] [--steady 50]
                   [--out FILE] [--run-id ID]
The switch must already forward between xbh1 and xbh2 (coldping.sh does start/stop).

Per rep, from xbh1 to xbh2:
  1. steady: `ping -c STEADY -i 0.01` -> median RTT (the same kind of number as
     traffic.py's ping p50)
  2. nothing is sent for SILENCE seconds (nothing at all crosses the switch: both
     hosts have permanent neighbour entries, so no ARP refresh happens either)
  3. cold: one ping -> its RTT
  extra_us = cold_us - steady_p50_us  (what a switch that sleeps when idle - adaptive
  polling back-off, interrupt mode, a halted CPU - adds to the first packet)
The silence doubles as an idle-CPU window (like traffic.py's idle test): CPU time of
the runner's PIDs (idle_switch_cpu_pct, None for a kernel switch) and system-wide busy
time (idle_sys_busy_pct), both in % of one core, over the silence minus its first second.
The neighbour entries are pinned so that the number is the datapath's wake-up cost,
not an ARP exchange; the FDB entries (aging 300 s in all switches) stay valid.
"""
import argparse, json, os, re, statistics, subprocess, time

CLK = os.sysconf("SC_CLK_TCK")

E = os.environ
BENCH = os.path.dirname(os.path.abspath(__file__))
H1, H2 = E.get("XB_H1", "xbh1"), E.get("XB_H2", "xbh2")
H1_IP4, H2_IP4 = E.get("XB_H1_IP4", "192.0.2.1"), E.get("XB_H2_IP4", "192.0.2.2")
H1_MAC, H2_MAC = E.get("XB_H1_MAC", "02:00:00:00:01:01"), E.get("XB_H2_MAC", "02:00:00:00:02:02")


def sh(cmd, timeout=60):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout)


def rtts(out):
    return [float(m) * 1000 for m in re.findall(r"time=([\d.]+) ms", out)]


def proc_ticks(pids):
    t = 0
    for p in pids:
        try:
            f = open(f"/proc/{p}/stat").read()
            f = f[f.rindex(")") + 2:].split()
            t += int(f[11]) + int(f[12])  # utime + stime, all threads
        except (OSError, ValueError):
            pass
    return t


def sys_ticks():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(v), v[3] + v[4]


def idle_window(pids, secs):
    """sleep secs; returns (switch %, system busy %) of one core over that time"""
    p0, (s0, i0), t0 = proc_ticks(pids), sys_ticks(), time.time()
    time.sleep(secs)
    p1, (s1, i1), t1 = proc_ticks(pids), sys_ticks(), time.time()
    sw = round(100.0 * (p1 - p0) / CLK / (t1 - t0), 1) if pids else None
    busy = round(100.0 * ((s1 - s0) - (i1 - i0)) / max(1, s1 - s0) * os.cpu_count(), 1)
    return sw, busy


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--runner", default="")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--silence", type=float, default=10)
    ap.add_argument("--steady", type=int, default=50)
    ap.add_argument("--out", default=os.path.join(BENCH, "results", "coldping.jsonl"))
    ap.add_argument("--run-id", default=time.strftime("%Y%m%d-%H%M%S"))
    a = ap.parse_args()
    sh(f"ip netns exec {H1} ip neigh replace {H2_IP4} lladdr {H2_MAC} dev eth0 nud permanent")
    sh(f"ip netns exec {H2} ip neigh replace {H1_IP4} lladdr {H1_MAC} dev eth0 nud permanent")
    sh(f"ip netns exec {H1} ping -c 5 -i 0.1 -W 1 {H2_IP4}")  # FDB learned both ways
    pids = []
    if a.runner:
        pids = [int(p) for p in sh(f"{a.runner} pids").stdout.split() if p.isdigit()]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "a") as out:
        for rep in range(1, a.reps + 1):
            r = sh(f"ip netns exec {H1} ping -c {a.steady} -i 0.01 -W 1 {H2_IP4}")
            st = rtts(r.stdout)
            time.sleep(1)
            isw, isys = idle_window(pids, a.silence - 1)
            c = rtts(sh(f"ip netns exec {H1} ping -c 1 -W 2 {H2_IP4}").stdout)
            rec = {"run": a.run_id, "part": "coldping", "label": a.label, "test": "coldping", "rep": rep,
                   "ts": time.strftime("%F %T"), "silence_s": a.silence}
            if not st or not c:
                rec.update(ok=False, err=f"steady {len(st)}/{a.steady} replies, cold {len(c)}/1")
            else:
                med = statistics.median(st)
                rec.update(ok=True, steady_n=len(st), steady_p50_us=round(med, 1), cold_us=round(c[0], 1),
                           extra_us=round(c[0] - med, 1))
            rec.update(idle_switch_cpu_pct=isw, idle_sys_busy_pct=isys, switch_pids=len(pids))
            print(json.dumps(rec), flush=True)
            out.write(json.dumps(rec) + "\n"); out.flush()


if __name__ == "__main__":
    main()
