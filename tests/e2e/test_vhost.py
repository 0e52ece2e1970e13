# SPDX-License-Identifier: BSD-3-Clause
"""vhost-user: dpdk-testpmd on virtio-user plays the guest.

   ns g: dpdk-testpmd --vdev net_virtio_user0,path=tmp/vm1.sock   (--forward-mode=macswap)
              | vhost-user (xvsd is the server)
  +-----------+---------------------+
  |  vm1 (vhost)         a (tap)    |     ns a: [a] scapy sends to an unknown MAC M,
  |       xvsd (ns xe<sfx>sw)       |           sniffs the echo coming back from M
  +---------------------------------+

a -> M is flooded to vm1; testpmd swaps the MACs and sends it back, so the
switch learns M on vm1 and forwards the echo to a.

Restarts (guest.py's Guest: testpmd that can be killed and started again):

   ns g: testpmd icmpecho (answers ARP and ping for any address)
   ns g: testpmd io between virtio-user and a kernel tap [g0] (the guest's
         own stack pings through it)
              | vhost-user: xvsd server (virtio-user client) or xvsd client
              | (virtio-user server=1)
   vm1 (vhost) + a (tap, ns a) in xvsd; xvsd killed (-9) or stopped and started,
   the guest killed and started: the link state follows, traffic comes back.
"""
import os
import socket
import struct
import subprocess
import sys
import time

import pytest

from conftest import CtlError, iperf3_received, need_tool, nsrun, scapy_or_skip, wait_for
from guest import Guest


def _wait_line(path, text, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if text in path.read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


def test_vhost_user_guest_testpmd_macswap(switch):
    """xvsd listens on the socket (server mode, the default); the guest connects."""
    _macswap_echo(switch, client=False)


def test_vhost_user_client_mode(switch):
    """The guest side owns the socket (as QEMU does with server=on); xvsd connects
    to it with client=on."""
    _macswap_echo(switch, client=True)


def test_vhost_user_jumbo_frames(switch):
    """mtu=9000 on both sides: 8000-byte frames from a jumbo tap reach the guest (xvs
    enqueues a 64 KB-buffer frame into mergeable rx buffers) and come back (the vhost
    library dequeues them into chains of 2 KB mbufs), whole."""
    _macswap_echo(switch, client=False, size=8000)


def test_vhost_user_jumbo_frames_to_afpacket(switch):
    """The same between the guest and an AF_PACKET uplink (mtu 9000 on the veth): the
    echo leaves through a port without offloads, which sends one mbuf per frame; a
    chain of 2 KB mbufs from the vhost side could not be made one and was dropped
    (offload_failed)."""
    _macswap_echo(switch, client=False, size=8000, uplink=True)


def _add_vhost_port(switch, vsock, client, opts=()):
    args = ["port", "add", "vm1", "vhost", f"path={vsock}", *opts] + \
        (["client=on"] if client else [])
    r = switch.ctl(*args)
    assert r["state"] == "up" and r["kind"] == "vhost"
    assert r["options"]["client"] == ("true" if client else "false")


def _macswap_echo(switch, client, size=0, uplink=False):
    testpmd = need_tool("dpdk-testpmd")
    scapy_or_skip()
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    vsock = switch.tmp / "vm1.sock"
    mtu = ["mtu=9000"] if size else []
    # jumbo: one 10 KB mbuf per frame in the guest, and its MTU raised to match
    jumbo = ["--mbuf-size=10240", "--max-pkt-len=9018"] if size else []
    if not client:
        _add_vhost_port(switch, vsock, client, mtu)
    if uplink:
        a = switch.uplink("a", ipv6=False, add_port=False)
        a.run(["ip", "link", "set", "dev", a.ifname, "mtu", "9000"])
        nsrun(switch.ns, ["ip", "link", "set", "dev", a.sw_ifname, "mtu", "9000"])
        switch.ctl("port", "add", "a", "afpacket", f"ifname={a.sw_ifname}", *mtu)
    else:
        a = switch.vm("a", ipv6=False, opts=mtu)
    gns = switch.add_ns("g")
    prefix = f"xe{switch.names.sfx}tp"
    switch.dpdk_prefixes.append(prefix)
    guest_mac = switch.names.mac(0x77)
    log = switch.tmp / "testpmd.log"
    # 2 CPUs: the forwarding lcore (1) shares CPU 1 with xvsd's worker; the main
    # lcore only waits for "enter".
    with open(log, "w") as lf:
        # stdbuf: testpmd's stdout is a file, and "Press enter to exit" must not sit
        # in a stdio buffer
        tp = switch.spawn(gns, ["stdbuf", "-oL", testpmd, "-l", "0,1", "--no-huge",
                                "-m", "512", "--no-pci", "--file-prefix", prefix,
                                "--single-file-segments",
                                "--vdev", f"net_virtio_user0,path={vsock},queues=1,"
                                          f"mac={guest_mac}" + (",server=1" if client else ""),
                                "--", "--forward-mode=macswap", "--auto-start",
                                "--nb-cores=1", "--total-num-mbufs=4096", "--txd=256",
                                "--rxd=256", *jumbo],
                          stdin=subprocess.PIPE, stdout=lf, stderr=subprocess.STDOUT)
    try:
        if client:
            # virtio-user in server mode creates the socket and waits for xvsd
            assert wait_for(lambda: vsock.exists() or tp.poll() is not None, 30,
                            what="guest socket"), log.read_text(errors="replace")[-2000:]
            _add_vhost_port(switch, vsock, client, mtu)
        assert _wait_line(log, "Press enter to exit", tp, 30), \
            "testpmd did not start:\n" + log.read_text(errors="replace")[-3000:]
        m = "02:77:77:77:77:01"
        frames = [Ether(src=a.mac, dst=m) / IP(src=a.ip4, dst="10.77.0.77") / UDP(dport=9) /
                  f"vhost-{i:03d}".encode().ljust(size, b".") for i in range(20)]
        before = switch.stats("vm1")
        sn = a.sniff(src=[m], count=20, seconds=10)
        a.send(frames, gap=0.01)
        got = sn.stop(grace=0.5)
        after = switch.stats("vm1")
        payloads = sorted(bytes(Ether(f)[UDP].payload)[:9] for f in got)
        assert len(got) == 20, f"{len(got)} echoes of 20: {payloads[:2]} {switch.stats()}"
        assert {len(f) for f in got} == {len(frames[0])}, sorted({len(f) for f in got})
        assert payloads == sorted(f"vhost-{i:03d}".encode() for i in range(20))
        assert after["tx_packets"] - before["tx_packets"] >= 20, after
        assert after["rx_packets"] - before["rx_packets"] >= 20, after
        e = wait_for(lambda: switch.fdb_entry(m), 2, what="echo source learned")
        assert e["port"] == "vm1"
        assert after["drops"]["tx_full"] == before["drops"]["tx_full"]
        assert switch.stats("a")["drops"]["offload_failed"] == 0
    finally:
        _testpmd_stop(tp)
    assert tp.returncode == 0, log.read_text(errors="replace")[-2000:]
    # the guest went away: the port stays, and the switch keeps working
    assert switch.ports()["vm1"]["state"] == "up"


# ---------------------------------------------------------------- restarts

GUEST_IP = "10.77.0.200"


def _link(switch):
    return switch.ports()["vm1"]["link"]


def _wait_link(switch, state, timeout=30):
    wait_for(lambda: _link(switch) == state, timeout, interval=0.2,
             what=f"vm1 link {state}")


def _ping_guest(a, timeout=40):
    """a pings the icmpecho guest until one answer comes back: traffic resumed
    without anybody touching the switch."""
    wait_for(lambda: a.ping(GUEST_IP, count=1, check=False).returncode == 0, timeout,
             interval=0.2, what=f"a -> guest {GUEST_IP} ping")


def _vhost_port(switch, vsock, client):
    switch.ctl("port", "add", "vm1", "vhost", f"path={vsock}", *(["client=on"] if client else []))


def test_vhost_server_link_follows_guest_restarts(switch):
    """xvsd listens; the guest comes, crashes and comes back: link down/up in
    port list, and pings flow again each time."""
    vsock = switch.tmp / "vm1.sock"
    _vhost_port(switch, vsock, client=False)
    assert _link(switch) == "down"
    a = switch.vm("a", ipv6=False)
    g = Guest(switch, "g", vsock, fwd="icmpecho").start()
    _wait_link(switch, "up")
    _ping_guest(a)
    for _ in range(2):
        g.kill()
        _wait_link(switch, "down")
        g.start()
        _wait_link(switch, "up")
        _ping_guest(a)
    assert switch.ports()["vm1"]["rx_interrupts"]
    assert g.stop() == 0


def test_vhost_server_xvsd_kill9_with_guest_attached(switch):
    """kill -9 leaves xvsd's listening socket file behind. The restarted xvsd
    must take the path over as on a clean start: port up, with its rx
    interrupts (a failed first configure cost them), and a guest that
    connects again gets traffic. (virtio-user as a client does not reconnect
    by itself, QEMU's reconnect= does: the guest is restarted here.)"""
    vsock = switch.tmp / "vm1.sock"
    _vhost_port(switch, vsock, client=False)
    a = switch.vm("a", ipv6=False)
    g = Guest(switch, "g", vsock, fwd="icmpecho").start()
    _ping_guest(a)
    fresh = switch.ports()["vm1"]
    switch.kill9()
    assert vsock.exists()
    switch.start()
    switch.reconfigure_hosts()
    p = switch.ports()["vm1"]
    assert p["state"] == "up" and p["link"] == "down", p
    assert p["rx_interrupts"] == fresh["rx_interrupts"] is True, p
    assert "failed to bind" not in switch.xvsd.log_text()
    g.kill()
    g.start()
    _wait_link(switch, "up")
    _ping_guest(a)
    # and a clean restart under an attached guest
    switch.restart()
    g.kill()
    g.start()
    _wait_link(switch, "up")
    _ping_guest(a)
    assert g.stop() == 0


def test_vhost_client_mode_survives_restarts_on_both_sides(switch):
    """The guest owns the socket (virtio-user server=1, QEMU's server=on); xvsd
    connects (client=on). xvsd killed or stopped and started, the guest
    killed and started: each side reconnects by itself, traffic resumes and
    the link follows."""
    vsock = switch.tmp / "vm1.sock"
    a = switch.vm("a", ipv6=False)
    g = Guest(switch, "g", vsock, server=True, fwd="icmpecho").start(wait=False)
    _vhost_port(switch, vsock, client=True)
    g.wait_running()
    _wait_link(switch, "up")
    _ping_guest(a)
    switch.kill9()
    switch.start()
    switch.reconfigure_hosts()
    _wait_link(switch, "up")
    _ping_guest(a)
    switch.restart()
    _wait_link(switch, "up")
    _ping_guest(a)
    g.kill()
    _wait_link(switch, "down")
    g.start(wait=False)
    _wait_link(switch, "up")
    _ping_guest(a)
    assert switch.ports()["vm1"]["state"] == "up"
    assert g.stop() == 0


def test_vhost_idle_worker_wakes_on_new_kick_fd_after_guest_restart(switch):
    """After the guest reconnects, its queues have new kick eventfds. The
    worker, asleep, must wake on the new one: the guest's own pings (sent
    through testpmd into virtio-user while the worker sleeps) show up as rx
    events of vm1, i.e. wake-ups from its kick fd, not from a timer."""
    vsock = switch.tmp / "vm1.sock"
    _vhost_port(switch, vsock, client=False)
    a = switch.vm("a", ipv6=False)
    gtap = switch.names.dev("g0")
    g = Guest(switch, "g", vsock, tap=gtap, mac=switch.names.mac(0x71)).start()
    g.kill()
    g.start()
    _wait_link(switch, "up")
    g.sw_run(["ip", "link", "set", gtap, "up"])
    g.sw_run(["ip", "addr", "replace", f"{GUEST_IP}/24", "dev", gtap])
    wait_for(lambda: g.sw_run(["ping", "-c", "1", "-W", "1", a.ip4], check=False).returncode == 0,
             30, interval=0.2, what="guest -> a ping")
    time.sleep(0.5)  # everything quiet: the worker sleeps
    before = switch.stats("vm1")["rx_events"]
    r = g.sw_run(["ping", "-q", "-c", "5", "-i", "0.3", "-W", "2", a.ip4], check=False)
    after = switch.stats("vm1")["rx_events"]
    assert r.returncode == 0, r.stdout
    assert after > before, f"no kick woke the worker: rx_events {before} -> {after}"
    assert g.stop() == 0


def _eventfd_counts(pid):
    """{fd: count} of every eventfd of pid (fdinfo reads it without taking it)"""
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:[eventfd]":
                continue
            for line in open(f"/proc/{pid}/fdinfo/{fd}"):
                if line.startswith("eventfd-count:"):
                    out[fd] = int(line.split()[1], 16)
        except OSError:
            pass
    return out


def test_vhost_busy_worker_takes_no_guest_kicks(switch, tmp_path):
    """A worker that polls a guest's queue turns the guest's kicks off (each is
    an eventfd write in the guest per burst it sends), also one that slept
    with the queue armed, was woken by a new snapshot (which skips the
    disarm) and never went idle again: PVP's setup, where the pcap port added
    last keeps the worker busy for good. Kicks counted on the kick eventfd
    that xvsd holds (nobody reads it: fdinfo shows every kick)."""
    scapy_or_skip()
    from scapy.all import Ether, IP, UDP, wrpcap
    vsock = switch.tmp / "vm1.sock"
    _add_vhost_port(switch, vsock, client=False)
    tp, log = _testpmd(switch, "g", [f"net_virtio_user0,path={vsock},queues=1"],
                       ["--forward-mode=macswap", "--total-num-mbufs=2048"])
    try:
        _wait_link_of(switch, "vm1")
        m, src = "02:77:77:77:77:03", "02:77:77:77:77:04"
        switch.ctl("fdb", "add", m, "vlan=1", "port=vm1")
        pcap = tmp_path / "to_guest.pcap"
        wrpcap(str(pcap), [Ether(src=src, dst=m) / IP(src="10.77.0.1", dst="10.77.0.2") /
                           UDP(sport=1000 + i, dport=9) for i in range(32)])
        time.sleep(0.5)  # no traffic: the worker arms vm1's queue and sleeps
        switch.ctl("port", "add", "p1", "pcap", f"path={pcap}", "infinite=on")
        # the guest echoes the frames (macswap) into vm1 for good
        wait_for(lambda: switch.stats("vm1")["rx_packets"] > 10000, 10,
                 what="the guest's echoes")
        time.sleep(0.2)
        k0 = _eventfd_counts(switch.xvsd.pid)
        r0 = switch.stats("vm1")["rx_packets"]
        time.sleep(1)
        k1 = _eventfd_counts(switch.xvsd.pid)
        r1 = switch.stats("vm1")["rx_packets"]
        switch.ctl("port", "del", "p1")
    finally:
        rc = _testpmd_stop(tp)
    assert rc == 0, log.read_text(errors="replace")[-2000:]
    kicks = max(k1[fd] - k0[fd] for fd in k1 if fd in k0)
    assert r1 - r0 > 1000, (r0, r1)
    assert kicks < 10, f"{kicks} kicks in 1 s while the worker polled ({r1 - r0} frames)"


# ---------------------------------------------------------------- offloads, multiqueue
#
#   ns a [a] --tap, vlan 10--+                         +--vlan 20, tap or afpacket-- [b] ns b
#                            |  xvsd                   |
#                 vm1 (vhost, vlan 10)        vm2 (vhost, vlan 20)
#                            |                         |
#   ns g: dpdk-testpmd --forward-mode=csum, virtio-user port 0 (vm1) <-> port 1 (vm2)
#
# The VLANs put the guest in the path: a reaches b only through vm1 -> guest
# -> vm2. With offloads on, the guest negotiates LRO (GUEST_TSO4/6, GUEST_CSUM)
# on port 0 and TSO (HOST_TSO4/6, CSUM) on port 1, where `tso set` makes it send
# every TCP frame it forwards as a TSO request: a's 64 KB frames reach the
# guest whole, leave it whole, and reach b whole (tap) or cut by xvs (afpacket).

def _testpmd(switch, role, vdevs, args, cmds=()):
    testpmd = need_tool("dpdk-testpmd")
    ns = switch.add_ns(role)
    prefix = f"xe{switch.names.sfx}{role}"
    switch.dpdk_prefixes.append(prefix)
    log = switch.tmp / f"testpmd-{role}.log"
    argv = ["stdbuf", "-oL", testpmd, "-l", "0,1", "--no-huge", "-m", "512", "--no-pci",
            "--file-prefix", prefix, "--single-file-segments"]
    for v in vdevs:
        argv += ["--vdev", v]
    argv += ["--", "--auto-start", "--nb-cores=1", "--txd=512", "--rxd=512", *args]
    if cmds:
        f = switch.tmp / f"testpmd-{role}.cmds"
        f.write_text("\n".join(cmds) + "\n")
        argv.append(f"--cmdline-file={f}")
    with open(log, "w") as lf:
        tp = switch.spawn(ns, argv, stdin=subprocess.PIPE, stdout=lf, stderr=subprocess.STDOUT)
    if not _wait_line(log, "Press enter to exit", tp, 30):
        _testpmd_stop(tp)
        raise AssertionError("testpmd did not start:\n" + log.read_text(errors="replace")[-3000:])
    return tp, log


def _testpmd_stop(tp):
    if tp.poll() is None:
        try:
            tp.stdin.write(b"\n")
            tp.stdin.flush()
            tp.wait(15)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            tp.kill()
            tp.wait()
    return tp.returncode


def _avg(st, d):
    return st[f"{d}_bytes"] / max(1, st[f"{d}_packets"])


@pytest.mark.parametrize("guest_ol,peer", [("on", "tap"), ("on", "afpacket"), ("off", "tap"),
                                           ("on", "tap-qos")])
def test_vhost_tso_frames_cross_a_guest(switch, guest_ol, peer):
    """A TCP stream from a tap VM through a testpmd guest to b. Offloads on: the
    64 KB frames are counted as one frame each into the guest (vm1 tx), out of
    it (vm2 rx) and, to a tap, out of the switch; to an AF_PACKET uplink xvs
    cuts and checksums them (b's kernel accepts them: the stream runs).
    Offloads off in the guest: xvs cuts a's frames for vm1, and all works.
    tap-qos: vm1 has qos=on; its frames are queued and sent later by the QoS
    owner, when the guest that took the offloads may have gone and one that
    did not may have come: xvs cuts them for vm1 as for a guest without."""
    need_tool("iperf3")
    on = guest_ol == "on"
    qos = peer == "tap-qos"
    peer = "tap" if qos else peer
    a = switch.vm("a", ipv6=False, vlan=10)
    if peer == "tap":
        b = switch.vm("b", ipv6=False, vlan=20)
    else:
        b = switch.uplink("b", ipv6=False, opts=["vlan=20"])
    s1, s2 = switch.tmp / "vm1.sock", switch.tmp / "vm2.sock"
    switch.ctl("port", "add", "vm1", "vhost", f"path={s1}", "vlan=10")
    switch.ctl("port", "add", "vm2", "vhost", f"path={s2}", "vlan=20")
    if qos:
        switch.ctl("port", "set", "vm1", "qos=on", "link-rate=10G")
    # csum forwarding writes the peer's MAC as destination (and its port's
    # as source), as a router would
    args = ["--forward-mode=csum", "--total-num-mbufs=16384", f"--eth-peer=0,{a.mac}",
            f"--eth-peer=1,{b.mac}"]
    cmds = ()
    if on:
        # rx: TCP/UDP checksum + LRO (GUEST_CSUM, GUEST_TSO4/6); tx: TCP/UDP
        # checksum + TSO (CSUM, HOST_TSO4/6)
        args += ["--rx-offloads=0x1c", "--tx-offloads=0x2c"]
        cmds = ("port stop 1", "tso set 1448 1", "port start 1")
    tp, log = _testpmd(switch, "g", [f"net_virtio_user0,path={s1},queues=1",
                                     f"net_virtio_user1,path={s2},queues=1"], args, cmds)
    try:
        _wait_link_of(switch, "vm1")
        _wait_link_of(switch, "vm2")
        p1, p2 = _show(switch, "vm1"), _show(switch, "vm2")
        if on:
            assert {"guest_csum", "guest_tso4", "guest_tso6", "mrg_rxbuf"} <= \
                set(p1["vhost_offloads"].split(",")), p1
            assert {"csum", "host_tso4", "host_tso6"} <= set(p2["vhost_offloads"].split(",")), p2
        else:
            assert not {"guest_tso4", "host_tso4", "csum"} & set(p1["vhost_offloads"].split(",")), p1
        a.ping(b, count=1, deadline=10)
        got = iperf3_received(switch, a, b, secs=2)
    finally:
        rc = _testpmd_stop(tp)
    assert rc == 0, log.read_text(errors="replace")[-2000:]
    assert got > 1_000_000, got
    st = switch.stats()
    for n in ("vm1", "vm2", "a", "b"):
        for d in ("bad_offload", "bad_l3_len", "offload_failed", "oversize", "tx_oversize"):
            assert st[n]["drops"][d] == 0, (n, st[n])
    if qos:
        assert st["vm1"]["tx_gso_segments"] > 0 and _avg(st["vm1"], "tx") < 1600, st["vm1"]
    elif on:
        # TSO frames counted as one: into the guest and out of it. How large
        # they are follows the sender's pacing (7,400 bytes on average once,
        # on a loaded host); cut ones would average under 1,600.
        assert _avg(st["vm1"], "tx") > 4 * 1500 and st["vm1"]["tx_gso_segments"] == 0, st["vm1"]
        assert _avg(st["vm2"], "rx") > 4 * 1500, st["vm2"]
        if peer == "tap":
            assert _avg(st["b"], "tx") > 4 * 1500 and st["b"]["tx_gso_segments"] == 0, st["b"]
        else:
            assert st["b"]["tx_gso_segments"] > 0, st["b"]
    else:
        assert st["vm1"]["tx_gso_segments"] > 0 and _avg(st["vm1"], "tx") < 1600, st["vm1"]
        assert _avg(st["vm2"], "rx") < 1600, st["vm2"]


def _show(switch, name):
    return switch.ctl("port", "show", name)["ports"][0]


def _wait_link_of(switch, name, timeout=30):
    wait_for(lambda: switch.ports()[name]["link"] == "up", timeout, interval=0.2,
             what=f"{name} link up")


def test_vhost_multiqueue_spreads_by_toeplitz(switch_unstarted):
    """A guest with 2 queue pairs on a port with queues=2: xvs polls 2 rx
    queues, placed on the 2 workers like any port's queues (rss-profile=static:
    one each), and spreads frames to the guest over its 2 rx queues by the
    Toeplitz hash of the port's RSS key (entry hash mod 128 of a table
    0,1,0,1...). testpmd (macswap) answers each frame on the queue it came
    in, so vm1's rx queue counters show the spread: checked flow by flow
    against the hash computed here."""
    scapy_or_skip()
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "scripts"))
    from rss_split import DEFAULT_KEY, toeplitz

    switch = switch_unstarted
    switch.xvsd.extra = ["--workers", "2", "--cpus", "0,1"]
    switch.start()
    vsock = switch.tmp / "vm1.sock"
    switch.ctl("port", "add", "vm1", "vhost", f"path={vsock}", "queues=2", "rss-profile=static")
    a = switch.vm("a", ipv6=False)
    tp, log = _testpmd(switch, "g", [f"net_virtio_user0,path={vsock},queues=2"],
                       ["--forward-mode=macswap", "--rxq=2", "--txq=2",
                        "--total-num-mbufs=4096"])
    try:
        _wait_link_of(switch, "vm1")
        wait_for(lambda: switch.stats("vm1")["dev_guest_tx_queues"] == 2, 10,
                 what="both guest rx queues enabled")
        show = _show(switch, "vm1")
        assert show["rx_queues"] == 2 and show["vhost_queue_pairs"] == "2", show
        qs = switch.ctl("queue", "show", "vm1")["queues"]
        assert sorted(q["worker"] for q in qs) == [0, 1], qs
        m = "02:77:77:77:77:02"
        dst = "10.77.0.99"
        want = [0, 0]
        frames = []
        for sport in range(1000, 1064):
            frames.append(Ether(src=a.mac, dst=m) / IP(src=a.ip4, dst=dst) /
                          UDP(sport=sport, dport=9) / b"mq")
            h = toeplitz(DEFAULT_KEY, socket.inet_aton(a.ip4) + socket.inet_aton(dst) +
                         struct.pack("!HH", sport, 9))
            want[(h & 127) % 2] += 1
        assert min(want) > 0, want
        before = {q["queue"]: q["rx_packets"] for q in switch.ctl("queue", "show", "vm1")["queues"]}
        sn = a.sniff(src=[m], count=len(frames), seconds=10)
        a.send(frames, gap=0.005)
        got = sn.stop(grace=0.5)
        assert len(got) == len(frames), (len(got), switch.stats("vm1"))
        after = {q["queue"]: q["rx_packets"] for q in switch.ctl("queue", "show", "vm1")["queues"]}
        seen = [after[q] - before[q] for q in (0, 1)]
        assert seen == want, f"per queue: seen {seen}, by the hash {want}"
    finally:
        rc = _testpmd_stop(tp)
    assert rc == 0, log.read_text(errors="replace")[-2000:]


def test_vhost_guest_queue_pairs_beyond_queues_are_shown(switch):
    """A guest with 2 queue pairs on a port with the default queues=1: lib vhost
    cannot cap the pairs it offers, and what the guest sends on pair 1 is never
    read. That is visible in port show (vhost_unpolled_queue_pairs), port stats
    (dev_guest_queue_pairs_unpolled) and the log, and gone once the guest left;
    queue pair 0 still carries traffic."""
    vsock = switch.tmp / "vm1.sock"
    switch.ctl("port", "add", "vm1", "vhost", f"path={vsock}")
    tp, log = _testpmd(switch, "g", [f"net_virtio_user0,path={vsock},queues=2"],
                       ["--forward-mode=macswap", "--rxq=2", "--txq=2",
                        "--total-num-mbufs=4096"])
    try:
        _wait_link_of(switch, "vm1")
        wait_for(lambda: switch.stats("vm1")["dev_guest_queue_pairs_unpolled"] == 1, 10,
                 what="pair 1 counted unpolled")
        show = _show(switch, "vm1")
        assert show["rx_queues"] == 1 and show["vhost_queue_pairs"] == "2", show
        assert show["vhost_unpolled_queue_pairs"] == "1", show
        assert switch.stats("vm1")["dev_guest_queue_pairs_unpolled"] == 1
        assert "what it sends on queues 1..1 is never read" in switch.xvsd.log_text()
    finally:
        rc = _testpmd_stop(tp)
    assert rc == 0, log.read_text(errors="replace")[-2000:]
    _wait_link(switch, "down")
    assert _show(switch, "vm1")["vhost_unpolled_queue_pairs"] == "0"
    assert switch.stats("vm1")["dev_guest_queue_pairs_unpolled"] == 0


def test_vhost_fdset_limit_refuses_the_port_that_would_overfill_it(switch_unstarted, monkeypatch):
    """lib vhost watches every vhost-user socket in one fdset (1023 usable
    entries in 22.11): a server port needs 2 once its guest connects (listen +
    connection), a client port 1. With the limit lowered to 7, 3 server ports
    (6) and 1 client port (7) fit; a 4th server port or a 2nd client port is
    refused with one clear error and nothing else changes. Without the check,
    lib vhost silently drops the connections beyond the limit."""
    monkeypatch.setenv("XVS_VHOST_FDSET_MAX", "7")
    sw = switch_unstarted
    sw.start()
    for i in range(3):
        sw.ctl("port", "add", f"s{i}", "vhost", f"path={sw.tmp / f's{i}.sock'}")
    sw.ctl("port", "add", "c0", "vhost", f"path={sw.tmp / 'c0.sock'}", "client=on")
    show = sw.show()
    assert (show["vhost_fdset_reserved"], show["vhost_fdset_max"]) == (7, 7), show
    assert show["vhost_fdset_used"] == 3, show       # 3 listen sockets, no guest
    for args in (["s3", "vhost", f"path={sw.tmp / 's3.sock'}"],
                 ["c1", "vhost", f"path={sw.tmp / 'c1.sock'}", "client=on"]):
        with pytest.raises(CtlError) as e:
            sw.ctl("port", "add", *args)
        assert "socket set is full: 7 of 7" in str(e.value), e.value
    assert sorted(sw.ports()) == ["c0", "s0", "s1", "s2"]
    assert not (sw.tmp / "s3.sock").exists()
    # a deleted server port gives back its 2 entries
    sw.ctl("port", "del", "s0")
    sw.ctl("port", "add", "c1", "vhost", f"path={sw.tmp / 'c1.sock'}", "client=on")
    assert sw.show()["vhost_fdset_reserved"] == 6
