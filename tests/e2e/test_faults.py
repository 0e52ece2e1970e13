# SPDX-License-Identifier: BSD-3-Clause
"""A step of a command fails after validation: the command fails, and both the
stored configuration and the running switch are as before it.

   ns a [a] access 1          ns b [b] access 1
        | tap                      | tap
  +-----+--------------------------+------------------------------+
  |     a                          b        (x: tap in ns sw)      |
  |  xvsd (ns xe<sfx>sw) --test-faults --db tmp/x.db               |
  +----------------------------------------------------------------+

xvsd --test-faults offers the method test.fault {point, after, count}, which
makes the next hits of a point fail (src/ctl/xvsd.h):
  publish  xvsd_publish() fails as on -ENOMEM, before it builds anything
  commit   the command's SQLite commit fails (-EIO)
  apply    the device or FDB change after the commit fails (port.set mtu, fdb.add)
Each test checks the reply, `xvsctl --json` state, the fault's "fired" count,
the configuration after a restart, and that the switch still forwards.
"""
import json
import sqlite3

import pytest

from conftest import CtlError, run

MAC = "02:5a:00:00:00:01"


def _start(sw, workers=1):
    sw.xvsd.extra = ["--test-faults"] + (["--workers", str(workers)] if workers > 1 else [])
    sw.start()


def _arm(sw, point, count=1, after=0):
    r = sw.rpc({"method": "test.fault", "params": {"point": point, "count": count,
                                                   "after": after}})
    assert "result" in r, r
    return r["result"]


def _fired(sw, point):
    return sw.rpc({"method": "test.fault", "params": {"point": "none"}})["result"][point]["fired"]


def _fails(sw, *args, code):
    with pytest.raises(CtlError) as e:
        sw.ctl(*args)
    err = json.loads(e.value.proc.stdout)["error"]
    assert err["code"] == code, err
    return err["message"]


def _config(sw):
    ports = {n: p["options"] for n, p in sw.ports().items()}
    statics = sorted((e["mac"], e["vlan"], e["port"]) for e in sw.fdb()["entries"]
                     if e["type"] == "static")
    return {"ports": ports, "static": statics, "settings": sw.show()["settings"]}


def _dev_mtu(host):
    out = host.run(["ip", "-j", "link", "show", host.ifname]).stdout
    return json.loads(out)[0]["mtu"]


def test_fault_method_needs_the_flag(switch):
    r = switch.rpc({"method": "test.fault", "params": {"point": "publish"}})
    assert r["error"]["code"] == "EPERM", r
    switch.ctl("port", "add", "n", "null")
    assert "n" in switch.ports()


def test_publish_failure_fails_port_add_and_port_del(switch_unstarted):
    sw = switch_unstarted
    _start(sw)
    a, b = sw.vm("a", ipv6=False), sw.vm("b", ipv6=False)
    sw.ctl("port", "add", "c", "null")
    sw.ctl("fdb", "add", MAC, "vlan=1", "port=b")
    a.ping(b, count=1)
    before = _config(sw)
    order = list(sw.ports())

    # port.add: the port was opened and stored, but no worker polls it
    _arm(sw, "publish")
    xif = sw.names.dev("x")
    msg = _fails(sw, "port", "add", "x", "tap", f"ifname={xif}", code="ENOMEM")
    assert "publish" in msg
    assert _fired(sw, "publish") == 1
    assert "x" not in sw.ports()
    # its device was closed again (no worker ever saw it)
    assert run(["ip", "netns", "exec", sw.ns, "ip", "link", "show", xif],
               check=False).returncode != 0

    # port.del: b stays in the snapshot in force, so it stays open and working
    _arm(sw, "publish")
    _fails(sw, "port", "del", "b", code="ENOMEM")
    assert _fired(sw, "publish") == 2
    ports = sw.ports()
    assert ports["b"]["state"] == "up", ports["b"]
    assert _config(sw) == before
    a.ping(b, count=2)
    rx = sw.stats("b")["rx_packets"]
    assert rx > 0

    # neither failed command reached the database, nor changed the port order
    sw.restart()
    assert _config(sw) == before
    assert list(sw.ports()) == order
    a.ping(b, count=1)
    # and without the fault both work
    sw.ctl("port", "add", "x", "tap", f"ifname={xif}")
    sw.ctl("port", "del", "b")
    assert sorted(sw.ports()) == ["a", "c", "x"]


def test_port_set_mtu_commit_and_apply_failures(switch_unstarted):
    sw = switch_unstarted
    _start(sw)
    a, b = sw.vm("a", ipv6=False), sw.vm("b", ipv6=False)
    before = _config(sw)
    assert _dev_mtu(a) == 1500

    # commit fails: the device must not have been changed first
    _arm(sw, "commit")
    _fails(sw, "port", "set", "a", "mtu=1400", code="EIO")
    assert _fired(sw, "commit") == 1
    assert _dev_mtu(a) == 1500
    assert sw.ports()["a"]["options"]["mtu"] == "1500"

    # the device refuses: the stored mtu is put back
    _arm(sw, "apply")
    _fails(sw, "port", "set", "a", "mtu=1400", "vlan=7", code="EIO")
    assert _fired(sw, "apply") == 1
    assert _dev_mtu(a) == 1500
    assert _config(sw) == before

    # publish fails after the device changed: device and port back to 1500
    _arm(sw, "publish")
    _fails(sw, "port", "set", "a", "mtu=1400", code="ENOMEM")
    assert _dev_mtu(a) == 1500
    assert _config(sw) == before

    # rss.set goes the same way
    _arm(sw, "publish")
    _fails(sw, "rss", "set", "a", "profile=static", code="ENOMEM")
    assert _config(sw) == before

    sw.restart()
    assert _config(sw) == before
    a.ping(b, count=1)
    sw.ctl("port", "set", "a", "mtu=1400")
    assert _dev_mtu(a) == 1400


def test_port_set_mtu_beyond_the_ring_is_refused_before_the_commit(switch_unstarted):
    """An af_packet port opened at MTU 1500 cannot take 9000 without being added
    again: port set refuses it before anything reaches the store (the armed commit
    fault does not fire), and changes nothing."""
    sw = switch_unstarted
    _start(sw)
    sw.uplink("up", ipv6=False)
    before = _config(sw)
    _arm(sw, "commit")
    msg = _fails(sw, "port", "set", "up", "mtu=9000", code="EINVAL")
    assert "port up" in msg and "delete and add the port again" in msg, msg
    # the fault (count 1) is still armed: the next change, one that is
    # allowed, meets it (reading "fired" disarms, so read it only now)
    _fails(sw, "port", "set", "up", "mtu=1400", code="EIO")
    assert _fired(sw, "commit") == 1
    assert _config(sw) == before


def test_fdb_add_failures_keep_the_prior_entry(switch_unstarted):
    sw = switch_unstarted
    _start(sw)
    for n in ("p", "q"):
        sw.ctl("port", "add", n, "null")
    sw.ctl("fdb", "add", MAC, "vlan=10", "port=p")
    before = _config(sw)

    # commit fails: the FDB must not have changed (nor lost the old entry)
    _arm(sw, "commit")
    _fails(sw, "fdb", "add", MAC, "vlan=10", "port=q", code="EIO")
    assert _config(sw) == before

    # the FDB refuses after the commit: store back to p, FDB unchanged
    _arm(sw, "apply")
    _fails(sw, "fdb", "add", MAC, "vlan=10", "port=q", code="ENOSPC")
    _arm(sw, "apply")
    _fails(sw, "fdb", "add", "02:5a:00:00:00:02", "vlan=10", "port=q", code="ENOSPC")
    assert _fired(sw, "apply") == 2
    assert _config(sw) == before

    # fdb.del: a commit failure keeps the entry; a missing entry changes nothing
    _arm(sw, "commit")
    _fails(sw, "fdb", "del", MAC, "vlan=10", code="EIO")
    _fails(sw, "fdb", "del", "02:5a:00:00:00:03", "vlan=10", code="ENOENT")
    assert _config(sw) == before

    sw.restart()
    assert _config(sw) == before


def test_switch_set_publish_failure(switch_unstarted):
    sw = switch_unstarted
    _start(sw, workers=2)
    a, b = sw.vm("a", ipv6=False), sw.vm("b", ipv6=False)
    before = _config(sw)
    assert before["settings"]["workers"] == "2"

    _arm(sw, "publish")
    _fails(sw, "switch", "set", "workers=1", "aging=42", code="ENOMEM")
    assert _config(sw) == before
    assert sum(w["active"] for w in sw.ctl("worker", "stats")["workers"]) == 2
    a.ping(b, count=1)

    _arm(sw, "commit")
    _fails(sw, "switch", "set", "aging=43", code="EIO")
    assert _config(sw) == before

    sw.restart()
    assert _config(sw) == before
    a.ping(b, count=1)


def test_busy_database_refuses_changes_and_changes_nothing(switch):
    """No fault hook: another process holds the database's write lock, so the
    store fails for real (SQLITE_BUSY after xvsd's 2 s busy timeout)."""
    a = switch.vm("a", ipv6=False)
    switch.ctl("port", "add", "p", "null")
    before = _config(switch)
    con = sqlite3.connect(str(switch.xvsd.db), timeout=5, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        _fails(switch, "port", "add", "q", "null", code="EIO")
        _fails(switch, "port", "set", "a", "mtu=1400", code="EIO")
        _fails(switch, "fdb", "add", MAC, "vlan=1", "port=p", code="EIO")
        assert _dev_mtu(a) == 1500
        assert _config(switch) == before
    finally:
        con.execute("ROLLBACK")
        con.close()
    switch.ctl("fdb", "add", MAC, "vlan=1", "port=p")
    switch.restart()
    assert [e["mac"] for e in switch.fdb()["entries"] if e["type"] == "static"] == [MAC]


def _stored_ports(sw):
    con = sqlite3.connect(f"file:{sw.xvsd.db}?mode=ro", uri=True, timeout=5)
    try:
        return sorted(r[0] for r in con.execute("SELECT name FROM port"))
    finally:
        con.close()


def test_port_add_many_publish_then_restore_failure(switch_unstarted):
    """port.add_many commits 3 ports, then its publish fails: the rows are
    deleted again in one transaction. When that commit fails too, the reply
    says both (the undo reports into the command's error, not into an
    uninitialised one) and the rows stay together; when it works, nothing is
    left in the store."""
    sw = switch_unstarted
    _start(sw)
    specs = [{"name": f"n{i}", "kind": "null", "options": {}} for i in range(3)]
    before = _stored_ports(sw)

    sw.expect_log(r"stored configuration no longer matches the running switch")
    _arm(sw, "publish")
    _arm(sw, "commit", after=1)       # the add's commit works, the undo's fails
    r = sw.rpc({"method": "port.add_many", "params": {"ports": specs}})
    msg = r["error"]["message"]
    assert "publish" in msg and "could not be restored" in msg, r
    assert _fired(sw, "commit") == 1
    assert not {"n0", "n1", "n2"} & set(sw.ports())
    assert _stored_ports(sw) == sorted(before + ["n0", "n1", "n2"])  # all or none

    sw.restart()                        # what the store holds comes back
    assert {"n0", "n1", "n2"} <= set(sw.ports())
    for name in ("n0", "n1", "n2"):
        sw.ctl("port", "del", name)
    sw.ctl("port", "add", "x", "null")
    _arm(sw, "publish")
    r = sw.rpc({"method": "port.add_many", "params": {"ports": specs}})
    assert "publish" in r["error"]["message"], r
    assert "could not be restored" not in r["error"]["message"], r
    assert _stored_ports(sw) == sorted(before + ["x"])
