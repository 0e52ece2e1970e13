# SPDX-License-Identifier: BSD-3-Clause
"""QoS, balancer and VMQ control: malformed RPC arguments are refused one by one
and change nothing; `xvsctl top` shows a QoS section when a port schedules.

The argument fuzz (tests/fuzz/fuzz_rpc covers the methods of src/ctl/params.c
only): every qos.*, balancer.* and vmq.* method gets seeded random malformed
params (wrong types, huge and negative numbers, missing and unknown keys, long
strings, invalid UTF-8 as raw bytes). Each request gets exactly one reply, an
error for every method that changes something; xvsd stays alive; qos.show,
balancer.show and vmq.show are the same before and after.
"""
import json
import random

from conftest import wait_for

METHODS = ["qos.show", "qos.class_add", "qos.class_del", "balancer.show", "balancer.set",
           "vmq.show"]
CHANGES = {"qos.class_add", "qos.class_del", "balancer.set"}
KEYS = ["name", "options", "match", "weight", "min-bw", "max-bw", "pcp", "strict", "port",
        "enabled", "high", "low", "interval-ms", "hysteresis", "hold-intervals", "home-worker",
        "cores-first", "bogus", ""]


def junk(rng, depth=0):
    """A value of a random, mostly wrong, type."""
    k = rng.randrange(12 if depth < 2 else 9)
    if k == 9:
        return [1, "a", None]
    if k == 10:
        return {"k": junk(rng, depth + 1)}
    if k == 11:
        return {rng.choice(KEYS): junk(rng, depth + 1) for _ in range(rng.randrange(4))}
    return [None, True, -1, 2**63, -2**63, 10**30, 1.5e308, "",
            "x" * rng.choice((1, 300, 70000))][k]


def malformed(rng, method):
    """Params of method that must be refused (or, for a show, answered once)."""
    kind = rng.randrange(6)
    if kind == 0:
        return junk(rng)                                  # params not an object
    if kind == 1:
        return {}                                         # keys missing
    if kind == 2:
        return {"name": junk(rng)}                        # name of a wrong type
    if kind == 3:
        return {"name": "lm", "options": junk(rng)}
    if kind == 4:                                         # options of wrong types / unknown
        return {"name": rng.choice(["lm", "zz", "u0"]),
                "options": {rng.choice(KEYS): junk(rng) for _ in range(1 + rng.randrange(4))}}
    return {rng.choice(KEYS): junk(rng), "bogus": 1}      # unknown keys


def state(sw):
    q = sw.rpc({"method": "qos.show"})["result"]
    for p in q.get("ports", []):                          # configuration, not counters
        p.pop("queued", None)
        for c in p.get("classes", []):
            for k in [k for k in c if k.endswith(("_frames", "_bytes")) or k == "share"]:
                c.pop(k)
    return json.dumps([q, sw.rpc({"method": "balancer.show"})["result"]["settings"],
                       sw.rpc({"method": "vmq.show"})["result"]], sort_keys=True)


def qos_port(sw):
    r = sw.rpc({"method": "port.add", "params": {"name": "u0", "kind": "null",
                           "options": {"qos": True, "link-rate": "1G"}}})
    assert "result" in r, r
    r = sw.rpc({"method": "qos.class_add",
                "params": {"name": "lm", "options": {"match": "tcp dport 6600", "weight": 5}}})
    assert "result" in r, r


def test_qos_balancer_vmq_rpc_fuzz(switch):
    sw = switch
    qos_port(sw)
    before = state(sw)
    rng = random.Random(13)
    answered = {m: 0 for m in METHODS}
    for n in range(300):
        m = METHODS[n % len(METHODS)]
        params = malformed(rng, m)
        raw = (json.dumps({"method": m, "params": params}) + "\n").encode()
        if n % 25 == 0:   # invalid UTF-8 inside a string
            raw = raw.replace(b'"params"', b'"params\xff\xfe"', 1) if n % 50 else \
                (b'{"method": "' + m.encode() + b'", "params": {"name": "\xc3\x28"}}\n')
        buf = sw.xvsd.rpc_bytes(raw)
        lines = [ln for ln in buf.split(b"\n") if ln.strip()]
        assert len(lines) == 1, (m, raw[:200], buf[:400])
        r = json.loads(lines[0])
        if m in CHANGES or n % 25 == 0:
            assert "error" in r and "result" not in r, (m, raw[:200], r)
            assert r["error"].get("message"), r
        else:
            assert ("error" in r) != ("result" in r), (m, raw[:200], r)
        answered[m] += 1
    assert state(sw) == before
    assert sw.rpc({"method": "switch.show"})["result"], "xvsd alive"
    assert all(v == 50 for v in answered.values()), answered


def test_top_shows_qos_section(switch):
    sw = switch
    argv, p = sw.xvsd.ctl_proc("top", "--once", json_out=False)
    assert p.returncode == 0 and "QOS PORT" not in p.stdout, (argv, p.stdout, p.stderr)
    qos_port(sw)
    argv, p = sw.xvsd.ctl_proc("top", "--once", json_out=False)
    assert p.returncode == 0, (argv, p.stderr)
    lines = p.stdout.splitlines()
    head = [k for k, ln in enumerate(lines) if ln.startswith("QOS PORT")]
    assert head, p.stdout
    rows = lines[head[0] + 1:]
    assert rows[0].split()[:2] == ["u0", "default"] and rows[1].split()[0] == "lm", p.stdout
    for col in ("OFFER/s", "SENT/s", "DROP/s", "SHARE", "QUEUE"):
        assert col in lines[head[0]], lines[head[0]]


def start_two_owners(sw, link_rate):
    """xvsd on 2 workers with taps a, b, c (a has pinged b and c); b and c
    schedule their egress (qos=on), one owner each: returns a, b, c."""
    sw.xvsd.extra += ["--workers", "2", "--cpus", "0,1"]
    sw.start()
    sw.ctl("switch", "set", "workers=2")
    a, b, c = (sw.vm(r, ipv6=False) for r in "abc")
    for v in (b, c):
        a.ping(v, count=1)
        sw.ctl("port", "set", v.port, "qos=on", f"link-rate={link_rate}")
    owners = {p["port"]: p["owner_worker"] for p in sw.ctl("qos", "show")["ports"]
              if p.get("scheduled")}
    assert sorted(owners.values()) == [0, 1], owners
    return a, b, c


def test_qos_owners_spread_and_move(switch_unstarted):
    """Two workers, two scheduling ports (taps: a tx queue per worker): different
    owners; frames through both are scheduled (the teardown checks every port's
    conservation). With workers=1 the second owner moves to worker 0 (through a
    snapshot without owner) and both still send."""
    sw = switch_unstarted
    a, b, c = start_two_owners(sw, "100M")

    def owners():
        return {p["port"]: p["owner_worker"] for p in sw.ctl("qos", "show")["ports"]
                if p.get("scheduled")}

    def sent(port):
        p = [p for p in sw.ctl("qos", "show")["ports"] if p["port"] == port][0]
        return sum(k["sent_frames"] for k in p["classes"])

    s0 = {v.port: sent(v.port) for v in (b, c)}
    for v in (b, c):
        a.ping(v, count=3, interval=0.1)
    for v in (b, c):
        assert sent(v.port) - s0[v.port] >= 3, (v.port, s0)
    sw.ctl("switch", "set", "workers=1")
    wait_for(lambda: owners() == {b.port: 0, c.port: 0}, timeout=10, what="owners on worker 0")
    s0 = {v.port: sent(v.port) for v in (b, c)}
    for v in (b, c):
        a.ping(v, count=3, interval=0.1)
    for v in (b, c):
        assert sent(v.port) - s0[v.port] >= 3, (v.port, s0)


def test_qos_owner_and_queues_move_together(switch_unstarted):
    """workers=2 -> 1 under traffic (ping floods from a to the scheduling taps b
    and c): worker 1's rx queue moves to worker 0 (the hand-off fence) in the
    same publication that moves worker 1's QoS owner. The fence must not wait
    on the rings of a port without owner (nobody drains them: 200 ms, a WARN,
    tx_full drops): the new owner takes over first. The teardown checks the
    log (no fence WARN) and conservation."""
    sw = switch_unstarted
    a, b, c = start_two_owners(sw, "1G")

    def rx_a():
        return sw.stats(a.port)["rx_packets"]

    r0 = rx_a()
    floods = [sw.spawn(a.ns, ["ping", "-f", "-q", "-l", "8", "-w", "2", v.ip4]) for v in (b, c)]
    wait_for(lambda: rx_a() - r0 > 200, timeout=5, what="the floods run")
    for n in (1, 2, 1):
        sw.ctl("switch", "set", f"workers={n}")
    assert sw.stats(a.port)["rx_packets"] - r0 > 400  # traffic ran through the moves
    for p in floods:
        p.wait(timeout=10)
    for v in (b, c):
        assert sw.stats(v.port)["drops"].get("tx_full", 0) == 0, sw.stats(v.port)
    assert "hand-off rings not drained" not in sw.xvsd.log_text()
