# SPDX-License-Identifier: BSD-3-Clause
"""Daemon life cycle: how xvsd stops and what it leaves behind.

   ns a [a] --tap--+
                   |   xvsd (ns xe<sfx>sw), started and stopped by the test
   ns b [b] --tap--+   signals: kill(2) to the process, as systemd and kill(1) do
"""
import os
import re
import signal
import subprocess

import pytest

from conftest import DPDK_RUN, SAN_REPORT, XVSD, run


def test_sigterm_to_process_exits_0(switch):
    switch.vm("a", ipv6=False)
    switch.vm("b", ipv6=False)
    x = switch.xvsd
    os.kill(x.pid, signal.SIGTERM)
    rc = x.proc.wait(10)
    x.exit_codes.append(rc)
    x.proc = None
    assert rc == 0, f"exit status {rc}"
    assert not x.sock.exists(), "control socket left behind"


def test_clean_stop_removes_socket_and_taps(switch):
    a = switch.vm("a", ipv6=False)
    switch.stop()
    assert not switch.xvsd.sock.exists()
    assert run(["ip", "netns", "exec", a.ns, "ip", "link", "show", a.ifname],
               check=False).returncode != 0, "tap outlived xvsd"


def test_clean_stop_leaves_no_runtime_directory(switch):
    pid = switch.xvsd.pid
    switch.stop()
    assert not (DPDK_RUN / f"xvs{pid}").exists()


def test_unusable_database_fails_start(switch_unstarted, tmp_path):
    (tmp_path / "notadb").write_bytes(b"this is not an SQLite database" * 100)
    p = subprocess.run(["ip", "netns", "exec", switch_unstarted.ns, str(XVSD), "--db",
                        str(tmp_path / "notadb"), "--socket", str(tmp_path / "y.sock"),
                        "--workers", "1"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p
    assert not SAN_REPORT.search(p.stderr), p.stderr
    assert not (tmp_path / "y.sock").exists()


def test_bad_options_exit_2(switch_unstarted, tmp_path):
    cases = [(["--workers", "0"], "--workers"), (["--workers", "-3"], "--workers"),
             (["--mem", "1"], "--mem"), (["--mbufs", "12x"], "--mbufs"), (["--bogus"], "usage"),
             (["stray"], "unexpected argument")]
    for extra, says in cases:
        p = subprocess.run(["ip", "netns", "exec", switch_unstarted.ns, str(XVSD),
                            "--db", str(tmp_path / "z.db"), "--socket", str(tmp_path / "z.sock"),
                            *extra], capture_output=True, text=True, timeout=10)
        assert p.returncode == 2, (extra, p)
        assert says in p.stderr, (extra, p.stderr)
        assert not SAN_REPORT.search(p.stderr), (extra, p.stderr)
    assert not (tmp_path / "z.db").exists()


def _thp_mode():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return f.read().split("[", 1)[1].split("]", 1)[0]
    except (OSError, IndexError):
        return "never"


def test_packet_buffers_on_transparent_huge_pages(switch):
    """Without hugepages the mbufs get a region of their own that asks for
    transparent huge pages (doc/architecture.md, "Packet buffers")."""
    if "no hugepages" not in switch.xvsd.log_text():
        pytest.skip("xvsd runs on hugepages here: the mbufs are in DPDK's heap")
    if _thp_mode() == "never":
        pytest.skip("transparent huge pages are off on this kernel")
    a = switch.vm("a", ipv6=False)
    b = switch.vm("b", ipv6=False)
    a.ping(b, count=3)
    log = switch.xvsd.log_text()
    m = re.search(r"packet buffers: (\d+) MB of anonymous memory", log)
    assert m, "no 'packet buffers' line in the log:\n" + switch.xvsd.log_tail()
    size_kb = int(m.group(1)) * 1024
    # the region: one mapping of that size, marked for huge pages (VmFlags hg),
    # and backed by some (here: all used) 2 MB pages
    maps, cur = [], None
    with open(f"/proc/{switch.xvsd.pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                cur = {"hdr": line}
                maps.append(cur)
            elif cur is not None and ":" in line:
                k, v = line.split(":", 1)
                cur[k] = v.strip()
    region = [mp for mp in maps if mp.get("Size") == f"{size_kb} kB"]
    assert region, f"no {size_kb} kB mapping in smaps"
    assert " hg" in " " + region[0].get("VmFlags", ""), region[0]
    huge_kb = int(region[0].get("AnonHugePages", "0 kB").split()[0])
    assert huge_kb >= 2048, f"no huge page backs the packet buffers: {region[0]}"
