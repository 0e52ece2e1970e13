# SPDX-License-Identifier: BSD-3-Clause
"""Every port kind and every RPC method on one switch: a short walk through
the whole daemon, first of all for the run under AddressSanitizer and UBSan
(README.md, "Sanitizers"), which runs this file among others.

   ns a [a] -------- tap "a" ----------+
   ns u [u] ==veth== [us] afpacket "u" -+
   ns x [x] ==veth== [xs] afxdp "x" ----+-- xvsd (ns xe<sfx>sw), 1 worker
            tmp/in.pcap -> pcap "p" ----+   (pcap "p" writes tmp/out.pcap)
                            null "n" ---+

vhost-user (with a virtio-user guest) is test_vhost.py; pci ports need a NIC.
"""
import json
import os

import pytest

from conftest import BUILD, SUBNET4, wait_for


def _afxdp_or_skip(switch, host):
    """Add host's switch end as an afxdp port; skip when this kernel or DPDK
    build cannot (the reason is the daemon's own message)."""
    switch.expect_log(r"port: x: |af_xdp")
    r = switch.rpc({"method": "port.add", "params": {
        "name": "x", "kind": "afxdp", "options": {"ifname": host.sw_ifname}}}, timeout=20)
    if "error" in r:
        pytest.skip(f"afxdp port unavailable here: {r['error']['message']}")
    return r["result"]


def test_every_port_kind_forwards(switch, tmp_path):
    from scapy.layers.l2 import Ether
    from scapy.layers.inet import IP, UDP
    from scapy.utils import rdpcap, wrpcap

    a = switch.vm("a", ipv6=False)
    u = switch.uplink("u", ipv6=False)
    x = switch.uplink("x", ipv6=False, add_port=False)
    assert _afxdp_or_skip(switch, x)["kind"] == "afxdp"
    inp, out = tmp_path / "in.pcap", tmp_path / "out.pcap"
    src = "02:00:00:00:77:01"
    wrpcap(str(inp), [Ether(src=src, dst="ff:ff:ff:ff:ff:ff") / IP(dst=f"{SUBNET4}200") /
                      UDP(dport=9) / (b"p" * 40)] * 4)
    switch.ctl("port", "add", "p", "pcap", f"path={inp}", f"tx-path={out}")
    switch.ctl("port", "add", "n", "null")
    kinds = {n: p["kind"] for n, p in switch.ports().items()}
    assert kinds == {"a": "tap", "u": "afpacket", "x": "afxdp", "p": "pcap", "n": "null"}
    assert all(p["state"] == "up" for p in switch.ports().values()), switch.ports()

    a.ping(u)
    a.ping(x)
    u.ping(x)
    wait_for(lambda: switch.stats("p")["rx_packets"] >= 4, 5, what="pcap replayed")
    st = switch.stats()
    for name in ("a", "u", "x"):
        assert st[name]["rx_packets"] > 0 and st[name]["tx_packets"] > 0, st[name]
    assert st["p"]["flooded"] == 4, st["p"]
    assert st["n"]["tx_packets"] > 0, st["n"]   # floods reach the null port
    # the pcap port's tx file is complete once the port is gone
    switch.ctl("port", "del", "p")
    assert len(rdpcap(str(out))) > 0


# Each method: a valid call, then an invalid one that must be refused and
# change nothing. A method "help" lists but this table lacks fails the test.
EXT_UNIT = BUILD / "tests" / "unit"
SMOKE_PCAPNG = f"/tmp/xvs-smoke-{os.getpid()}.pcapng"


def _calls():
    return [
        ("help", {}, None),
        ("switch.show", {}, None),
        ("switch.set", {"options": {"aging": 300}}, {"options": {"aging": 1}}),
        ("port.add", {"name": "n1", "kind": "null", "options": {"vlan": 10}},
         {"name": "n2", "kind": "null", "options": {"vlan": 4095}}),
        ("port.add", {"name": "n2", "kind": "null",
                      "options": {"vlan-mode": "trunk", "trunks": "10,20", "native": "none"}},
         {"name": "n1", "kind": "null"}),
        ("port.set", {"name": "n1", "options": {"vlan": 20, "mtu": 1400}},
         {"name": "n1", "options": {"vlan": "x"}}),
        ("port.add_many", {"ports": [{"name": "n3", "kind": "null"},
                                     {"name": "n4", "kind": "tap", "options": {}}]},
         {"ports": [{"name": "n5", "kind": "null"},     # all or nothing: n5 is not added
                    {"name": "n6", "kind": "null", "options": {"vlan": 4095}}]}),
        ("port.list", {}, {"name": "nope"}),
        ("port.stats", {"name": "n1"}, {"name": 5}),
        ("worker.stats", {}, None),
        ("rss.show", {}, {"name": "nope"}),
        ("queue.show", {}, {"name": "nope"}),
        ("balancer.show", {}, None),
        ("balancer.set", {"options": {"interval-ms": 500}}, {"options": {"low": 90, "high": 50}}),
        ("vmq.show", {}, {"name": "n1"}),
        ("rss.set", {"name": "n1", "options": {"enabled": "on", "profile": "static"}},
         {"name": "n1", "options": {"bogus": 1}}),
        ("mirror.add", {"name": "m1", "options": {"src": "n1", "dst": "n2", "dir": "in"}},
         {"name": "m2", "options": {"src": "n1", "dst": "n1"}}),
        ("mirror.show", {}, {"name": "nope"}),
        ("mirror.del", {"name": "m1"}, {"name": "m1"}),
        ("capture.start", {"port": "n1", "file": SMOKE_PCAPNG},
         {"port": "n1", "file": "relative.pcapng"}),
        ("capture.show", {}, None),
        ("capture.stop", {"port": "n1"}, {"port": "n1"}),
        ("fdb.add", {"mac": "02:00:00:00:00:aa", "vlan": 20, "port": "n1"},
         {"mac": "zz", "vlan": 20, "port": "n1"}),
        ("fdb.show", {"port": "n1", "vlan": 20}, {"vlan": 0}),
        ("fdb.flush", {"port": "n1"}, {"port": "nope"}),
        ("fdb.del", {"mac": "02:00:00:00:00:aa", "vlan": 20},
         {"mac": "02:00:00:00:00:aa", "vlan": 20}),
        # extensions: objects of the unit-test build (tests/unit/meson.build)
        ("ext.load", {"path": str(EXT_UNIT / "libext_sample.so")},
         {"path": str(EXT_UNIT / "libext_sample_abi2.so")}),
        ("ext.load", {"path": str(EXT_UNIT / "libext_cycle_a.so")}, {"path": "rel.so"}),
        ("ext.list", {}, None),
        ("ext.show", {"name": "sample"}, {"name": "nope"}),
        ("ext.enable", {"name": "sample", "port": "n1"}, {"name": "sample", "port": "nope"}),
        # sample takes no settings: removing one is the only setting it accepts
        ("ext.set", {"name": "sample", "options": {"x": ""}},
         {"name": "sample", "options": {"x": "1"}}),
        ("ext.order", {"name": "sample", "rel": "before", "other": "cycle_a"},
         {"name": "cycle_a", "rel": "before", "other": "sample"}),
        ("ext.unorder", {"name": "sample", "rel": "before", "other": "cycle_a"},
         {"name": "sample", "rel": "before", "other": "cycle_a"}),
        ("ext.disable", {"name": "sample", "port": "n1"}, {"name": "nope", "port": "n1"}),
        ("ext.unload", {"name": "sample"}, {"name": "sample"}),
        ("acl.add", {"name": "n1", "options": {"dir": "in", "action": "deny",
                                               "remote": "10.0.0.0/8"}},
         {"name": "n1", "options": {"dir": "in", "action": "deny", "remote": "10.0.0.1/8"}}),
        ("acl.show", {"name": "n1"}, {"name": "nope"}),
        ("acl.del", {"name": "n1", "id": 1}, {"name": "n1", "id": 1}),
        ("acl.clear", {"name": "n1"}, {"name": "nope"}),
        ("qos.class_add", {"name": "lm", "options": {"match": "tcp dport 6600", "weight": 5}},
         {"name": "x", "options": {"match": "tcp dport 9-1"}}),
        ("qos.show", {}, {"name": "nope"}),
        ("qos.class_del", {"name": "lm"}, {"name": "lm"}),
        ("port.del", {"name": "n2"}, {"name": "n2"}),
        ("test.fault", {"point": "none"}, {"point": "bogus"}),
        ("pipeline.stages", {}, None),
        ("test.stage", {"stage": "passthrough0", "port": "n1", "on": True},
         {"stage": "nope", "port": "n1"}),
    ]


def _state(sw):
    """Ports, settings and static FDB entries, as one comparable string."""
    fdb = [e for e in sw.rpc({"method": "fdb.show"})["result"]["entries"]
           if e["type"] == "static"]
    return json.dumps([sw.rpc({"method": "port.list"})["result"],
                       sw.rpc({"method": "switch.show"})["result"]["settings"], fdb,
                       sw.rpc({"method": "acl.show"})["result"]["ports"],
                       sw.rpc({"method": "balancer.show"})["result"]["settings"],
                       sw.rpc({"method": "qos.show"})["result"]],
                      sort_keys=True)


def test_every_rpc_method(switch):
    switch.xvsd.extra = ["--test-faults"]   # so that test.fault answers too
    switch.restart()
    methods = {m["method"] for m in switch.rpc({"method": "help"})["result"]["methods"]}
    missing = methods - {c[0] for c in _calls()}
    assert not missing, f"RPC methods not exercised by test_smoke.py _calls(): {missing}"
    for method, good, bad in _calls():
        r = switch.rpc({"method": method, "params": good})
        assert "result" in r, (method, good, r)
        if bad is not None:
            before = _state(switch)
            r = switch.rpc({"method": method, "params": bad})
            assert "error" in r, (method, bad, r)
            assert _state(switch) == before, (method, bad)
    # and the same through xvsctl's table output, which formats every view
    for args in (("switch", "show"), ("port", "list"), ("port", "stats"), ("fdb", "show"),
                 ("rss", "show"), ("worker", "stats"), ("mirror", "show"), ("capture", "show"),
                 ("acl", "show"), ("balancer", "show"),
                 ("qos", "show")):
        argv, p = switch.xvsd.ctl_proc(*args, json_out=False)
        assert p.returncode == 0, (argv, p.stderr)
    if os.path.exists(SMOKE_PCAPNG):
        os.unlink(SMOKE_PCAPNG)

