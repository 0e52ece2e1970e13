# SPDX-License-Identifier: BSD-3-Clause
"""Real Linux guests on vhost-user: two QEMU VMs (TCG, 1 vCPU, 256 MB, a Debian
cloud kernel and a busybox initramfs from guest_image.py), attached the way
libvirt attaches them: xvsd owns the sockets (server, the default), QEMU is the
client with reconnect=1.

   QEMU a: virtio-net-pci 10.77.0.1        QEMU b: virtio-net-pci 10.77.0.2
     (pings b, then iperf3 -c b)              (iperf3 -s -1)
              | vhost-user vm1                     | vhost-user vm2
  +-----------+------------------------------------+------+
  |                   xvsd (ns xe<sfx>sw)                   |
  +---------------------------------------------------------+

The guests' virtio_net keeps its offloads on (csum, TSO, GRO): a's kernel sends
TCP in TSO frames of up to 64 KB, which must cross xvs whole (counted as one
frame, larger than the MTU, at vm1 rx and vm2 tx; no software segmentation
towards b, whose driver took guest_tso4 and mergeable rx buffers). Under TCG the
guests are slow (tens to hundreds of Mbit/s); the test checks the path and the
counters, not a rate. Then xvsd is killed (-9) and started again, as after a
crash: QEMU connects again by itself (reconnect=1) and traffic resumes, which
virtio-user as a client (test_vhost.py) does not do.
"""
import base64
import ctypes
import json
import re
import signal
import subprocess
import time

import pytest

from conftest import need_tool, wait_for
import guest_image

MTU = 1500
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG; survives ip netns exec's exec


def _image():
    need_tool("qemu-system-x86_64")
    try:
        return guest_image.build()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"no guest image: {e}")


class Vm:
    def __init__(self, switch, role, idx, vsock, ip, cmd, offload=True):
        kernel, initrd = _image()
        self.sw, self.role = switch, role
        self.serial = switch.tmp / f"serial-{role}.log"
        self.log = switch.tmp / f"qemu-{role}.log"
        self.serial.write_text("")
        self.mac = switch.names.mac(idx)
        argv = guest_image.qemu_argv(kernel, initrd, guest_image.cmdline(ip, cmd, offload),
                                     vsock, self.mac, self.serial)
        # a namespace of its own: the guest's processes carry the test's suffix
        # (leftover checks) and QEMU has no network but the vhost-user socket
        self.ns = switch.add_ns(role)
        with open(self.log, "w") as lf:
            # killed with the test's process even when that dies by SIGKILL:
            # reconnect=1 would otherwise keep an orphaned QEMU alive for good
            self.proc = switch.spawn(self.ns, argv, stdout=lf, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)

    def text(self):
        return self.serial.read_text(errors="replace")

    def wait_line(self, pattern, timeout, start=0):
        """The first match of pattern in the serial output after offset start."""
        rx = re.compile(pattern)

        def check():
            m = rx.search(self.text(), start)
            if m is None and self.proc.poll() is not None:
                raise AssertionError(f"QEMU {self.role} exited {self.proc.returncode} "
                                     f"waiting for {pattern!r}:\n{self.tail()}")
            return m
        return wait_for(check, timeout, interval=0.2, what=f"guest {self.role}: {pattern}")

    def tail(self):
        return (self.log.read_text(errors="replace")[-1500:] + "\n--- serial:\n"
                + self.text()[-3000:])

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def _show(switch, name):
    return switch.ctl("port", "show", name)["ports"][0]


def _avg(st, d):
    return st[f"{d}_bytes"] / max(1, st[f"{d}_packets"])


@pytest.mark.serial  # two TCG guests load both CPUs for 20-70 s; TSO sizes follow the pacing
def test_qemu_guests_ping_tso_across_and_reconnect(switch):
    """Two QEMU guests ping each other, then a runs an iperf3 TCP stream to b for
    2 s with the guests' offloads on: the stream delivers, and vm1 rx / vm2 tx
    count frames larger than the MTU (TSO frames crossing whole) with no
    software segmentation. Then xvsd is killed (-9) and started: both QEMUs
    connect again by themselves (reconnect=1), and a's pings to b come back."""
    need_tool("iperf3")
    _image()  # skip before touching the switch
    s1, s2 = switch.tmp / "vm1.sock", switch.tmp / "vm2.sock"
    switch.ctl("port", "add", "vm1", "vhost", f"path={s1}")
    switch.ctl("port", "add", "vm2", "vhost", f"path={s2}")
    b_ip, a_ip = "10.77.0.2", "10.77.0.1"
    b = Vm(switch, "qb", 0x62, s2, f"{b_ip}/24", "iperf3 -s -1; sleep 600")
    # a waits for b (ping until it answers), pings 3 times, streams 2 s and
    # prints the iperf3 JSON as one base64 line (the console is line-based),
    # then pings b every 0.3 s, one line per answer, until killed
    a_cmd = (f"i=0; until ping -c 1 -W 1 {b_ip} >/dev/null; do i=$((i+1)); "
             f"[ $i -ge 90 ] && exit 9; done; "
             f"ping -c 3 -i 0.2 {b_ip} || exit 8; sleep 0.5; "
             f"iperf3 -c {b_ip} -t 2 -J > /tmp/j; rc=$?; "
             f"echo XVS-JSON $(base64 /tmp/j | tr -d '\\n'); echo XVS-STREAMED rc=$rc; "
             f"n=0; while true; do ping -c 1 -W 1 {b_ip} >/dev/null && "
             f"{{ n=$((n+1)); echo XVS-PONG $n; }}; sleep 0.3; done")
    a = Vm(switch, "qa", 0x61, s1, f"{a_ip}/24", a_cmd)
    try:
        for n in ("vm1", "vm2"):
            _wait_link(switch, n, 60)
        # read while both guests run: the link (and port show) follows them
        p1, p2 = _show(switch, "vm1"), _show(switch, "vm2")
        m = a.wait_line(r"XVS-STREAMED rc=(\d+)", 120)
        assert m.group(1) == "0", f"guest a's iperf3 failed:\n{a.tail()}"
        st = switch.stats()
        text = a.text()

        switch.kill9()
        mark = len(a.text())
        switch.start()
        for n in ("vm1", "vm2"):
            _wait_link(switch, n, 30)
        a.wait_line(r"XVS-PONG \d+\s+XVS-PONG \d+", 30, start=mark)
        assert switch.stats("vm1")["rx_packets"] > 0
    finally:
        a.kill()
        b.kill()
    assert "3 packets transmitted, 3 packets received" in text, text[-2000:]
    m = re.search(r"XVS-JSON (\S+)", text)
    assert m, text[-2000:]
    got = json.loads(base64.b64decode(m.group(1)))["end"]["sum_received"]["bytes"]
    assert got > 1_000_000, got
    # what virtio_net negotiated: TSO and checksum offload both ways
    assert {"csum", "host_tso4"} <= set(p1["vhost_offloads"].split(",")), p1
    assert {"guest_csum", "guest_tso4", "mrg_rxbuf"} <= set(p2["vhost_offloads"].split(",")), p2
    for n in ("vm1", "vm2"):
        for d in ("bad_offload", "bad_l3_len", "offload_failed", "oversize", "tx_oversize"):
            assert st[n]["drops"][d] == 0, (n, st[n])
    # TSO frames crossed whole: average frame from a and to b well above the
    # MTU, and xvs cut none of them
    assert _avg(st["vm1"], "rx") > 4 * MTU, st["vm1"]
    assert _avg(st["vm2"], "tx") > 4 * MTU, st["vm2"]
    assert st["vm2"]["tx_gso_segments"] == 0, st["vm2"]


def _wait_link(switch, name, timeout):
    wait_for(lambda: switch.ports()[name]["link"] == "up", timeout, interval=0.2,
             what=f"{name} link up (QEMU connected, virtio_net driver started)")
