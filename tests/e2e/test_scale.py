# SPDX-License-Identifier: BSD-3-Clause
"""A thousand ports on one switch (issue 11, item 3; doc/ports.md "How many ports").

   ns a [a]            ns m [m]             ns b [b]        ns u1, u2
     | tap (#1)          | tap (#~60)         | tap (#1000)     | veth (afpacket)
  +--+-------------------+--------------------+-----------------+---------+
  |  a  f0000 ... m ... f0119  v000..v874 (vhost client, no guest)  u1 u2 b  |
  |     fillers: taps whose kernel side stays in the switch namespace     |
  |     (no IPv6 there, so they send nothing)                             |
  +-----------------------------------------------------------------------+

Fillers are 120 taps and 875 vhost-user ports in client mode: a tap is the
dearest port to create and delete (the kernel makes and unregisters a netdev,
~20 ms each here, mostly waiting for RCU, four times over with the restart),
so there are only enough of them to make the kinds mixed; a vhost-user port is
a socket lib vhost retries to connect. Client mode, because 875 server ports
would need 1,750 entries of lib vhost's 1,023-entry socket set once their
guests connect and xvsd refuses beyond that (doc/ports.md "How many ports"). Ports are
added with port.add_many (one transaction, one publish per batch): one
port.add each costs a commit and a grace period per port. b sits in the
last slot, 999: an FDB that kept port indexes in a byte sends a's
frames for b to slot 231, a filler (the mutant in scripts/mutants.py).
"""
import os
import time

from conftest import wait_for

N = int(os.environ.get('XVS_SCALE_N', 1000))
N_VHOST = int(os.environ.get('XVS_SCALE_VHOST', 875))
BATCH = 200


def _add_many(sw, specs):
    for i in range(0, len(specs), BATCH):
        r = sw.rpc({"method": "port.add_many", "params": {"ports": specs[i:i + BATCH]}},
                   timeout=120)
        assert "result" in r, r
        assert r["result"]["added"] == len(specs[i:i + BATCH])


def _slots(sw):
    return {name: p["slot"] for name, p in sw.ports().items()}


def test_thousand_ports_add_forward_restart_delete(switch):
    sw = switch
    a = sw.vm("a", ipv6=False)                  # slot 0: port #1
    fill = [{"name": f"f{i:04d}", "kind": "tap", "options": {}} for i in range(N - 5 - N_VHOST)]
    half = len(fill) // 2
    _add_many(sw, fill[:half])
    m = sw.vm("m", ipv6=False)                  # in the middle
    _add_many(sw, fill[half:])
    _add_many(sw, [{"name": f"v{i:03d}", "kind": "vhost",
                    "options": {"path": str(sw.tmp / f"v{i:03d}.sock"), "client": "on"}}
                   for i in range(N_VHOST)])
    u1 = sw.uplink("u1", ipv6=False)
    u2 = sw.uplink("u2", ipv6=False)
    b = sw.vm("b", ipv6=False)                  # the last slot: port #1000
    slots = _slots(sw)
    assert len(slots) == N
    assert slots["a"] == 0 and slots["b"] == N - 1, (slots["a"], slots["b"])
    assert sw.show()["max_ports"] >= N

    # a sends to b and m, and b to an uplink's host: unicast between slots
    # 0, ~500, 999 and the afpacket ports, learned in the FDB
    a.ping(b, count=3, interval=0.2)
    a.ping(m, count=2, interval=0.2)
    b.ping(u2, count=2, interval=0.2)
    assert sw.fdb_entry(b.mac)["port"] == "b"
    st = sw.stats()
    assert st["b"]["forwarded"] >= 3 and st["a"]["forwarded"] >= 3

    # a stopped and started xvsd finds all of them in its store
    t0 = time.monotonic()
    assert sw.xvsd.stop(timeout=120) == 0       # closing a tap waits for the kernel's RCU
    stop_s = time.monotonic() - t0
    sw.xvsd.start(timeout=120)
    sw.reconfigure_hosts()
    restart_s = time.monotonic() - t0
    slots = _slots(sw)
    assert len(slots) == N and slots["b"] == N - 1
    wait_for(lambda: a.ping(b, count=1, check=False).returncode == 0, 10,
             what="a reaches b after the restart")

    # every port but the VMs and uplinks goes, and the switch still forwards
    t0 = time.monotonic()
    for name in [n for n in slots if n.startswith(("f", "v"))]:
        r = sw.rpc({"method": "port.del", "params": {"name": name}}, timeout=30)
        assert "result" in r, r
    del_s = time.monotonic() - t0
    assert set(sw.ports()) == {"a", "m", "b", "u1", "u2"}
    a.ping(b, count=2, interval=0.2)
    m.ping(u1, count=2, interval=0.2)
    print(f"{N} ports: stop {stop_s:.1f} s, stop+start {restart_s:.1f} s, "
          f"{N - 5} port.del {del_s:.1f} s")


def test_ethdev_limit_refuses_only_a_port_that_creates_one(switch):
    """null ports are ethdevs: the one beyond DPDK's 32 is refused with one
    clear error (checked after the device name is known, so that a pci port
    whose ethdev EAL already probed is not counted as a new one); a tap still
    goes in, and a deleted null port frees its ethdev."""
    sw = switch
    limit = sw.show()["max_ethdev_ports"]
    added = []
    for i in range(limit + 1):
        r = sw.rpc({"method": "port.add", "params": {"name": f"e{i}", "kind": "null"}})
        if "error" in r:
            assert "DPDK ethdev ports are in use" in r["error"]["message"], r
            assert r["error"]["code"] == "ENOSPC", r
            break
        added.append(f"e{i}")
    else:
        raise AssertionError(f"{limit + 1} null ports added")
    assert 0 < len(added) <= limit
    assert f"e{len(added)}" not in sw.ports()
    sw.ctl("port", "add", "t", "tap")
    sw.ctl("port", "del", added[0])
    sw.ctl("port", "add", "again", "null")
