# SPDX-License-Identifier: BSD-3-Clause
"""A vhost-user guest for the e2e tests: dpdk-testpmd on virtio-user, in a
namespace of its own, that can be started, killed and started again.

  fwd="macswap": echoes every frame with its MAC addresses swapped.
  fwd="icmpecho": answers ARP and ping for any address, with mac= as its MAC.
  tap=NAME: a second testpmd port, a kernel tap NAME in the guest's namespace,
            and io forwarding between the two: the namespace's kernel is then
            the guest's network stack (it pings, the frames leave through
            virtio-user), like a VM's.

server=True makes virtio-user create the socket (QEMU's server=on): xvsd
connects to it with a `client=on` vhost port, and reconnects when either side
restarts.
"""
import signal
import subprocess
import time

from conftest import need_tool, wait_for


class Guest:
    def __init__(self, switch, role, vsock, *, server=False, fwd="macswap", mac=None, tap=None):
        self.sw, self.vsock, self.server, self.fwd, self.tap = switch, vsock, server, fwd, tap
        self.testpmd = need_tool("dpdk-testpmd")
        self.ns = switch.add_ns(role)
        self.prefix = f"xe{switch.names.sfx}{role}"
        switch.dpdk_prefixes.append(self.prefix)
        self.mac = mac or switch.names.mac(0x70)
        self.log = switch.tmp / f"testpmd-{role}.log"
        self.proc = None
        self.starts = 0

    def argv(self):
        vdev = f"net_virtio_user0,path={self.vsock},queues=1,mac={self.mac}"
        if self.server:
            vdev += ",server=1"
        argv = ["stdbuf", "-oL", self.testpmd, "-l", "0,1", "--no-huge", "-m", "256",
                "--no-pci", "--file-prefix", self.prefix, "--single-file-segments",
                "--vdev", vdev]
        if self.tap:
            argv += ["--vdev", f"net_tap0,iface={self.tap}"]
        return argv + ["--", f"--forward-mode={'io' if self.tap else self.fwd}", "--auto-start",
                       "--nb-cores=1", "--total-num-mbufs=2048", "--txd=256", "--rxd=256"]

    def start(self, wait=True):
        """Spawn testpmd. wait: until it forwards (for a server-mode guest, that
        needs xvsd connected; use wait_socket() first and wait later)."""
        assert self.proc is None or self.proc.poll() is not None
        self.starts += 1
        with open(self.log, "a") as lf:
            lf.write(f"#### e2e: start {self.starts}\n")
            lf.flush()
            self.proc = self.sw.spawn(self.ns, self.argv(), stdin=subprocess.PIPE, stdout=lf,
                                      stderr=subprocess.STDOUT)
        if self.server:
            wait_for(lambda: self.vsock.exists() or self.proc.poll() is not None, 30,
                     what="guest socket")
        if wait:
            self.wait_running()
        return self

    def wait_running(self, timeout=30):
        """Until this start's testpmd says it forwards."""
        mark = f"#### e2e: start {self.starts}\n"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            if "Press enter to exit" in text[text.rfind(mark):]:
                if self.tap:
                    wait_for(lambda: self.sw_run(["ip", "link", "show", self.tap],
                                                 check=False).returncode == 0, 10,
                             what="guest tap")
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("testpmd did not start:\n" + self.log_tail())

    def sw_run(self, argv, **kw):
        from conftest import nsrun
        return nsrun(self.ns, argv, **kw)

    def kill(self):
        """The guest crashes: SIGKILL, nothing said to the switch."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        if self.server:
            # virtio-user's listening socket file stays behind a killed server
            self.vsock.unlink(missing_ok=True)

    def stop(self):
        """Clean exit ("enter"); returns testpmd's exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        try:
            self.proc.stdin.write(b"\n")
            self.proc.stdin.flush()
            self.proc.wait(15)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def log_tail(self, n=3000):
        return self.log.read_text(errors="replace")[-n:]
