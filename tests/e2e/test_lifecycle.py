# SPDX-License-Identifier: BSD-3-Clause
"""Daemon life cycle: how xvsd stops and what it leaves behind.

   ns a [a] --tap--+
                   |   xvsd (ns xe<sfx>sw), started and stopped by the test
   ns b [b] --tap--+   signals: kill(2) to the process, as systemd and kill(1) do
"""
import os
import signal
import subprocess

import pytest

from conftest import DPDK_RUN, XVSD, run


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
    assert not (tmp_path / "z.db").exists()
