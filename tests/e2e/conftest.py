# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures of the xvs end-to-end tests.

Every test gets its own 4-hex suffix; each namespace and kernel device it
creates is named xe<suffix><role> (at most 15 characters), so a leftover is
easy to attribute and to detect. The `switch` fixture:

  * creates the switch namespace xe<sfx>sw and runs xvsd inside it
    (--workers 1, --db and --socket in tmp_path) and waits for its socket;
  * offers helpers for "VMs" (a tap port whose kernel side xvsd moves into a
    namespace of its own, with IPv4/IPv6 addresses and a fixed MAC) and
    "uplinks" (a veth pair: one end in the switch namespace attached as an
    afpacket port, the other in a "physical network" namespace);
  * at teardown, whatever happened: checks rx == forwarded + flooded + ingress
    drops and egress conservation (egress_errors) on every port, stops the
    helper processes, stops xvsd with SIGTERM and requires exit status 0, deletes every namespace it created, fails on
    WARNING/ERR lines in the daemon log that the test did not declare with
    switch.expect_log(), and fails if a device, namespace or process carrying
    the suffix is left behind.

Nothing is ever created in the root namespace: veth pairs are created
directly inside their namespaces (`ip link add ... netns A type veth peer ...
netns B`).
"""
import ctypes
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent
REPO = E2E_DIR.parents[1]
BUILD = Path(os.environ.get("XVS_BUILD", REPO / "build")).resolve()
XVSD = BUILD / "src" / "ctl" / "xvsd"
XVSCTL = BUILD / "cli" / "xvsctl"


def _sanitized_build(build):
    """Was BUILD configured with -Db_sanitize (scripts/test.sh's build-san)?
    Tests that repeat one thing many times do fewer rounds there: the
    sanitizers look for memory errors, which the first rounds already show."""
    try:
        opts = json.loads((build / "meson-info" / "intro-buildoptions.json").read_text())
    except (OSError, ValueError):
        return False
    return any(o.get("name") == "b_sanitize" and o.get("value") not in ("none", "", None)
               for o in opts)


SANITIZED = _sanitized_build(BUILD)
AGENT = E2E_DIR / "nsagent.py"
PYTHON = sys.executable
DPDK_RUN = Path("/var/run/dpdk")

# xvsd log lines: "<HH:MM:SS.mmm> <LEVEL> <module>: <message>" (src/ctl/log.c).
# DPDK's own library messages have no such prefix and are not judged here.
LOG_BAD = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} (ERR|WARNING) .*$", re.M)

# Drop reasons counted on the ingress port (src/dp/stage_l2.c; bad_offload and
# bad_l3_len in src/dp/ports/tap.c), and those counted
# on the egress port. A reason in neither list fails the conservation check, so
# a new counter gets classified here rather than silently ignored.
INGRESS_DROPS = (
    "runt", "truncated_vlan", "stacked_vlan", "bad_vid", "bad_src_mac", "oversize",
    "bad_offload", "bad_l3_len", "vlan_tagged_on_access", "vlan_not_allowed", "vlan_untagged",
    "rss_ring_full", "same_port", "no_dest", "policy", "mac_control",
)
EGRESS_DROPS = ("copy_failed", "tx_full", "port_down", "tx_error", "offload_failed",
                "tx_oversize", "tx_policy", "qos_queue_full", "qos_flushed")
# Egress drops of frames that reached the port's transmit path (egress_packets);
# copy_failed and tx_oversize frames never got there (doc/l2.md, "Conservation").
EGRESS_TX_DROPS = ("tx_full", "port_down", "tx_error", "offload_failed", "tx_policy",
                   "qos_queue_full", "qos_flushed")

# Sanitizer runtime options for a build with -Db_sanitize=address,undefined
# (tests/e2e/README.md, "Sanitizers"); an uninstrumented build ignores them. Address and
# leak reports go to files in a per-test directory (log_path, one file per
# process), which the autouse fixture `sanitizer_reports` turns into a test
# failure whoever wrote them: xvsd, any xvsctl (also test_top.py's on a pty),
# test_lifecycle.py's own xvsd runs. UBSan (GCC's libubsan) ignores log_path
# and prints on stderr: halt_on_error makes the process exit non-zero, and
# xvsd's log (its stderr) and xvsctl's stderr are searched for SAN_REPORT.
# Leak reports are on; the only suppressions are for allocations inside DPDK
# (lsan.supp). A variable the user sets replaces the default; log_path is
# always added.
SAN_DEFAULTS = {
    "ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:"
                    "strict_string_checks=1:check_initialization_order=1:strict_init_order=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
    "LSAN_OPTIONS": f"suppressions={E2E_DIR / 'lsan.supp'}:print_suppressions=0",
}
SAN_REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
                        r"SUMMARY: \w+Sanitizer")

SUBNET4 = "10.77.0."
SUBNET6 = "fd77::"


# ---------------------------------------------------------------- helpers

def run(argv, check=True, timeout=20, **kw):
    """Run a command, capture its output as text; raise with both streams on failure."""
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"command failed ({p.returncode}): {' '.join(map(str, argv))}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def nsrun(ns, argv, **kw):
    return run(["ip", "netns", "exec", ns, *argv], **kw)


def wait_for(fn, timeout, interval=0.05, what="condition"):
    """Poll fn() until it returns a true value; return it, or fail after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


_TGKILL = {"x86_64": 234, "aarch64": 131}.get(platform.machine())
_libc = ctypes.CDLL(None, use_errno=True)


def signal_main_thread(pid, sig):
    """Send sig to the main thread of pid only (tgkill).

    xvsd blocks SIGTERM in its control thread and reads it from a signalfd, but
    the threads DPDK creates do not block it, so a process-directed SIGTERM
    (kill(1), systemd) may land in one of them and kill the daemon without a
    clean shutdown (test_lifecycle.py::test_sigterm_process_directed_exits_0
    covers that). The fixture aims the signal at the thread that handles it,
    so every other test still checks the clean shutdown path and exit status."""
    if _TGKILL is None:
        os.kill(pid, sig)
        return
    if _libc.syscall(_TGKILL, pid, pid, int(sig)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def scapy_or_skip():
    try:
        import scapy.layers.l2  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the host
        pytest.skip(f"scapy is not installed ({e}); apt install python3-scapy")


def need_tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def iperf3_received(switch, client, server, secs=2):
    """Bytes an iperf3 TCP stream from Host client to Host server delivered in secs
    (skip without iperf3; fail if the run fails)."""
    need_tool("iperf3")
    srv = switch.spawn(server.ns, ["iperf3", "-s", "-1"])
    time.sleep(0.5)
    r = client.run(["iperf3", "-c", server.ip4, "-t", str(secs), "-J"], check=False,
                   timeout=secs + 30)
    srv.wait(10)
    assert r.returncode == 0, r.stdout[-1500:] + r.stderr
    return json.loads(r.stdout)["end"]["sum_received"]["bytes"]


def frame_hex(f):
    return bytes(f).hex()


def mac_str(b):
    return ":".join(f"{x:02x}" for x in b)


def agent_send(ns, iface, frames, gap=0.0, allow_errors=False):
    """Send frames (scapy packets or bytes) as they are on iface in ns (nsagent.py send)."""
    hexes = [f.hex() if isinstance(f, (bytes, bytearray)) else frame_hex(f) for f in frames]
    argv = ["ip", "netns", "exec", ns, PYTHON, str(AGENT), "send", iface]
    if gap:
        argv += ["--gap", str(gap)]
    p = subprocess.run(argv, input=json.dumps(hexes), capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, f"nsagent send failed: {p.stderr}"
    rep = json.loads(p.stdout)
    if not allow_errors:
        assert not rep["errors"], f"kernel refused frames: {rep['errors']}"
    return rep


class CtlError(AssertionError):
    def __init__(self, argv, proc):
        self.proc = proc
        super().__init__(f"xvsctl failed ({proc.returncode}): {' '.join(map(str, argv))}\n"
                         f"stdout: {proc.stdout}\nstderr: {proc.stderr}")


# ---------------------------------------------------------------- xvsd process

class Xvsd:
    """One xvsd configuration (db + socket) in one namespace; may be started many times."""

    def __init__(self, ns, db, sock, log, extra=()):
        self.ns, self.db, self.sock, self.log = ns, Path(db), Path(sock), Path(log)
        self.extra = list(extra)
        self.proc = None
        self.pids = []          # every pid this object started, for clean-up checks
        self.exit_codes = []
        self.san_reports = []   # sanitizer reports xvsctl printed (see SAN_REPORT)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=20):
        assert not self.running(), "xvsd already running"
        with open(self.log, "a") as f:
            f.write(f"#### e2e: starting xvsd at {time.strftime('%H:%M:%S')}\n")
        logf = open(self.log, "a")
        argv = ["ip", "netns", "exec", self.ns, str(XVSD), "--db", str(self.db),
                "--socket", str(self.sock), "--workers", "1", *self.extra]
        self.proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        logf.close()
        self.pids.append(self.proc.pid)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                raise AssertionError(f"xvsd exited with {rc} during start-up:\n"
                                     + self.log_tail())
            if self.sock.exists():
                try:
                    r = self.rpc({"method": "help"}, timeout=2)
                    if "result" in r:
                        return
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise AssertionError("xvsd did not answer on its socket in time:\n"
                                     + self.log_tail())
            time.sleep(0.05)

    def stop(self, timeout=15):
        """SIGTERM (to the signal-handling thread); return the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            signal_main_thread(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.exit_codes.append("hung")
                self.proc = None
                raise AssertionError(f"xvsd did not exit within {timeout}s of SIGTERM")
        rc = self.proc.returncode
        self.exit_codes.append(rc)
        self.proc = None
        return rc

    def kill9(self):
        assert self.running()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.exit_codes.append(self.proc.returncode)
        self.proc = None

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    # -- control

    def rpc(self, req, timeout=5, raw=None):
        """One request on the control socket; req is a dict (sent as a JSON line) or raw bytes."""
        data = raw if raw is not None else (json.dumps(req) + "\n").encode()
        buf = self.rpc_bytes(data, timeout)
        return json.loads(buf) if buf.strip() else None

    def rpc_bytes(self, data, timeout=5):
        """Send data as is on a fresh connection; return every byte of the answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.sock))
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the daemon may answer and close before reading everything
            buf = b""
            while True:
                try:
                    k = s.recv(65536)
                except ConnectionResetError:
                    break
                if not k:
                    break
                buf += k
        return buf

    def ctl_proc(self, *args, json_out=True, timeout=15):
        argv = [str(XVSCTL), "--socket", str(self.sock)] + (["--json"] if json_out else [])
        argv += [str(a) for a in args]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if SAN_REPORT.search(p.stderr):
            self.san_reports.append(f"xvsctl {' '.join(argv[3:])}:\n{p.stderr[-4000:]}")
        return argv, p

    def ctl(self, *args, timeout=15):
        """xvsctl --json ARGS; the parsed result, or CtlError."""
        argv, p = self.ctl_proc(*args, timeout=timeout)
        if p.returncode != 0:
            raise CtlError(argv, p)
        return json.loads(p.stdout)


# ---------------------------------------------------------------- test objects

class Names:
    def __init__(self, sfx):
        self.sfx = sfx

    def ns(self, role):
        n = f"xe{self.sfx}{role}"
        assert len(n) <= 15, n
        return n

    def dev(self, role):
        n = f"xe{self.sfx}{role}"
        assert len(n) <= 15, f"interface name too long: {n}"
        return n

    def mac(self, idx):
        return f"02:{self.sfx[:2]}:{self.sfx[2:]}:00:00:{idx:02x}"


class Sniffer:
    """nsagent.py sniff in a namespace: started and READY on creation; stop() returns frames."""

    def __init__(self, sw, ns, iface, seconds=10.0, src=(), dst=(), count=None):
        argv = [PYTHON, str(AGENT), "sniff", iface, "--seconds", str(seconds)]
        for m in src:
            argv += ["--src", m]
        for m in dst:
            argv += ["--dst", m]
        if count:
            argv += ["--count", str(count)]
        self.p = sw.spawn(ns, argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
        r, _, _ = select.select([self.p.stdout], [], [], 10)
        line = self.p.stdout.readline() if r else ""
        if line.strip() != "READY":
            self.p.kill()
            err = self.p.stderr.read()
            raise AssertionError(f"sniffer on {ns}/{iface} did not start: {line!r} {err}")
        self.frames = None

    def stop(self, grace=0.4):
        """Wait grace s for frames in flight, stop, return the captured frames (bytes)."""
        if self.frames is not None:
            return self.frames
        time.sleep(grace)
        try:
            self.p.stdin.write("stop\n")
            self.p.stdin.flush()
        except BrokenPipeError:
            pass
        out, err = self.p.communicate(timeout=10)
        if self.p.returncode != 0:
            raise AssertionError(f"sniffer failed: {err}")
        self.frames = [bytes.fromhex(h) for h in json.loads(out.strip().splitlines()[-1])]
        return self.frames


class Host:
    """Something with a kernel interface in its own namespace: a VM (tap) or an uplink peer."""

    def __init__(self, sw, port, ns, ifname, mac, idx, ipv6):
        self.sw, self.port, self.ns, self.ifname, self.mac = sw, port, ns, ifname, mac
        self.idx = idx
        self.ip4 = f"{SUBNET4}{idx}"
        self.ip6 = f"{SUBNET6}{idx}" if ipv6 else None
        self.ipv6 = ipv6
        self.kind = "tap"        # "tap" (a VM) or "veth" (an uplink's host end)
        self.sw_ifname = None    # uplinks: the veth end in the switch namespace

    def configure(self):
        """(Re)apply addresses: needed again after xvsd re-creates a tap on restart."""
        nsrun(self.ns, ["ip", "link", "set", "dev", self.ifname, "up"])
        nsrun(self.ns, ["ip", "addr", "replace", f"{self.ip4}/24", "dev", self.ifname])
        if self.ipv6:
            nsrun(self.ns, ["ip", "-6", "addr", "replace", f"{self.ip6}/64", "dev",
                            self.ifname, "nodad"])

    def run(self, argv, **kw):
        return nsrun(self.ns, argv, **kw)

    def ping(self, dst, count=3, interval=0.2, v6=False, deadline=None, check=True):
        target = dst.ip6 if (v6 and isinstance(dst, Host)) else (
            dst.ip4 if isinstance(dst, Host) else dst)
        argv = ["ping", "-q", "-n", "-c", str(count), "-i", str(interval), "-W", "1"]
        if v6:
            argv.insert(1, "-6")
        if deadline:
            argv += ["-w", str(deadline)]
        return self.run(argv + [target], check=check, timeout=count * interval + 15)

    def sniff(self, **kw):
        return Sniffer(self.sw, self.ns, self.ifname, **kw)

    def send(self, frames, gap=0.0, allow_errors=False):
        """Send frames (scapy packets or bytes) from this host's interface; returns the
        agent's report {"sent": N, "errors": [...]}."""
        return agent_send(self.ns, self.ifname, frames, gap, allow_errors)

    def neigh(self, ip):
        """lladdr of ip in this host's neighbour table, or None."""
        out = self.run(["ip", "-j", "neigh", "show", "to", ip, "dev", self.ifname]).stdout
        for e in json.loads(out or "[]"):
            if e.get("lladdr"):
                return e["lladdr"]
        return None


class Switch:
    def __init__(self, names, tmp_path):
        self.names = names
        self.tmp = tmp_path
        self.ns = names.ns("sw")
        self.namespaces = []
        self.procs = []
        self.dpdk_prefixes = []
        self.allowed_log = []
        self.hosts = {}
        self.next_idx = 1
        self.check_conservation_at_teardown = True
        self.san_dir = None     # sanitizer log_path directory of the test
        sock = tmp_path / "x.sock"
        assert len(str(sock)) < 100, f"socket path too long: {sock}"
        self.xvsd = Xvsd(self.ns, tmp_path / "x.db", sock, tmp_path / "xvsd.log")

    def setup(self):
        """Side effects live here, not in __init__, so teardown() covers them all."""
        self.add_ns("sw")
        # The switch namespace's own kernel must not talk on the uplink veths:
        # AF_PACKET ports also see frames the kernel sends on their netdev
        # (test_ports.py::test_afpacket_port_ignores_frames_the_host_sends).
        self._quiet_ns(self.ns, ipv6=False)

    # -- lifecycle

    def start(self):
        self.xvsd.start()

    def stop(self):
        rc = self.xvsd.stop()
        assert rc == 0, f"xvsd exited with status {rc} after SIGTERM\n{self.xvsd.log_tail()}"

    def restart(self):
        """Clean restart with the same --db and --socket; re-address the VMs' new taps."""
        self.stop()
        self.start()
        self.reconfigure_hosts()

    def kill9(self):
        self.xvsd.kill9()

    def reconfigure_hosts(self):
        for h in self.hosts.values():
            if h.kind == "tap":
                wait_for(lambda: run(["ip", "netns", "exec", h.ns, "ip", "link", "show",
                                      h.ifname], check=False).returncode == 0,
                         10, what=f"tap {h.ifname} back in {h.ns}")
                h.configure()

    # -- control shortcuts

    def ctl(self, *args, **kw):
        return self.xvsd.ctl(*args, **kw)

    def rpc(self, req, **kw):
        return self.xvsd.rpc(req, **kw)

    def stats(self, port=None):
        r = self.ctl("port", "stats", *([port] if port else []))
        by = {p["name"]: p for p in r["ports"]}
        return by[port] if port else by

    def ports(self):
        return {p["name"]: p for p in self.ctl("port", "list")["ports"]}

    def fdb(self, **filt):
        return self.ctl("fdb", "show", *[f"{k}={v}" for k, v in filt.items()])

    def fdb_entry(self, mac, vlan=None):
        for e in self.fdb()["entries"]:
            if e["mac"] == mac.lower() and (vlan is None or e["vlan"] == vlan):
                return e
        return None

    def show(self):
        return self.ctl("switch", "show")

    def expect_log(self, pattern):
        """Declare a WARNING/ERR log line (regex, searched) this test provokes on purpose."""
        self.allowed_log.append(re.compile(pattern))

    # -- namespaces, processes

    def add_ns(self, role):
        ns = self.names.ns(role)
        run(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        nsrun(ns, ["ip", "link", "set", "lo", "up"])
        return ns

    def spawn(self, ns, argv, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        p = subprocess.Popen(["ip", "netns", "exec", ns, *map(str, argv)], **kw)
        self.procs.append(p)
        return p

    def _new_idx(self):
        i = self.next_idx
        self.next_idx += 1
        return i

    def _quiet_ns(self, ns, ipv6):
        """sysctls for links that will appear in ns: no DAD or router solicitations
        (or no IPv6 at all), so the kernel adds no traffic the test did not ask for."""
        if ipv6:
            keys = ["net.ipv6.conf.default.accept_dad=0",
                    "net.ipv6.conf.default.router_solicitations=0",
                    "net.ipv6.conf.default.accept_ra=0"]
        else:
            keys = ["net.ipv6.conf.default.disable_ipv6=1", "net.ipv6.conf.all.disable_ipv6=1"]
        nsrun(ns, ["sysctl", "-q", "-w", *keys])

    # -- topology helpers

    def vm(self, role, *, vlan=None, ipv6=True, port=None, opts=(), mac=None, mac_spoof="off"):
        """A VM: tap port `port` (default role) whose kernel side xvsd creates and moves
        into namespace xe<sfx><role>, with a fixed MAC and 10.77.0.N/24 (+ fd77::N/64).
        The suite's VMs send from any source MAC they like (FDB, VLAN, malformed
        frames), so MAC spoofing protection, on by default for a tap with a MAC, is
        off unless a test asks: mac_spoof="on", or None for xvsd's default."""
        ns = self.add_ns(role)
        self._quiet_ns(ns, ipv6)
        idx = self._new_idx()
        h = Host(self, port or role, ns, self.names.dev(role), mac or self.names.mac(idx), idx,
                 ipv6)
        o = [f"ifname={h.ifname}", f"netns={ns}"]
        if not any(str(x).startswith("mac=") for x in opts):
            o.append(f"mac={h.mac}")
        if vlan is not None:
            o.append(f"vlan={vlan}")
        if mac_spoof is not None:
            o.append(f"mac-spoof={mac_spoof}")
        self.ctl("port", "add", h.port, "tap", *o, *opts)
        if f"mac={h.mac}" not in o:     # e.g. mac=sticky: the kernel picked one
            link = json.loads(nsrun(ns, ["ip", "-j", "link", "show", h.ifname]).stdout)
            h.mac = link[0]["address"]
        h.configure()
        self.hosts[h.port] = h
        return h

    def uplink(self, role, *, ipv6=True, port=None, opts=(), add_port=True):
        """An uplink: veth xe<sfx><role>s (switch namespace, afpacket port) <->
        xe<sfx><role> in the 'physical network' namespace xe<sfx><role>, which gets
        10.77.0.N. TX checksum offload is off on the host end: AF_PACKET hands the
        switch frames with partial checksums otherwise."""
        ns = self.add_ns(role)
        self._quiet_ns(ns, ipv6)
        idx = self._new_idx()
        swdev = self.names.dev(role + "s")
        h = Host(self, port or role, ns, self.names.dev(role), self.names.mac(idx), idx, ipv6)
        h.kind = "veth"
        h.sw_ifname = swdev
        run(["ip", "link", "add", "name", swdev, "netns", self.ns, "type", "veth",
             "peer", "name", h.ifname, "address", h.mac, "netns", ns])
        nsrun(self.ns, ["ip", "link", "set", swdev, "up"])
        nsrun(ns, ["ethtool", "-K", h.ifname, "tx", "off"])
        h.configure()
        if add_port:
            self.ctl("port", "add", h.port, "afpacket", f"ifname={swdev}", *opts)
        self.hosts[h.port] = h
        return h

    # -- checks

    def conservation_errors(self):
        errs = []
        for name, s in self.stats().items():
            unknown = set(s["drops"]) - set(INGRESS_DROPS) - set(EGRESS_DROPS)
            if unknown:
                errs.append(f"port {name}: drop reasons {sorted(unknown)} are neither ingress nor "
                            "egress in conftest.py: classify them")
            ingress = sum(s["drops"][k] for k in INGRESS_DROPS)
            if s["rx_packets"] != s["forwarded"] + s["flooded"] + ingress:
                errs.append(f"port {name}: rx_packets {s['rx_packets']} != forwarded "
                            f"{s['forwarded']} + flooded {s['flooded']} + ingress drops "
                            f"{ingress} ({s['drops']})")
            errs += egress_errors(name, s)
        return errs

    def assert_conservation(self, tries=5):
        errs = []
        for _ in range(tries):
            errs = self.conservation_errors()
            if not errs:
                return
            time.sleep(0.2)  # a burst may be between its two passes
        raise AssertionError("counter conservation violated:\n" + "\n".join(errs))

    def teardown(self):
        errors = []
        x = self.xvsd
        if x.proc is not None and x.proc.poll() is not None:
            errors.append(f"xvsd died during the test with status {x.proc.returncode}:\n"
                          + x.log_tail())
            x.exit_codes.append(x.proc.returncode)
            x.proc = None
        if self.xvsd.running() and self.check_conservation_at_teardown:
            try:
                self.assert_conservation()
            except Exception as e:  # noqa: BLE001 - collect, keep tearing down
                errors.append(str(e))
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.xvsd.running():
            try:
                rc = self.xvsd.stop()
                if rc != 0:
                    errors.append(f"xvsd exited with status {rc} after SIGTERM")
            except Exception as e:  # noqa: BLE001
                errors.append(str(e))
        # Known leftover of xvsd: DPDK's runtime directory (telemetry socket dir) stays
        # in /var/run/dpdk after exit; test_lifecycle.py reports it, here we clean up.
        for pid in self.xvsd.pids:
            shutil.rmtree(DPDK_RUN / f"xvs{pid}", ignore_errors=True)
        for prefix in self.dpdk_prefixes:
            shutil.rmtree(DPDK_RUN / prefix, ignore_errors=True)
        for ns in reversed(self.namespaces):
            r = run(["ip", "netns", "del", ns], check=False)
            if r.returncode != 0 and "No such file" not in r.stderr:
                errors.append(f"cannot delete namespace {ns}: {r.stderr.strip()}")
        bad = [m.group(0) for m in LOG_BAD.finditer(self.xvsd.log_text())
               if not any(a.search(m.group(0)) for a in self.allowed_log)]
        if bad:
            errors.append("unexpected WARNING/ERR lines in the xvsd log:\n  " + "\n  ".join(bad))
        if SAN_REPORT.search(self.xvsd.log_text()):
            errors.append("sanitizer report in the xvsd log:\n" + self.xvsd.log_tail(80))
        errors += [f"sanitizer report from {r}" for r in self.xvsd.san_reports]
        # also here, not only in the sanitizer_reports fixture: pytest shows only
        # the first teardown error, and a report explains a bad exit status
        errors += san_report_files(self.san_dir)
        errors += leftovers(self.names.sfx, str(self.tmp))
        return errors


def egress_errors(name, s):
    """Egress conservation of one port's stats (doc/l2.md): every frame handed
    to its transmit path (plus the segments GSO made of them) was sent,
    dropped with an egress reason, or waits in its tx hand-off ring."""
    into = s["egress_packets"] + s["tx_gso_segments"]
    dropped = sum(s["drops"][k] for k in EGRESS_TX_DROPS)
    if into != s["tx_packets"] + dropped + s["tx_queued"]:
        return [f"port {name}: egress_packets {s['egress_packets']} + tx_gso_segments "
                f"{s['tx_gso_segments']} != tx_packets {s['tx_packets']} + egress drops "
                f"{dropped} + tx_queued {s['tx_queued']} ({s['drops']})"]
    return []


def leftovers(sfx, tmpdir, timeout=5.0):
    """Namespaces, root-namespace links and processes that still carry the suffix
    (or, for processes, refer to the test's temporary directory)."""
    tag = f"xe{sfx}"
    deadline = time.monotonic() + timeout
    while True:
        found = []
        nss = run(["ip", "netns", "list"]).stdout
        found += [f"namespace {l.split()[0]}" for l in nss.splitlines() if tag in l]
        links = run(["ip", "-o", "link", "show"]).stdout
        found += [f"root-namespace link {l.split(':')[1].strip()}" for l in links.splitlines()
                  if tag in l]
        for d in Path("/proc").iterdir():
            if not d.name.isdigit() or int(d.name) == os.getpid():
                continue
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if tag in cmd or tmpdir in cmd:
                found.append(f"process {d.name}: {cmd.strip()}")
        if not found or time.monotonic() > deadline:
            return [f"left behind: {f}" for f in found]
        time.sleep(0.2)  # namespace teardown in the kernel is asynchronous


# ---------------------------------------------------------------- fixtures

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "xvsd_expect_log(*regex): WARNING/ERR xvsd log lines the test provokes "
        "on purpose (same as calling switch.expect_log)")
    config.addinivalue_line(
        "markers", "serial: a timing check (rates, loss, CPU use, timers) or a test that loads "
        "a CPU for long: scripts/test.sh runs these alone, after the rest ran two at a time")


def san_report_files(d):
    """The sanitizer reports written under log_path directory d, one text per file."""
    reports = []
    for f in sorted(d.iterdir()) if d is not None else []:
        text = f.read_text(errors="replace")
        if text.strip():
            reports.append(f"--- {f.name}\n{text[-6000:]}")
    return reports


@pytest.fixture(autouse=True)
def sanitizer_reports(tmp_path_factory):
    """Point the sanitizers' log_path at a fresh directory for this test; fail the
    test if any process wrote a report there. (UBSan's, on stderr, are found by
    Switch.teardown and test_lifecycle.py.)"""
    d = tmp_path_factory.mktemp("san")
    saved = {k: os.environ.get(k) for k in SAN_DEFAULTS}
    for k, v in SAN_DEFAULTS.items():
        base = saved[k] if saved[k] is not None else v
        os.environ[k] = f"{base}:log_path={d}/report"
    try:
        yield d
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    reports = san_report_files(d)
    if reports:
        pytest.fail("sanitizer reports:\n" + "\n".join(reports), pytrace=False)


@pytest.fixture(scope="session")
def build_dir():
    if os.geteuid() != 0:
        pytest.skip("the e2e tests need root (namespaces, taps, DPDK)")
    for b in (XVSD, XVSCTL):
        if not os.access(b, os.X_OK):
            pytest.fail(f"{b} is not built: run `ninja -C {BUILD}` or set XVS_BUILD")
    return BUILD


@pytest.fixture
def names():
    # A suffix unused by any namespace or link; random so reruns never collide.
    for _ in range(100):
        sfx = os.urandom(2).hex()
        tag = f"xe{sfx}"
        if tag not in run(["ip", "netns", "list"]).stdout and \
                tag not in run(["ip", "-o", "link"]).stdout:
            return Names(sfx)
    raise AssertionError("no free suffix")


@pytest.fixture
def switch_unstarted(build_dir, names, tmp_path, request, sanitizer_reports):
    """Switch namespace and xvsd configuration, not started yet (for tests that
    prepare the database or start options first). Same teardown as `switch`."""
    sw = Switch(names, tmp_path)
    sw.san_dir = sanitizer_reports
    for m in request.node.iter_markers("xvsd_expect_log"):
        for pattern in m.args:
            sw.expect_log(pattern)
    try:
        sw.setup()
        yield sw
    finally:
        errors = sw.teardown()
        if errors:
            pytest.fail("switch teardown:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def switch(switch_unstarted):
    switch_unstarted.start()
    return switch_unstarted
