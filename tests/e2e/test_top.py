# SPDX-License-Identifier: BSD-3-Clause
"""xvsctl top (live and --once) and xvsctl rss show/set, through the real client.

   xvsctl (root namespace)          pseudo-terminal (pty) for live top:
     |  tmp/x.sock                    the test holds the master end, reads the
   +-+--------------------------+     frames, sends SIGINT or types 'q'
   |  xvsd (ns xe<sfx>sw,       |
   |        1 worker)           |
   |  ports: n1, n2 (null)      |
   |  (rates: pcap src -> null) |
   +----------------------------+

No kernel device is created: null ports, and for the live rates a pcap port
read once into a null port. The rss tests that need the
daemon's rss.show/rss.set skip, with a reason, on an xvsd that lacks them.
"""
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import termios
import time

import pytest

from conftest import XVSCTL, scapy_or_skip, wait_for

# worker.stats fields of every xvsd, and those added with software RSS
BASE_FIELDS = {"worker": int, "lcore": int, "cpu": int, "active": bool, "busy_pct": float,
               "rx_pps": float, "rx_packets": int, "tx_packets": int, "loops": int,
               "wakeups": int, "queues": list}
RSS_FIELDS = {"switched_packets": int, "switched_pps": float, "rss_in": int, "rss_out": int,
              "rss_drops": int}

HEADER = re.compile(r"^\d\d:\d\d:\d\d  workers (\d+)/(\d+) active  switched \d+ pkt/s")
ROW = re.compile(r"^(\d+)\s+(\d+)  (\[[#.]{10}\]|\[ inactive \]|\[  parked  \])\s+(\d+\.\d)%\s")
CLEAR = b"\x1b[H\x1b[2J"


def _one_line_error(p, code=None):
    lines = p.stderr.splitlines()
    assert p.returncode != 0, f"accepted: {p.stdout!r}"
    if code is not None:
        assert p.returncode == code, (p.returncode, p.stderr)
    assert len(lines) == 1 and lines[0].startswith("xvsctl: "), p.stderr
    return lines[0]


def _setup(sw):
    sw.ctl("port", "add", "n1", "null")
    sw.ctl("port", "add", "n2", "null")


# ---------------------------------------------------------------- top --once

def test_top_once_json_is_worker_stats_plus_time(switch):
    _setup(switch)
    ws = switch.ctl("worker", "stats")["workers"]
    t0 = time.time()
    r = switch.ctl("top", "--once")
    assert set(r) == {"workers", "time"}
    assert isinstance(r["time"], int) and abs(r["time"] - t0) < 5, r["time"]
    assert [w["worker"] for w in r["workers"]] == [w["worker"] for w in ws]
    fields = dict(BASE_FIELDS)
    if "switched_packets" in ws[0]:
        fields.update(RSS_FIELDS)
    for w in r["workers"]:
        for k, t in fields.items():
            assert isinstance(w[k], t), f"worker {w['worker']}: {k}={w.get(k)!r} is not {t}"
        assert 0.0 <= w["busy_pct"] <= 100.0, w
        assert all(re.fullmatch(r"[\w.-]+/\d+", q) for q in w["queues"]), w["queues"]
    polled = sorted(q for w in r["workers"] for q in w["queues"])
    assert polled == ["n1/0", "n2/0"]


def test_top_once_json_option_before_command(switch):
    argv, p = switch.xvsd.ctl_proc("top", "--once", json_out=True)
    argv2, p2 = switch.xvsd.ctl_proc("top", "--once", "--json", json_out=False)
    assert p.returncode == 0 and p2.returncode == 0, (p.stderr, p2.stderr)
    assert len(json.loads(p.stdout)["workers"]) == len(json.loads(p2.stdout)["workers"])


def test_top_once_prints_header_and_one_row_per_worker(switch):
    _setup(switch)
    ws = switch.ctl("worker", "stats")["workers"]
    argv, p = switch.xvsd.ctl_proc("top", "--once", json_out=False)
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stdout, "--once must not control the screen"
    lines = p.stdout.splitlines()
    m = HEADER.match(lines[0])
    assert m, lines[0]
    assert int(m.group(2)) == len(ws)
    assert int(m.group(1)) == sum(w["active"] for w in ws)
    assert lines[1].split()[:3] == ["WORKER", "CPU", "BUSY"], lines[1]
    rows = lines[2:]
    assert len(rows) == len(ws), p.stdout
    for row, w in zip(rows, ws):
        m = ROW.match(row)
        assert m, row
        assert int(m.group(1)) == w["worker"] and int(m.group(2)) == w["cpu"]
        assert 0.0 <= float(m.group(4)) <= 100.0
        # not a terminal: the queue list is not cut; each queue with its busy %
        want = ",".join(re.escape(q) + r":\d+%" for q in w["queues"]) or "-"
        assert re.search("(" + want + ")$", row), row


@pytest.mark.parametrize("args", [("--json",), ("--interval", "2", "--json")],
                         ids=["json", "interval-json"])
def test_top_json_without_once_is_a_usage_error(switch, args):
    req0 = switch.show()["rpc_requests"]
    argv, p = switch.xvsd.ctl_proc("top", *args, json_out=False)
    line = _one_line_error(p, code=2)
    assert "--once" in line
    assert p.stdout == ""
    assert switch.show()["rpc_requests"] - req0 == 1  # only this switch.show


@pytest.mark.parametrize("value", ["0", "0.1", "60.5", "-1", "abc", "1s", "nan", "inf"])
def test_top_interval_out_of_range_is_a_usage_error(switch_unstarted, value):
    # refused before any connection: the daemon need not even run
    argv, p = switch_unstarted.xvsd.ctl_proc("top", "--interval", value, json_out=False)
    line = _one_line_error(p, code=2)
    assert "0.2 to 60" in line, line


@pytest.mark.parametrize("args", [("--interval",), ("--bogus",), ("extra",)])
def test_top_bad_arguments_are_usage_errors(switch_unstarted, args):
    argv, p = switch_unstarted.xvsd.ctl_proc("top", *args, json_out=False)
    _one_line_error(p, code=2)


def test_top_once_unreachable_daemon_is_exit_3(switch_unstarted):
    argv, p = switch_unstarted.xvsd.ctl_proc("top", "--once", json_out=False)
    assert "cannot reach" in _one_line_error(p, code=3)


# ---------------------------------------------------------------- live top in a pty

class PtyTop:
    """xvsctl top on a pseudo-terminal of 40 rows x 200 columns."""

    def __init__(self, sw, *args):
        argv = [str(XVSCTL), "--socket", str(sw.xvsd.sock), "top", *args]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child: stdin, stdout and stderr are the pty
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        self.out = b""
        self.chunks = []   # (monotonic time read, offset in out) of every read
        self.status = None

    def read_for(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if not r:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            self.chunks.append((time.monotonic(), len(self.out)))
            self.out += data

    def frames(self):
        return self.out.count(CLEAR)

    def timed_frames(self):
        """[(time the frame was read, its text)] of the complete frames (each
        followed by another), in order."""
        starts, off = [], self.out.find(CLEAR)
        while off >= 0:
            starts.append(off)
            off = self.out.find(CLEAR, off + 1)
        out = []
        for a, b in zip(starts, starts[1:]):
            t = max(t for t, o in self.chunks if o <= a)
            out.append((t, self.out[a + len(CLEAR):b].decode(errors="replace")))
        return out

    def lflag(self):
        return termios.tcgetattr(self.fd)[3]

    def wait(self, timeout=5.0):
        """Exit status, reading the rest of the output; kills the child after timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.read_for(0.1)
                self.status = os.waitstatus_to_exitcode(st)
                return self.status
            self.read_for(0.05)
        self.close()
        raise AssertionError(f"xvsctl top did not exit within {timeout}s; output: "
                             f"{self.out[-500:]!r}")

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.status = "killed"
        os.close(self.fd)

    def text(self):
        return self.out.decode(errors="replace")


@pytest.fixture
def pty_top(switch):
    tops = []

    def start(*args):
        t = PtyTop(switch, *args)
        tops.append(t)
        return t

    yield start
    for t in tops:
        t.close()


def _check_live_frames(t, n_workers):
    """Every frame: the header, the column titles and one row per worker."""
    text = t.text().replace("\r\n", "\n")
    frames = [f for f in text.split(CLEAR.decode())[1:] if f.strip()]
    assert len(frames) >= 2, f"{len(frames)} frames in 2.5 s: {text[-500:]!r}"
    for f in frames[:-1]:  # the last one may be cut by the signal
        lines = f.split("\n")
        assert HEADER.match(lines[0]) and "quits" in lines[0], lines[0]
        assert lines[1].startswith("WORKER"), lines[1]
        assert sum(1 for l in lines[2:] if ROW.match(l)) == n_workers, f


def test_top_live_redraws_and_exits_0_on_sigint(switch, pty_top):
    _setup(switch)
    n = len(switch.ctl("worker", "stats")["workers"])
    t = pty_top()
    t.read_for(2.5)
    assert t.lflag() & termios.ICANON == 0, "terminal not in non-canonical mode while live"
    os.kill(t.pid, signal.SIGINT)
    assert t.wait() == 0, t.out[-300:]
    _check_live_frames(t, n)
    # cursor shown again and the alternate screen left, after the last frame
    assert t.out.rstrip().endswith(b"\x1b[?25h\x1b[?1049l"), t.out[-100:]
    assert t.lflag() & termios.ICANON and t.lflag() & termios.ECHO, "terminal not restored"
    assert b"xvsctl:" not in t.out


def test_top_live_quits_on_q_and_sigterm(switch, pty_top):
    t = pty_top("--interval", "0.2")
    t.read_for(1.0)
    assert t.frames() >= 3, t.out[-300:]
    os.write(t.fd, b"q")
    assert t.wait() == 0
    assert t.lflag() & termios.ICANON, "terminal not restored after q"

    t = pty_top("--interval", "0.2")
    t.read_for(0.6)
    os.kill(t.pid, signal.SIGTERM)
    assert t.wait() == 0
    assert t.out.rstrip().endswith(b"\x1b[?25h\x1b[?1049l")


def _rate(v):
    """A rate column: "123", "4.56k", "7.89M"; "-" (unknown) is None."""
    if v == "-":
        return None
    m = re.fullmatch(r"([\d.]+)([kM]?)", v)
    assert m, f"not a rate: {v!r}"
    return float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6}[m.group(2)]


@pytest.mark.serial
def test_top_live_rates_come_from_counter_deltas(switch, pty_top, tmp_path):
    """Live top's packet rates are the worker counters' deltas over the time
    between two polls: N frames switched while top runs (a pcap port read
    once, into a null port) show up as rates whose sum, each times the time
    between its frame and the one before, is N, within 20 % (the frame times
    are taken where the test reads them, not where xvsctl polls)."""
    scapy_or_skip()
    from scapy.all import Ether, IP, UDP, wrpcap

    n = 3000
    sink = "02:00:00:00:99:99"
    wrpcap(str(tmp_path / "burst.pcap"),
           [Ether(src="02:00:00:00:aa:01", dst=sink) / IP(src="10.1.0.1", dst="10.2.0.1") /
            UDP(sport=1024 + i % 64, dport=4789) for i in range(n)])
    switch.ctl("port", "add", "sink", "null")
    switch.ctl("fdb", "add", sink, "vlan=1", "port=sink")
    t = pty_top("--interval", "1")
    deadline = time.monotonic() + 10
    while t.frames() < 3 and time.monotonic() < deadline:
        t.read_for(0.1)
    assert t.frames() >= 3, t.out[-300:]
    w0 = switch.ctl("worker", "stats")["workers"]
    switch.ctl("port", "add", "src", "pcap", f"path={tmp_path / 'burst.pcap'}")
    wait_for(lambda: sum(w["rx_packets"] for w in switch.ctl("worker", "stats")["workers"]) -
             sum(w["rx_packets"] for w in w0) >= n, 10, what="the capture switched")
    seen = t.frames()
    while t.frames() < seen + 3 and time.monotonic() < deadline + 20:
        t.read_for(0.1)
    os.kill(t.pid, signal.SIGINT)
    assert t.wait() == 0
    w1 = switch.ctl("worker", "stats")["workers"]
    for k in ("rx_packets", "switched_packets"):
        assert sum(w[k] for w in w1) - sum(w[k] for w in w0) == n, (k, w0, w1)

    frames = [(tm, [l for l in f.splitlines() if ROW.match(l)])
              for tm, f in t.timed_frames() if "WORKER" in f]
    assert len(frames) >= 5, frames
    # columns after the busy %: SWITCH/s RX/s RSS_IN/s RSS_OUT/s QUEUES
    total = {"switch": 0.0, "rx": 0.0}
    for (t_prev, _), (t_cur, rows) in zip(frames, frames[1:]):
        assert len(rows) == len(w1), rows
        for row in rows:
            sw_rate, rx_rate = (_rate(v) for v in row.split("%", 1)[1].split()[0:2])
            assert sw_rate is not None and rx_rate is not None, row
            total["switch"] += sw_rate * (t_cur - t_prev)
            total["rx"] += rx_rate * (t_cur - t_prev)
    for k, v in total.items():
        assert 0.8 * n <= v <= 1.2 * n, f"{k} rates x frame times add up to {v:.0f}, " \
                                        f"the counters grew by {n}"


def test_top_live_daemon_gone_is_one_line_and_exit_3(switch, pty_top):
    t = pty_top("--interval", "0.2")
    t.read_for(0.8)
    assert t.frames() >= 2
    switch.stop()
    assert t.wait() == 3, t.out[-300:]
    tail = t.out.rsplit(b"\x1b[?1049l", 1)[1].decode().strip().splitlines()
    assert len(tail) == 1 and tail[0].startswith("xvsctl: "), tail
    assert "xvsd" in tail[0]
    assert t.lflag() & termios.ICANON


# ---------------------------------------------------------------- rss

def test_rss_show_unknown_port_fails_with_one_line(switch):
    argv, p = switch.xvsd.ctl_proc("rss", "show", "nosuch", json_out=False)
    line = _one_line_error(p, code=1)
    assert p.stdout == ""
    assert "nosuch" in line or "rss.show" in line, line  # no port, or an older xvsd
    argv, p = switch.xvsd.ctl_proc("rss", "show", "nosuch")
    assert p.returncode == 1 and json.loads(p.stdout)["error"]["message"]


@pytest.mark.parametrize("args", [("rss", "set", "n1"), ("rss", "set", "n1", "profile"),
                                  ("rss", "set", "n1", "=static"),
                                  ("rss", "set", "n1", "profile=static", "profile=closest"),
                                  ("rss", "set"), ("rss", "show", "a", "b"), ("rss",)])
def test_rss_usage_errors_exit_2_and_send_nothing(switch_unstarted, args):
    # no daemon running: a usage error is refused before any connection (else exit 3)
    argv, p = switch_unstarted.xvsd.ctl_proc(*args, json_out=False)
    _one_line_error(p, code=2)


@pytest.fixture
def rss_switch(switch):
    methods = {m["method"] for m in switch.ctl("methods")["methods"]}
    if "rss.show" not in methods or "rss.set" not in methods:
        pytest.skip("this xvsd has no rss.show/rss.set yet (see `xvsctl methods`)")
    _setup(switch)
    return switch


RSS_FIELDS_SHOW = {"name": str, "enabled": bool, "profile": str, "base_cpu": str,
                   "max_cpu": str, "max_cpus": str, "queues": str, "reta_size": int,
                   "types": str, "key": str, "mode": str, "queues_max": int,
                   "queues_used": int, "workers": list, "workers_active": list,
                   "queue_workers": list, "reta": list, "packets_per_worker": list,
                   "handoff_drops": int}


def _check_rss_entry(e, n_workers):
    for k, t in RSS_FIELDS_SHOW.items():
        assert isinstance(e[k], t), f"{e['name']}: {k}={e.get(k)!r} is not {t}"
    assert re.fullmatch(r"[0-9a-f]{80}", e["key"]), e["key"]
    assert e["mode"] in ("off", "single", "hardware", "software", "down"), e["mode"]
    assert len(e["packets_per_worker"]) == n_workers
    assert set(e["workers_active"]) <= set(e["workers"])
    assert all(w in e["workers"] for w in e["reta"])
    assert len(e["reta"]) in (0, e["reta_size"])
    assert all(len(qw) == 2 for qw in e["queue_workers"])


def test_rss_show_json_and_table(rss_switch):
    sw = rss_switch
    n = len(sw.ctl("worker", "stats")["workers"])
    r = sw.ctl("rss", "show")
    assert [e["name"] for e in r["ports"]] == ["n1", "n2"]
    for e in r["ports"]:
        _check_rss_entry(e, n)
    assert [e["name"] for e in sw.ctl("rss", "show", "n2")["ports"]] == ["n2"]
    argv, p = sw.xvsd.ctl_proc("rss", "show", json_out=False)
    assert p.returncode == 0, p.stderr
    blocks = p.stdout.strip().split("\n\n")
    assert len(blocks) == 2, p.stdout
    for b, e in zip(blocks, r["ports"]):
        lines = b.splitlines()
        assert lines[0].startswith(f"port {e['name']}: rss {'on' if e['enabled'] else 'off'}, "
                                   f"profile {e['profile']}, mode {e['mode']}"), lines[0]
        assert f"reta {e['reta_size']}" in lines[1] and f"types {e['types']}" in lines[1]
        assert lines[2] == f"  key {e['key']}"
        assert lines[3].startswith("  queue->worker:")
        assert lines[4].startswith("  reta:")
        assert lines[5].startswith("  packets by worker:") and "hand-off drops" in lines[5]


SETTINGS = ("enabled", "profile", "base_cpu", "max_cpu", "max_cpus", "queues", "reta_size",
            "types", "key")


def _settings(sw):
    return {e["name"]: {k: e[k] for k in SETTINGS} for e in sw.ctl("rss", "show")["ports"]}


def test_rss_set_changes_and_prints_the_port(rss_switch):
    sw = rss_switch
    argv, p = sw.xvsd.ctl_proc("rss", "set", "n1", "profile=static", "max-cpus=1",
                               json_out=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("port n1: rss on, profile static"), p.stdout
    assert "max-cpus 1" in p.stdout
    e = sw.ctl("rss", "set", "n1", "enabled=off")
    assert e["name"] == "n1" and e["enabled"] is False and e["profile"] == "static"
    assert e["max_cpus"] == "1"
    assert sw.ctl("rss", "show", "n1")["ports"][0]["enabled"] is False
    before = _settings(sw)
    for args in (("reta-size", "3"), ("profile", "bogus"), ("bogus", "1"), ("key", "00")):
        argv, p = sw.xvsd.ctl_proc("rss", "set", "n1", "=".join(args), json_out=False)
        _one_line_error(p, code=1)
        assert p.stdout == ""
    argv, p = sw.xvsd.ctl_proc("rss", "set", "nosuch", "profile=static", json_out=False)
    assert "nosuch" in _one_line_error(p, code=1)
    assert _settings(sw) == before, "a refused rss set changed something"


def test_help_lists_the_new_commands(switch_unstarted):
    argv, p = switch_unstarted.xvsd.ctl_proc("--help", json_out=False)
    assert p.returncode == 0
    for words in ("top [--once] [--interval SECONDS]", "rss show [NAME]",
                  "rss set NAME key=value"):
        assert words in p.stdout, words
