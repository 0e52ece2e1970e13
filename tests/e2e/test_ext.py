# SPDX-License-Identifier: BSD-3-Clause
"""Extensions: the loader, xvsctl ext, persistence, and the example extension.

    ns a (tap a) --\\                       /-- ns b (tap b)
                    xvsd (ns sw): udp_filter on a's ingress, sample (a unit-test
                    object) beside it for ordering

The example (examples/udp-filter) is built once per session *out of tree*: xvs's
headers and xvs-ext.pc are installed into a temporary destdir (`meson install
--destdir D --tags devel`), and the example's Makefile finds them with
pkg-config through PKG_CONFIG_PATH (PKG_CONFIG_SYSROOT_DIR=D maps the .pc's
prefix into the destdir). Bad objects come from the unit-test build
(tests/unit/meson.build: ext_samples).
"""
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import BUILD, REPO, need_tool, run, scapy_or_skip, wait_for

UNIT = BUILD / "tests" / "unit"
EXAMPLE = REPO / "examples" / "udp-filter"


@pytest.fixture(scope="session")
def example_so(tmp_path_factory):
    """examples/udp-filter built against the installed header only."""
    for tool in ("make", "cc", "pkg-config", "meson"):
        need_tool(tool)
    top = tmp_path_factory.mktemp("xvs-ext-build")
    dest, out = top / "dest", top / "out"
    out.mkdir()
    run(["meson", "install", "-C", str(BUILD), "--destdir", str(dest), "--tags", "devel",
         "--no-rebuild", "--quiet"], timeout=120)
    pcs = list(dest.rglob("xvs-ext.pc"))
    assert len(pcs) == 1, f"xvs-ext.pc not installed once: {pcs}"
    headers = list(dest.rglob("xvs/xvs_ext.h"))
    assert len(headers) == 1, f"xvs/xvs_ext.h not installed: {headers}"
    env = {"PATH": "/usr/bin:/bin", "PKG_CONFIG_PATH": str(pcs[0].parent),
           "PKG_CONFIG_LIBDIR": str(pcs[0].parent), "PKG_CONFIG_SYSROOT_DIR": str(dest)}
    cflags = run(["pkg-config", "--cflags", "xvs-ext"], env=env).stdout.split()
    assert f"-I{headers[0].parent.parent}" in cflags, cflags
    # a copy of the example, away from the repository's include/: only the
    # installed header can be found
    src = top / "src"
    shutil.copytree(EXAMPLE, src)
    # the installed header is clean C99 and C11 (extensions choose their own)
    for std in ("c99", "c11"):
        r = run(["make", "-B", "-C", str(src), f"O={out}",
                 f"CFLAGS=-std={std} -O2 -Wall -Wextra -Wpedantic -Werror"], env=env,
                check=False, timeout=120)
        assert r.returncode == 0, std + ": " + r.stdout + r.stderr
    so = out / "udp_filter.so"
    assert so.exists()
    return so


def unit_so(name):
    p = UNIT / f"lib{name}.so"
    if not p.exists():
        pytest.fail(f"{p} is not built: run ninja -C {BUILD}")
    return p


def ext_dir(sw, *objs):
    d = sw.tmp / "ext"
    d.mkdir(exist_ok=True)
    for o in objs:
        shutil.copy(o, d / Path(o).name)
    return d


def start_with_ext_dir(sw, d):
    sw.xvsd.extra = ["--ext-dir", str(d)]
    sw.start()


def exts(sw):
    """Loaded third-party extensions and waiting ones (not the built-in stages)."""
    return {e["name"]: e for e in sw.ctl("ext", "list")["extensions"]
            if e.get("origin") != "built-in"}


def rpc_error(sw, method, **params):
    r = sw.rpc({"method": method, "params": params})
    assert "error" in r, (method, params, r)
    return r["error"]


# ---------------------------------------------------------------- loader

def test_ext_dir_loads_good_objects_and_refuses_bad_ones(switch_unstarted, example_so):
    """Every bad object is refused with one ERR line naming it and the reason; xvsd
    runs with the good ones."""
    sw = switch_unstarted
    bad = {"ext_sample_abi2": "ABI version 2, xvsd supports 1",
           "ext_sample_nosym": "no symbol xvs_ext_register",
           "ext_sample_tail": "upgrade xvsd",
           "ext_sample_initfail": "init failed",
           "ext_sample_badname": "Bad-Name",
           "ext_sample_huge": "above 4096 bytes",
           "ext_sample_null": "returned no descriptor",
           "ext_cycle_b": "cycle"}
    d = ext_dir(sw, example_so, unit_so("ext_cycle_a"), *[unit_so(n) for n in bad])
    (d / "README.txt").write_text("not an extension: ignored\n")
    for n in bad:
        sw.expect_log(rf"ERR ext: extension {d}/lib{n}\.so: .*not loaded")
    start_with_ext_dir(sw, d)
    loaded = exts(sw)
    assert set(loaded) == {"udp_filter", "cycle_a"}, loaded
    assert loaded["udp_filter"]["origin"] == f"{d}/udp_filter.so"
    log = sw.xvsd.log_text()
    for n, why in bad.items():
        lines = [ln for ln in log.splitlines() if f"lib{n}.so" in ln]
        assert len(lines) == 1 and why in lines[0], (n, lines)
    assert sw.xvsd.running()


# ---------------------------------------------------------------- datapath

def _udp(src, dst, dport, n, tag):
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    return [Ether(src=src.mac, dst=dst.mac) / IP(src=src.ip4, dst=dst.ip4) /
            UDP(sport=40000 + i, dport=dport) / f"{tag}{i}".encode() for i in range(n)]


def _udp_dports(frames):
    from scapy.layers.inet import UDP
    from scapy.layers.l2 import Ether
    return sorted(Ether(f)[UDP].dport for f in frames if UDP in Ether(f))


def test_example_drops_its_port_counts_and_disables(switch_unstarted, example_so):
    """udp_filter on a's ingress with dport=5555 drops exactly those datagrams,
    counts them under its drop reason, and lets everything through once disabled."""
    scapy_or_skip()
    sw = switch_unstarted
    start_with_ext_dir(sw, ext_dir(sw, example_so))
    a, b = sw.vm("a", ipv6=False), sw.vm("b", ipv6=False)
    a.ping(b, count=1)        # both MACs learned
    sw.ctl("ext", "enable", "udp_filter", "a")
    sw.ctl("ext", "set", "udp_filter", "port=a", "dport=5555")
    sniff = b.sniff(src=[a.mac])
    a.send(_udp(a, b, 5555, 5, "drop") + _udp(a, b, 6666, 5, "pass"))
    got = _udp_dports(sniff.stop())
    assert got == [6666] * 5, got
    show = sw.ctl("ext", "show", "udp_filter")
    assert show["ports"] == ["a"]
    assert show["counters"]["drop_udp_dport"] == 5, show["counters"]
    assert show["counters"]["udp"] >= 10 and show["counters"]["packets"] >= 10
    assert show["stored"]["ports"] == {"a": {"dport": "5555"}}
    # disabled: the same datagrams pass
    sw.ctl("ext", "disable", "udp_filter", "a")
    sniff = b.sniff(src=[a.mac])
    a.send(_udp(a, b, 5555, 3, "again"))
    assert _udp_dports(sniff.stop()) == [5555] * 3
    assert sw.ctl("ext", "show", "udp_filter")["counters"]["drop_udp_dport"] == 5
    # enabled again, unloaded and loaded again in the same xvsd: the stored
    # port and its setting are replayed, and drop again
    sw.ctl("ext", "enable", "udp_filter", "a")
    path = sw.ctl("ext", "show", "udp_filter")["origin"]
    for k in range(2):
        sw.ctl("ext", "unload", "udp_filter")
        sw.ctl("ext", "load", path)
        sniff = b.sniff(src=[a.mac])
        a.send(_udp(a, b, 5555, 3, "reloaded") + _udp(a, b, 6666, 1, "reloaded"))
        assert _udp_dports(sniff.stop()) == [6666], f"settings not replayed on reload {k}"
        assert sw.ctl("ext", "show", "udp_filter")["counters"]["drop_udp_dport"] == 3
    a.ping(b, count=2)


@pytest.mark.serial
def test_unload_while_ping_and_iperf3_flow(switch, example_so):
    """ext.load at run time, enabled on both ports, then unloaded in the middle of
    a ping flood and an iperf3 transfer: the switch keeps forwarding, nothing is
    lost beyond what the filter itself drops, and xvsd stays up."""
    need_tool("iperf3")
    sw = switch
    a, b = sw.vm("a", ipv6=False), sw.vm("b", ipv6=False)
    a.ping(b, count=1)
    sw.ctl("ext", "load", str(example_so))
    for p in ("a", "b"):
        sw.ctl("ext", "enable", "udp_filter", p)
    sw.ctl("ext", "set", "udp_filter", "dport=9")   # discard: not in this traffic
    srv = sw.spawn(b.ns, ["iperf3", "-s", "-1", "-B", b.ip4])
    wait_for(lambda: b.run(["ss", "-ltn"]).stdout.count(":5201") > 0, 5, what="iperf3 -s")
    res = {}

    def ping():
        res["ping"] = a.run(["ping", "-q", "-n", "-c", "300", "-i", "0.01", "-W", "1", b.ip4],
                            check=False, timeout=30)

    def iperf():
        res["iperf"] = a.run(["iperf3", "-c", b.ip4, "-t", "4", "-J"], check=False,
                             timeout=40)

    threads = [threading.Thread(target=ping), threading.Thread(target=iperf)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    before = sw.ctl("ext", "show", "udp_filter")["counters"]["packets"]
    r = sw.ctl("ext", "unload", "udp_filter")
    assert r["unloaded"] == "udp_filter"
    for t in threads:
        t.join(60)
    srv.wait(10)
    assert before > 0, "the extension saw none of the traffic before the unload"
    assert res["iperf"].returncode == 0, res["iperf"].stdout[-2000:] + res["iperf"].stderr
    out = res["ping"].stdout
    assert " 0% packet loss" in out or " 0.0% packet loss" in out, out
    assert "udp_filter" not in {n for n, e in exts(sw).items() if e["loaded"]}
    assert sw.xvsd.running()
    a.ping(b, count=2)


# ---------------------------------------------------------------- control, persistence

def test_order_and_bad_input_change_nothing(switch_unstarted, example_so):
    """ext order shows in the resolved order; an unknown extension, a bad setting,
    an ordering cycle and an ABI mismatch each get one error and change nothing."""
    sw = switch_unstarted
    start_with_ext_dir(sw, ext_dir(sw, example_so))
    sw.ctl("port", "add", "n1", "null")
    sw.ctl("ext", "load", str(unit_so("ext_sample")))
    sw.ctl("ext", "enable", "udp_filter", "n1")
    sw.ctl("ext", "set", "udp_filter", "dport=53")
    # registered udp_filter first (--ext-dir), so it ran first; now reversed
    ing = sw.ctl("ext", "show", "udp_filter")["runs"]["ingress"]["order"]
    assert ing.index("udp_filter") < ing.index("sample"), ing
    r = sw.ctl("ext", "order", "sample", "before", "udp_filter")
    ing = r["runs"]["ingress"]["order"]
    assert ing.index("sample") < ing.index("udp_filter"), r
    assert r["runs"]["ingress"]["position"] == ing.index("sample")
    # taken back (spelled the other way round), and again: nothing to take back
    r = sw.ctl("ext", "unorder", "udp_filter", "after", "sample")
    ing = r["runs"]["ingress"]["order"]
    assert ing.index("udp_filter") < ing.index("sample"), r
    e = rpc_error(sw, "ext.unorder", name="udp_filter", rel="after", other="sample")
    assert e["code"] == "ENOENT" and "no order rule" in e["message"], e
    sw.ctl("ext", "order", "sample", "before", "udp_filter")

    def state():
        return (sw.ctl("ext", "list"), sw.ctl("ext", "show", "udp_filter")["stored"],
                sw.ctl("ext", "show", "udp_filter")["runs"], sw.ctl("ext", "show", "sample")["runs"])

    before = state()
    cases = [
        ("ext.enable", {"name": "nope", "port": "n1"}, "ENOENT", "no extension named \"nope\""),
        ("ext.enable", {"name": "udp_filter", "port": "nope"}, "ENOENT", "no port named"),
        ("ext.set", {"name": "udp_filter", "options": {"dport": "abc"}}, "EINVAL",
         "dport \"abc\": must be 1-65535"),
        ("ext.set", {"name": "udp_filter", "options": {"bogus": "1"}}, "EINVAL",
         "unknown setting \"bogus\""),
        ("ext.set", {"name": "udp_filter", "options": {"port": "n1", "dport": "0"}}, "EINVAL",
         "must be 1-65535"),
        ("ext.set", {"name": "udp_filter", "options": {"port": "n1"}}, "EINVAL",
         "nothing to set"),
        ("ext.set", {"name": "udp_filter", "options": {"Bad Key": "1"}}, "EINVAL",
         "keys are [a-z0-9_.-]"),
        ("ext.order", {"name": "udp_filter", "rel": "before", "other": "sample"}, "ELOOP",
         "has a cycle: "),
        ("ext.order", {"name": "udp_filter", "rel": "sideways", "other": "sample"}, "EINVAL",
         "before"),
        ("ext.load", {"path": str(unit_so("ext_sample_abi2"))}, "EPROTO",
         "ABI version 2, xvsd supports 1"),
        ("ext.load", {"path": str(unit_so("ext_sample_nosym"))}, "ENOEXEC", "no symbol"),
        ("ext.load", {"path": str(unit_so("ext_sample"))}, "EEXIST", "loaded already"),
        ("ext.load", {"path": "relative.so"}, "EINVAL", "absolute"),
        ("ext.unload", {"name": "nope"}, "ENOENT", "no extension named"),
    ]
    for method, params, code, msg in cases:
        e = rpc_error(sw, method, **params)
        assert e["code"] == code and msg in e["message"], (method, params, e)
        assert state() == before, (method, params)
    # and through xvsctl: the daemon's message, exit status 1
    argv, p = sw.xvsd.ctl_proc("ext", "enable", "nope", "n1", json_out=False)
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and "nope" in p.stderr, p.stderr
    argv, p = sw.xvsd.ctl_proc("ext", "order", "a", "sideways", "b", json_out=False)
    assert p.returncode == 2, p.stderr


def test_failing_apply_and_refused_port_change_nothing(switch):
    """A config_apply that fails after the commit: the error is the extension's,
    the stored settings and the state in force stay as they were. A port the
    extension refuses is not stored as enabled."""
    sw = switch
    sw.ctl("port", "add", "n1", "null")
    sw.ctl("port", "add", "up0", "null")
    sw.ctl("ext", "load", str(unit_so("ext_sample_config")))
    sw.ctl("ext", "set", "cfg", "port=n1", "mode=ok")
    before = sw.ctl("ext", "show", "cfg")
    e = rpc_error(sw, "ext.set", name="cfg", options={"port": "n1", "mode": "fail"})
    assert e["code"] == "ENOMEM" and "mode=fail: no memory" in e["message"], e
    e = rpc_error(sw, "ext.set", name="cfg", options={"mode": "other"})
    assert e["code"] == "EINVAL" and "only mode=ok|fail" in e["message"], e
    e = rpc_error(sw, "ext.enable", name="cfg", port="up0")
    assert e["code"] == "EPERM" and "not on uplink up0" in e["message"], e
    after = sw.ctl("ext", "show", "cfg")
    assert after["stored"] == before["stored"] and after["ports"] == [], after
    sw.ctl("ext", "enable", "cfg", "n1")
    sw.restart()
    got = sw.ctl("ext", "show", "cfg")
    assert got["stored"]["ports"] == {"n1": {"mode": "ok"}} and got["ports"] == ["n1"], got


def test_bad_verdicts_are_counted_and_passed(switch):
    """A capture extension that drops, or answers a verdict that does not exist,
    breaks its contract: every such verdict is counted as bad_verdict and the
    packet passes; the switch forwards as if the extension were not there."""
    sw = switch
    a, b = sw.vm("a", ipv6=False), sw.vm("b", ipv6=False)
    sw.ctl("ext", "load", str(unit_so("ext_sample_badverdict")))
    sw.ctl("ext", "enable", "liar", "a")
    a.ping(b, count=5, interval=0.05)
    c = sw.ctl("ext", "show", "liar")["counters"]
    assert c["bad_verdict"] >= 5, c
    assert c["drop_runt"] == 0, c
    assert sw.stats("a")["drops"].get("policy", 0) == 0


@pytest.mark.parametrize("how", ["restart", "kill9"])
def test_settings_survive_restart(switch_unstarted, example_so, how):
    """Enablement, settings (global and per port), order constraints and objects
    loaded with ext.load survive a restart (and kill -9); without the object the
    settings are kept and listed as waiting, and applied when it is loaded."""
    sw = switch_unstarted
    d = ext_dir(sw, example_so)
    start_with_ext_dir(sw, d)
    a = sw.vm("a", ipv6=False)
    sw.ctl("ext", "load", str(unit_so("ext_sample")))
    sw.ctl("ext", "enable", "udp_filter", "a")
    sw.ctl("ext", "set", "udp_filter", "dport=53")
    sw.ctl("ext", "set", "udp_filter", "port=a", "dport=5555")
    sw.ctl("ext", "order", "udp_filter", "after", "sample")
    want = sw.ctl("ext", "show", "udp_filter")
    if how == "kill9":
        sw.kill9()
        sw.start()
        sw.reconfigure_hosts()
    else:
        sw.restart()
    got = sw.ctl("ext", "show", "udp_filter")
    assert want["stored"]["global"] == {"dport": "53"}, want["stored"]
    assert want["stored"]["ports"] == {"a": {"dport": "5555"}}, want["stored"]
    for k in ("ports", "stored", "runs"):
        assert got[k] == want[k], (k, got[k], want[k])
    assert exts(sw)["sample"]["loaded"]
    # udp_filter (--ext-dir) is loaded before sample (ext.load): the order
    # constraint is replayed when sample comes, and "runs" above shows it
    assert "udp_filter: loaded from" in sw.xvsd.log_text()
    assert "1 port(s), 2 setting(s)" in sw.xvsd.log_text()
    # without --ext-dir: kept and shown as waiting
    sw.stop()
    sw.xvsd.extra = []
    sw.start()
    sw.reconfigure_hosts()
    e = exts(sw)["udp_filter"]
    assert not e["loaded"] and e["stored"]["enabled_on"] == ["a"], e
    assert e["stored"]["global"] == {"dport": "53"}
    # loaded again: replayed
    sw.ctl("ext", "load", str(d / "udp_filter.so"))
    got = sw.ctl("ext", "show", "udp_filter")
    assert got["ports"] == ["a"] and got["runs"] == want["runs"], got


def test_version_1_database_is_migrated_and_newer_refused(switch_unstarted, example_so):
    """A database written before the extension tables (schema version 1) opens
    with its ports and takes extension settings; one of a newer schema is
    refused with a message, untouched."""
    sw = switch_unstarted
    db = sqlite3.connect(sw.xvsd.db)
    db.executescript(
        "CREATE TABLE port(name TEXT PRIMARY KEY, kind TEXT NOT NULL, seq INTEGER NOT NULL);"
        "CREATE TABLE port_option(port TEXT NOT NULL REFERENCES port(name) ON DELETE CASCADE,"
        " key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(port, key));"
        "CREATE TABLE fdb_static(mac TEXT NOT NULL, vlan INTEGER NOT NULL, port TEXT NOT NULL"
        " REFERENCES port(name) ON DELETE CASCADE, PRIMARY KEY(mac, vlan));"
        "CREATE TABLE setting(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO port VALUES('n1', 'null', 1);"
        "PRAGMA user_version = 1;")
    db.close()
    start_with_ext_dir(sw, ext_dir(sw, example_so))
    assert "n1" in sw.ports()
    sw.ctl("ext", "enable", "udp_filter", "n1")
    sw.ctl("ext", "set", "udp_filter", "port=n1", "dport=7")
    sw.restart()
    assert sw.ctl("ext", "show", "udp_filter")["ports"] == ["n1"]
    sw.stop()
    db = sqlite3.connect(sw.xvsd.db)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 6
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    sw.expect_log(r"ERR store: config store .*: schema version 99 is newer than this xvsd's 6")
    with pytest.raises(AssertionError, match="exited with 1"):
        sw.start()
    db = sqlite3.connect(sw.xvsd.db)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 99
    db.close()


def test_stored_object_missing_at_start_is_reported_and_can_be_forgotten(switch, example_so):
    """An object loaded with ext load is gone at the next start: one ERR line,
    xvsd runs; its settings wait; ext unload PATH forgets the object."""
    sw = switch
    so = sw.tmp / "udp_filter.so"
    shutil.copy(example_so, so)
    sw.ctl("port", "add", "n1", "null")
    sw.ctl("ext", "load", str(so))
    sw.ctl("ext", "enable", "udp_filter", "n1")
    sw.stop()
    so.unlink()
    sw.expect_log(rf"ERR ext: extension {so}: No such file or directory; not loaded")
    sw.start()
    e = exts(sw)["udp_filter"]
    assert not e["loaded"] and e["stored"]["enabled_on"] == ["n1"], e
    assert sw.ctl("ext", "unload", str(so)) == {"forgotten": str(so)}
    err = rpc_error(sw, "ext.unload", name=str(so))
    assert err["code"] == "ENOENT", err
    sw.restart()
    assert sw.xvsd.log_text().count(f"extension {so}: No such file") == 1
    assert not exts(sw)["udp_filter"]["loaded"]
